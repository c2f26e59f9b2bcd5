"""The connection policy of the engine (docs/service.md, "Connections"), with real sockets on
loopback: an engine in this process, with limits small enough to reach in a test and the
service's own settings for everything else."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from tests.argo_python.rawhttp import RawConnection
from tests.argo_python.serverproc import free_port

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


def test_a_connection_beyond_the_limit_waits_until_the_timeout_frees_a_slot() -> None:
    limits = Limits(max_connections=2)
    with engine(limits) as port:
        slow = held(port, limits.max_connections, PARTIAL_HEAD)
        try:
            began = time.monotonic()
            assert status_of_new_request(port, timeout=SHORT_TIMEOUT_S + PROMPT_S) == 200
            waited = time.monotonic() - began
        finally:
            for sock in slow:
                sock.close()
    # It waited in the kernel's accept queue for the held connections' header-read timeout,
    # no longer: then it was accepted, not refused.
    assert SHORT_TIMEOUT_S * 0.8 <= waited < SHORT_TIMEOUT_S + PROMPT_S
