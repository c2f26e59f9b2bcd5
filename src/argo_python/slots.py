"""When every connection slot is taken, close the connections that have been inactive longest.

granian serves at most `max_connections` at once and takes a slot before it accepts, so with
every slot held a new connection waits in the kernel's accept queue, and granian itself never
closes an idle connection to make room. This thread does, from outside granian, by the policy
nginx applies to its idle connections when it runs out of them:

- It waits in poll() for a connection to wait in the listening socket's accept queue; one
  still waiting CHECK_BUSY_S later (its length is one getsockopt) means the server is full,
  or about to be. An idle server wakes it never; a busy one at most once per CHECK_BUSY_S.
- Then it looks at this process's connections to the listener (its file descriptors in
  /proc/self/fd; TCP_INFO says how many ms ago each last received or sent data). If they take
  every slot, it closes, least recently active first, as many as wait in the queue, of those
  that have moved no data for at least MIN_INACTIVE_MS and that it already saw on its previous
  look (so a connection accepted since then, perhaps being answered right now, is never
  closed; CHECK_BUSY_S after closing some it notes the connections that took their slots, by
  inode alone, so that the next look may close those too). Closing is on a duplicate of the
  descriptor: SO_LINGER 0, then shutdown() of the reading side. hyper reads the end of the
  stream, ends the connection and frees its slot, and granian's close() resets it (what
  nginx's reset_timedout_connection does), so no FIN_WAIT state is left in the kernel.
- While connections wait, it looks again every CHECK_BUSY_S, or after as long as its last look
  took if that was longer (about 10 ms for 1,024 connections): at most half the core. After a
  look that closed nothing (every slot busy with clients that keep sending) it waits twice as
  long as the time before, up to MAX_PAUSE_S: about a tenth of the core then.

It uses only the operating system's interfaces, and relies on two things granian 2.8.9 does
(engine.GRANIAN_VERSION), which tests/argo_python/test_connections.py checks with real
sockets: it accepts no connection while every slot is taken, and a connection whose stream
ends frees its slot at once.

What is closed: idle keep-alive connections and connections whose head is incomplete, the ones
a flood holds. A request being computed for longer than MIN_INACTIVE_MS while the server is
full may be closed too: that is load shedding at a moment the server cannot serve everyone.
Linux only (TCP_INFO, /proc); elsewhere nothing runs, and the header-read timeout alone frees
slots.
"""

from __future__ import annotations

import _socket
import os
import stat
import sys
import threading
import time

CHECK_BUSY_S = 0.005
MAX_PAUSE_S = 0.1
MIN_INACTIVE_MS = 50

# struct tcp_info (linux/tcp.h): the first byte is the state; then u32 fields. For a listening
# socket tcpi_unacked is the accept queue's length (tcp_get_info in net/ipv4/tcp.c).
_TCP_INFO_BYTES = 104
_STATE = 0
_UNACKED = slice(24, 28)
_LAST_DATA_SENT = slice(44, 48)
_LAST_DATA_RECV = slice(52, 56)
_LISTEN = 10
_OPEN_STATES = (1, 8)  # ESTABLISHED, CLOSE_WAIT: what holds a slot until granian closes it
_FDS = "/proc/self/fd"
# struct linger {int l_onoff; int l_linger;} = {1, 0}: close() resets the connection.
_LINGER_RESET = (1).to_bytes(4, sys.byteorder) + (0).to_bytes(4, sys.byteorder)


def _u32(info: bytes, field: slice) -> int:
    return int.from_bytes(info[field], sys.byteorder)


def _socket_at(fd: int, family: int) -> tuple[_socket.socket, int] | None:
    """A socket object on a duplicate of `fd` (closing it leaves `fd` open) and the socket's
    inode, or None if `fd` is no socket, or was closed meanwhile. The duplicate pins whatever
    socket `fd` was at that moment."""
    try:
        duplicate = os.dup(fd)
    except OSError:
        return None
    try:
        status = os.fstat(duplicate)
        if stat.S_ISSOCK(status.st_mode):
            return _socket.socket(family, _socket.SOCK_STREAM, 0, duplicate), status.st_ino
    except OSError:
        pass
    os.close(duplicate)
    return None


def _tcp_info(sock: _socket.socket) -> tuple[bytes, int] | None:
    """TCP_INFO and the local port of `sock`, or None if it is not a TCP socket."""
    try:
        info = sock.getsockopt(_socket.IPPROTO_TCP, _socket.TCP_INFO, _TCP_INFO_BYTES)
        return info, sock.getsockname()[1]
    except (OSError, TypeError):  # not TCP; or not of `family`, whose address has another form
        return None
    finally:
        sock.close()


def queued(listener_fd: int, family: int, port: int) -> int:
    """How many connections wait in the accept queue of the listening socket `listener_fd`
    (0 if that is no longer the listening socket on `port`)."""
    found = _socket_at(listener_fd, family)
    tcp = found and _tcp_info(found[0])
    if not tcp or tcp[0][_STATE] != _LISTEN or tcp[1] != port:
        return 0
    return _u32(tcp[0], _UNACKED)


def connections(listener_fd: int, family: int, port: int) -> dict[int, tuple[int, int]]:
    """This process's open connections to `port`: inode -> (fd, ms since data last moved)."""
    open_now: dict[int, tuple[int, int]] = {}
    for name in os.listdir(_FDS):
        fd = int(name)
        found = None if fd == listener_fd else _socket_at(fd, family)
        if found is None:
            continue
        tcp = _tcp_info(found[0])
        if tcp is None or tcp[1] != port or tcp[0][_STATE] not in _OPEN_STATES:
            continue
        open_now[found[1]] = (fd, min(_u32(tcp[0], _LAST_DATA_RECV), _u32(tcp[0], _LAST_DATA_SENT)))
    return open_now


def inodes() -> set[int]:
    """The inodes of every socket this process has open (an fstat per descriptor)."""
    found = set()
    for name in os.listdir(_FDS):
        try:
            status = os.fstat(int(name))
        except OSError:  # closed meanwhile
            continue
        if stat.S_ISSOCK(status.st_mode):
            found.add(status.st_ino)
    return found


def close_if_same(fd: int, family: int, inode: int) -> bool:
    """shutdown() the connection at `fd` if it is still the socket `inode`."""
    found = _socket_at(fd, family)
    if found is None:
        return False
    sock, found_inode = found
    try:
        if found_inode != inode:
            return False
        # Reset when granian closes it, rather than a FIN now: no FIN_WAIT state is left in the
        # kernel (what nginx's reset_timedout_connection does). Shutting down only the reading
        # side wakes hyper with the end of the stream, and hyper closes the connection.
        sock.setsockopt(_socket.SOL_SOCKET, _socket.SO_LINGER, _LINGER_RESET)
        sock.shutdown(_socket.SHUT_RD)
        return True
    except OSError:  # the peer or granian closed it first
        return False
    finally:
        sock.close()


def least_active(
    open_now: dict[int, tuple[int, int]], seen_before: set[int], count: int
) -> list[tuple[int, int]]:
    """Up to `count` (fd, inode) to close: already seen, inactive long enough, longest first."""
    candidates = [
        (inactive, inode, fd)
        for inode, (fd, inactive) in open_now.items()
        if inode in seen_before and inactive >= MIN_INACTIVE_MS
    ]
    candidates.sort(reverse=True)
    return [(fd, inode) for _, inode, fd in candidates[:count]]


class SlotKeeper:
    """The thread that applies the policy above to one listener of one engine."""

    def __init__(self, listener_fd: int, max_connections: int) -> None:
        self._listener_fd = listener_fd
        # Bound already: its port is known even if 0 was asked for. Its connections are of its
        # family (an IPv6 listener's IPv4 clients come as mapped addresses).
        listener = _socket.socket(fileno=os.dup(listener_fd))
        self._family = listener.family
        self._port = listener.getsockname()[1]
        listener.close()
        self._max_connections = max_connections
        self._stopping = threading.Event()
        self._wake_read, self._wake_write = os.pipe()
        self._thread = threading.Thread(target=self._run, name="connection-slots", daemon=True)
        self.closed = 0  # connections closed so far, for tests and benchmarks

    def start(self) -> None:
        if sys.platform == "linux":
            self._thread.start()

    def stop(self) -> None:
        """Stop, before the listener closes: the thread's duplicate of the listening socket
        would keep it open, and the descriptor may be reused after that."""
        self._stopping.set()
        os.write(self._wake_write, b"x")
        if self._thread.is_alive():
            self._thread.join()
        os.close(self._wake_read)
        os.close(self._wake_write)

    def _run(self) -> None:
        import select  # noqa: PLC0415 (only this thread needs it, after start-up)

        # A duplicate, so that poll() never sees a reused descriptor number.
        listener = os.dup(self._listener_fd)
        try:
            poller = select.poll()
            poller.register(listener, select.POLLIN)  # a connection waits to be accepted
            poller.register(self._wake_read, select.POLLIN)
            while not self._stopping.is_set():
                poller.poll()
                # granian accepts most connections within microseconds: only one still waiting
                # after CHECK_BUSY_S says that every slot may be taken.
                if not self._stopping.wait(CHECK_BUSY_S):
                    self._make_room(listener)
        finally:
            os.close(listener)

    def _make_room(self, listener: int) -> None:
        """While connections wait to be accepted, close the least recently active ones."""
        seen: set[int] = set()
        idle_looks = 0
        while waiting := queued(listener, self._family, self._port):
            began = time.monotonic()
            open_now = connections(self._listener_fd, self._family, self._port)
            closed = 0
            if len(open_now) >= self._max_connections:
                for fd, inode in least_active(open_now, seen, waiting):
                    closed += close_if_same(fd, self._family, inode)
            self.closed += closed
            # A look at 1,024 connections takes about 10 ms: at most half the core goes to it.
            # Every slot busy with clients that keep sending: nothing to close, look less often
            # (a first look never closes anything: it has seen nothing before).
            idle_looks = 0 if closed or not seen else min(idle_looks + 1, 8)
            seen = set(open_now)
            pause = min(max(CHECK_BUSY_S, time.monotonic() - began) * 2**idle_looks, MAX_PAUSE_S)
            if closed:
                # The freed slots are taken within a few ms. Noting those connections now (by
                # inode alone, a tenth of a look's cost) lets the next look close them too if
                # they stay inactive, rather than only the one after.
                if self._stopping.wait(CHECK_BUSY_S):
                    return
                seen |= inodes()
                pause -= CHECK_BUSY_S
            if self._stopping.wait(max(pause, 0.0)):
                return
