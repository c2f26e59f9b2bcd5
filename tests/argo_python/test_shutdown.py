"""Graceful shutdown of the real server: SIGTERM, drain, refuse, exit 0."""

from __future__ import annotations

import socket
import time

from tests.argo_python.serverproc import ServerProcess

IN_FLIGHT = 8
DRAIN = 1.0
TIMEOUT = 4.0


def read_response(sock: socket.socket) -> bytes:
    """Read one HTTP/1.1 response with a content-length body."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body


def test_sigterm_drains_in_flight_requests_then_refuses_and_exits_0() -> None:
    server = ServerProcess.start(
        SHUTDOWN_DRAIN_SECONDS=str(DRAIN), SHUTDOWN_TIMEOUT_SECONDS=str(TIMEOUT)
    )
    # Requests in flight: the request line and a header are sent, the end of the header block
    # is held back until after the listener has closed.
    held = []
    for _ in range(IN_FLIGHT):
        sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
        sock.sendall(b"GET /fibonacci/10000 HTTP/1.1\r\nHost: test\r\n")
        held.append(sock)
    signalled = time.monotonic()
    server.terminate()

    time.sleep(DRAIN / 4)
    assert server.get("/readyz").status == 503, "readiness must fail at once"
    assert server.get("/hello").status == 200, "new connections are served while draining"

    time.sleep(DRAIN)  # past the drain period
    try:
        socket.create_connection(("127.0.0.1", server.port), timeout=2).close()
        refused = False
    except ConnectionRefusedError:
        refused = True
    assert refused, "new connections must be refused after the drain period"

    for sock in held:
        sock.sendall(b"\r\n")
        response = read_response(sock)
        sock.close()
        assert response.startswith(b"HTTP/1.1 200 OK\r\n")
        body = response.partition(b"\r\n\r\n")[2]
        assert body.startswith(b'{"n":10000,"result":')
        assert body.endswith(b"}")
        assert len(body) == len(b'{"n":10000,"result":}') + 2090

    assert server.proc.wait(timeout=TIMEOUT) == 0
    assert time.monotonic() - signalled < TIMEOUT
    output = server.stop()
    assert "panicked" not in output
    events = [record.get("event") for record in server.log_records()]
    assert events == ["start", "drain", "stop"]
