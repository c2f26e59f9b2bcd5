"""The connection policy of the engine (docs/service.md, "Connections"), with real sockets on
loopback: an engine in this process, with limits small enough to reach in a test and the
service's own settings for everything else."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from tests.argo_python.rawhttp import RawConnection
from tests.argo_python.serverproc import free_port

from argo_python import slots
from argo_python.engine import Engine
from argo_python.server import DEFER_ACCEPT_S, MAX_HEAD_BYTES

PARTIAL_HEAD = b"GET /hello HTTP/1.1\r\nHost: test\r\nX-Slow: "
# Short enough for a test, long enough that loopback never comes near it.
SHORT_TIMEOUT_S = 0.5
# How long a test waits for what must happen at once (a new client's answer).
PROMPT_S = 3.0


def answer_ok(method: str, path: bytes, query: bytes) -> tuple[dict[str, Any], dict[str, Any]]:
    start = {"type": "http.response.start", "status": 200, "headers": [(b"server", b"")]}
    return start, {"type": "http.response.body", "body": b"ok"}


@dataclass
class Limits:
    max_connections: int = 64
    header_read_timeout_s: float = SHORT_TIMEOUT_S
    defer_accept_s: int = DEFER_ACCEPT_S


@contextmanager
def engine(limits: Limits) -> Iterator[int]:
    """A running engine on a free loopback port; stopped, and its stop awaited, on exit."""
    port = free_port()
    served = Engine(
        answer_ok,
        host="127.0.0.1",
        port=port,
        backlog=128,
        max_connections=limits.max_connections,
        header_read_timeout_ms=round(limits.header_read_timeout_s * 1000),
        max_buffer_size=MAX_HEAD_BYTES,
        defer_accept_s=limits.defer_accept_s,
    )
    served.start()
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                assert status_of_new_request(port) == 200
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.02)
        yield port
    finally:
        stopped = threading.Event()
        served.stop(stopped.set)
        assert stopped.wait(10), "the engine did not stop"


def status_of_new_request(port: int, timeout: float = PROMPT_S) -> int:
    with RawConnection(port, timeout=timeout) as conn:
        return conn.exchange("GET", "/hello").status


def seconds_until_closed(sock: socket.socket, timeout: float = 10.0) -> float:
    """Seconds until the server closes `sock` (reads and drops whatever it sends first)."""
    began = time.monotonic()
    sock.settimeout(timeout)
    while sock.recv(65536):
        pass
    return time.monotonic() - began


def held(port: int, count: int, first_bytes: bytes) -> list[socket.socket]:
    sockets = []
    for _ in range(count):
        sock = socket.create_connection(("127.0.0.1", port), timeout=PROMPT_S)
        if first_bytes:
            sock.sendall(first_bytes)
        sockets.append(sock)
    return sockets


@pytest.mark.parametrize(
    "first_bytes",
    [PARTIAL_HEAD, PARTIAL_HEAD + b"x" * (MAX_HEAD_BYTES // 2)],
    ids=["start-of-a-head", "half-the-head-limit"],
)
def test_a_head_that_never_ends_is_closed_at_the_header_read_timeout(first_bytes: bytes) -> None:
    with engine(Limits()) as port, socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(first_bytes)
        waited = seconds_until_closed(sock)
    assert SHORT_TIMEOUT_S * 0.9 <= waited < SHORT_TIMEOUT_S + PROMPT_S


def test_an_idle_keep_alive_connection_is_closed_by_the_same_timer() -> None:
    """hyper has one timer for both: it starts whenever a head is awaited, on a new connection
    and after each response (which is why the Ingress must close idle connections first)."""
    with engine(Limits()) as port, RawConnection(port) as conn:
        assert conn.exchange("GET", "/hello").status == 200
        waited = seconds_until_closed(conn.sock)
    assert SHORT_TIMEOUT_S * 0.9 <= waited < SHORT_TIMEOUT_S + PROMPT_S


def test_silent_connections_take_no_slot_so_a_new_client_is_served_past_the_limit() -> None:
    # Without TCP_DEFER_ACCEPT the silent connections would fill every slot, and the new client
    # would wait for the header-read timeout, far longer than it waits here.
    limits = Limits(max_connections=2, header_read_timeout_s=30)
    with engine(limits) as port:
        silent = held(port, 3 * limits.max_connections, b"")
        try:
            assert status_of_new_request(port) == 200
            # A silent connection that speaks at last is served like any other.
            silent[0].sendall(b"GET /hello HTTP/1.1\r\nHost: test\r\n\r\n")
            assert silent[0].recv(65536).startswith(b"HTTP/1.1 200 ")
        finally:
            for sock in silent:
                sock.close()


def is_open(sock: socket.socket, within: float = 0.05) -> bool:
    """True if the server has not closed `sock` (nothing arrives within `within` seconds)."""
    sock.settimeout(within)
    try:
        return sock.recv(65536, socket.MSG_PEEK) != b""
    except TimeoutError:
        return True
    except ConnectionError:
        return False


def until_closed(sock: socket.socket) -> bool:
    """True once the server closes or resets `sock` within PROMPT_S (any answer before that is
    read)."""
    try:
        return seconds_until_closed(sock, PROMPT_S) < PROMPT_S
    except ConnectionResetError:  # how a connection closed to make room ends
        return True


def answered_request(port: int) -> socket.socket:
    """A keep-alive connection that made one request and read its answer, then went idle."""
    conn = RawConnection(port, timeout=PROMPT_S)
    assert conn.exchange("GET", "/hello").status == 200
    return conn.sock


def partial_head(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=PROMPT_S)
    sock.sendall(PARTIAL_HEAD)
    return sock


# Inactive for longer than that before the server is full, so that they can be chosen.
STAGGER_S = slots.MIN_INACTIVE_MS / 1000 * 1.5


@pytest.mark.parametrize(
    "open_one",
    [partial_head, answered_request],
    ids=["heads-never-finished", "idle-keep-alive"],
)
def test_when_every_slot_is_held_the_least_recently_active_is_closed_for_a_new_client(
    open_one: Callable[[int], socket.socket],
) -> None:
    # The header-read timeout is far away: only the policy can free a slot in time.
    limits = Limits(max_connections=3, header_read_timeout_s=60)
    with engine(limits) as port:
        held = []
        try:
            for _ in range(limits.max_connections):
                held.append(open_one(port))
                time.sleep(STAGGER_S)
            assert status_of_new_request(port) == 200
            oldest, *younger = held
            assert until_closed(oldest)
            assert all(is_open(sock) for sock in younger)
            # The freed slot goes to the next connection; the one after that finds every slot
            # taken again, and the next oldest is closed for it.
            with RawConnection(port, timeout=PROMPT_S) as staying:
                assert staying.exchange("GET", "/hello").status == 200
                assert status_of_new_request(port) == 200
                assert until_closed(younger[0])
                assert is_open(younger[1])
                assert staying.exchange("GET", "/hello").status == 200
        finally:
            for sock in held:
                sock.close()


def test_a_connection_that_keeps_making_requests_is_not_closed_to_make_room() -> None:
    limits = Limits(max_connections=2, header_read_timeout_s=60)
    with engine(limits) as port, RawConnection(port, timeout=PROMPT_S) as busy:
        assert busy.exchange("GET", "/hello").status == 200  # the older of the two
        time.sleep(STAGGER_S)
        idle = partial_head(port)
        try:
            stop = threading.Event()
            newcomer = threading.Thread(
                target=lambda: stop.wait(STAGGER_S) or status_of_new_request(port)
            )
            newcomer.start()
            while newcomer.is_alive():  # busy keeps moving data while the newcomer waits
                assert busy.exchange("GET", "/hello").status == 200
                time.sleep(0.01)
            assert until_closed(idle)
            assert busy.exchange("GET", "/hello").status == 200
        finally:
            idle.close()


def test_below_the_limit_no_connection_is_closed() -> None:
    limits = Limits(max_connections=4, header_read_timeout_s=60)
    with engine(limits) as port:
        held = [partial_head(port) for _ in range(limits.max_connections - 1)]
        try:
            time.sleep(STAGGER_S)
            assert status_of_new_request(port) == 200
            time.sleep(slots.CHECK_BUSY_S * 20)  # several looks at the queue
            assert all(is_open(sock) for sock in held)
        finally:
            for sock in held:
                sock.close()


def test_the_slot_keeper_stops_with_the_engine_and_leaves_the_listener_closed() -> None:
    with engine(Limits()) as port:
        assert "connection-slots" in {thread.name for thread in threading.enumerate()}
    assert "connection-slots" not in {thread.name for thread in threading.enumerate()}
    # The thread polled a duplicate of the listening socket: had it kept that open, the kernel
    # would still queue connections that nobody accepts.
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=PROMPT_S).close()


# (inode -> (fd, ms inactive)), inodes seen on the previous look, how many wait: chosen (fd, inode)
CHOICES = [
    pytest.param({1: (10, 500), 2: (11, 900), 3: (12, 300)}, {1, 2, 3}, 1, [(11, 2)], id="oldest"),
    pytest.param(
        {1: (10, 500), 2: (11, 900), 3: (12, 300)},
        {1, 2, 3},
        2,
        [(11, 2), (10, 1)],
        id="as-many-as-wait",
    ),
    pytest.param({1: (10, 500), 2: (11, 900)}, {1}, 2, [(10, 1)], id="not-seen-before-is-kept"),
    pytest.param(
        {1: (10, slots.MIN_INACTIVE_MS - 1), 2: (11, slots.MIN_INACTIVE_MS)},
        {1, 2},
        2,
        [(11, 2)],
        id="recently-active-is-kept",
    ),
    pytest.param({1: (10, 500)}, {1}, 5, [(10, 1)], id="no-more-than-there-are"),
]


@pytest.mark.parametrize(("open_now", "seen", "waiting", "chosen"), CHOICES)
def test_which_connections_are_closed(
    open_now: dict[int, tuple[int, int]],
    seen: set[int],
    waiting: int,
    chosen: list[tuple[int, int]],
) -> None:
    assert slots.least_active(open_now, seen, waiting) == chosen


def test_looking_at_the_connections_leaves_every_descriptor_as_it_was() -> None:
    # A plain listener in this process: the accepted sockets are what granian would hold.
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
        clients = [socket.create_connection(("127.0.0.1", port)) for _ in range(3)]
        assert slots.queued(listener.fileno(), socket.AF_INET, port) == len(clients)
        accepted = [listener.accept()[0] for _ in clients]
        try:
            before = sorted(os.listdir("/proc/self/fd"))
            for _ in range(20):
                assert slots.queued(listener.fileno(), socket.AF_INET, port) == 0
                found = slots.connections(listener.fileno(), socket.AF_INET, port)
                assert sorted(fd for fd, _ in found.values()) == sorted(
                    sock.fileno() for sock in accepted
                )
                assert set(found) <= slots.inodes()
            assert sorted(os.listdir("/proc/self/fd")) == before
        finally:
            for sock in clients + accepted:
                sock.close()
