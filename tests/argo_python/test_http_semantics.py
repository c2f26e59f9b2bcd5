"""HTTP semantics over real sockets: HEAD, OPTIONS and Allow, raw-path routing, clipping,
no server software advertised, Connection: close while draining, big numbers as strings."""

from __future__ import annotations

import json
import time

import pytest
from tests.argo_python.rawhttp import RawConnection
from tests.argo_python.serverproc import ServerProcess

from argo_python.app import ALLOWED_METHODS, CLIP, FIB_ROUTE, route_templates
from argo_python.config import Settings
from argo_python.server import MAX_HEAD_BYTES

# A path that each route template answers with 200.
SAMPLE = {FIB_ROUTE: "/fibonacci/10"}


def sample(template: str) -> str:
    return SAMPLE.get(template, template)


@pytest.mark.parametrize("template", route_templates())
def test_head_sends_the_get_headers_and_no_body(server: ServerProcess, template: str) -> None:
    with RawConnection(server.port) as conn:
        get = conn.exchange("GET", sample(template))
        head = conn.exchange("HEAD", sample(template))
        # Had HEAD sent a body, this response would start inside it.
        after = conn.exchange("GET", "/healthz")
    assert (head.status, get.status, after.status) == (200, 200, 200)
    assert head.body == b""
    assert head.headers["content-type"] == get.headers["content-type"]
    if template != "/metrics":  # the metrics text grows with every request
        assert head.headers["content-length"] == get.headers["content-length"]
    assert int(head.headers["content-length"]) > 0


@pytest.mark.parametrize("target", [*(sample(t) for t in route_templates()), "*"])
def test_options_answers_204_with_allow(server: ServerProcess, target: str) -> None:
    with RawConnection(server.port) as conn:
        reply = conn.exchange("OPTIONS", target)
    assert reply.status == 204
    assert reply.headers["allow"] == ALLOWED_METHODS
    assert {m.strip() for m in ALLOWED_METHODS.split(",")} == {"GET", "HEAD"}


@pytest.mark.parametrize(
    ("target", "status"),
    [
        ("/fibonacci%2F10", 404),  # an encoded slash is not a path separator
        ("/fibonacci%2f10", 404),
        ("/%6detrics", 404),  # an encoded letter does not reach /metrics
        ("/%68ello", 404),
        ("/hello%2F", 404),
        ("/hello%3Fx", 404),  # an encoded ? is not a query
        ("/healthz%23", 404),
        ("/fibonacci/10%2F20", 400),  # inside {n} it is decoded, then refused
        ("/fibonacci/%31%30", 200),  # percent-encoded digits are still digits
        ("/fibonacci/1%3", 400),  # a broken escape
    ],
    ids=str,
)
def test_routing_reads_the_raw_path(server: ServerProcess, target: str, status: int) -> None:
    with RawConnection(server.port) as conn:
        reply = conn.exchange("GET", target)
    assert reply.status == status
    if status == 200:
        assert reply.body == b'{"n":10,"result":55}'


def test_no_server_software_is_advertised(server: ServerProcess) -> None:
    with RawConnection(server.port) as conn:
        replies = [conn.exchange("GET", path) for path in ("/hello", "/missing", "/fibonacci/x")]
        replies.append(conn.exchange("DELETE", "/hello"))
    for reply in replies:
        assert reply.headers.get("server", "") == ""


@pytest.mark.parametrize(
    ("method", "target"),
    [("X" * 7_000, "/hello"), ("GET", "/" + "a" * 7_000), ("GET", "/%41" * 2_000)],
    ids=["long-method", "long-path", "long-escaped-path"],
)
def test_echoed_values_are_clipped(server: ServerProcess, method: str, target: str) -> None:
    with RawConnection(server.port) as conn:
        reply = conn.exchange(method, target)
    assert reply.status in (404, 405)
    detail = json.loads(reply.body)["detail"]
    assert len(detail) < CLIP + 80
    assert "..." in detail


def test_a_request_head_over_the_limit_gets_431(server: ServerProcess) -> None:
    with RawConnection(server.port) as conn:
        reply = conn.exchange("GET", "/hello", "X-Pad: " + "p" * MAX_HEAD_BYTES)
    assert reply.status == 431


@pytest.mark.parametrize(
    ("query", "result"),
    [
        ("", 55),
        ("?format=number", 55),
        ("?format=string", "55"),
        ("?other=1&format=string", "55"),
    ],
    ids=str,
)
def test_format_chooses_number_or_string(server: ServerProcess, query: str, result: object) -> None:
    assert server.get(f"/fibonacci/10{query}").json() == {"n": 10, "result": result}


def test_an_unknown_format_is_a_400_naming_the_choices(server: ServerProcess) -> None:
    reply = server.get("/fibonacci/10?format=hex")
    assert reply.status == 400
    assert reply.json() == {
        "error": "invalid_format",
        "detail": "format must be one of: number, string",
    }


def test_the_string_result_at_fib_max_n_is_the_exact_number(server: ServerProcess) -> None:
    top = Settings().fib_max_n
    as_number = server.get(f"/fibonacci/{top}").json()["result"]
    as_string = server.get(f"/fibonacci/{top}?format=string").json()["result"]
    assert as_string == str(as_number)
    assert as_string.isdigit()


def test_keep_alive_answers_carry_connection_close_while_draining() -> None:
    server = ServerProcess.start(SHUTDOWN_DRAIN_SECONDS="2", SHUTDOWN_TIMEOUT_SECONDS="5")
    try:
        with RawConnection(server.port) as conn:
            before = conn.exchange("GET", "/hello")
            server.terminate()
            deadline = time.monotonic() + 2
            with RawConnection(server.port) as probe:
                while probe.exchange("GET", "/readyz").status != 503:
                    assert time.monotonic() < deadline, "readiness never failed"
            during = conn.exchange("GET", "/hello")
            assert conn.closed_by_peer()
        assert before.headers.get("connection", "keep-alive") != "close"
        assert (during.status, during.headers["connection"]) == (200, "close")
    finally:
        server.stop()
