"""Held connections do not lock other clients out: behaviour only, with real sockets; the
figures for 5,000 connections and their memory are in bench/flood.py."""

from __future__ import annotations

import resource
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.argo_python.rawhttp import RawConnection
from tests.argo_python.serverproc import ServerProcess

from argo_python.server import BACKLOG, HEADER_READ_TIMEOUT_MS, MAX_CONNECTIONS


def deferrable() -> int:
    """How many silent connections the kernel keeps back (TCP_DEFER_ACCEPT) before it hands
    the rest over: its queue of half-finished connections is the listen backlog, capped by
    net.core.somaxconn."""
    return min(BACKLOG, int(Path("/proc/sys/net/core/somaxconn").read_text()))


# More silent connections than the kernel keeps back, and, where it keeps enough back, more
# than the service serves at once: without TCP_DEFER_ACCEPT they would take every slot and shut
# every other client out until the header-read timeout.
IDLE = deferrable() + 500
SLOW = 300
# More slow connections than the service serves at once: every slot taken, and more waiting.
BEYOND_THE_LIMIT = MAX_CONNECTIONS + 500
PARTIAL_HEAD = b"GET /hello HTTP/1.1\r\nHost: flood\r\nX-Slow: "


@pytest.fixture
def enough_descriptors() -> Iterator[None]:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = max(IDLE + SLOW, BEYOND_THE_LIMIT) + 256
    if hard != resource.RLIM_INFINITY and hard < needed:
        pytest.skip(f"needs {needed} file descriptors; raise the hard limit (ulimit -Hn)")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, needed), hard))
    yield
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def hold(port: int, count: int, first_bytes: bytes) -> list[socket.socket]:
    held = []
    for _ in range(count):
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        if first_bytes:
            sock.sendall(first_bytes)
        held.append(sock)
    return held


# (what is held: how many connections send which first bytes, in turn)
FLOODS = [
    # Without TCP_DEFER_ACCEPT the silent ones would take every slot.
    pytest.param([(IDLE, b""), (SLOW, PARTIAL_HEAD)], id="silent-and-slow"),
    # Every slot taken, and more waiting: without closing the least recently active, a new
    # client would wait for the header-read timeouts of everything ahead of it.
    pytest.param([(BEYOND_THE_LIMIT, PARTIAL_HEAD)], id="slow-beyond-the-limit"),
]


@pytest.mark.parametrize("flood", FLOODS)
@pytest.mark.usefixtures("enough_descriptors")
def test_a_new_client_is_served_before_any_timeout_while_connections_are_held(
    flood: list[tuple[int, bytes]],
) -> None:
    server = ServerProcess.start()
    held: list[socket.socket] = []
    try:
        for count, first_bytes in flood:
            held += hold(server.port, count, first_bytes)
        for path in ("/healthz", "/hello", "/readyz"):
            # A fresh connection each time, as a probe or a new client makes.
            with RawConnection(server.port, timeout=HEADER_READ_TIMEOUT_MS / 1000 / 2) as conn:
                assert conn.exchange("GET", path).status == 200
        assert server.proc.poll() is None
    finally:
        for sock in held:
            sock.close()
        output = server.stop()
    assert "panicked" not in output
