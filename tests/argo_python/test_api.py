"""The API contract, over real sockets against the server started as a subprocess."""

from __future__ import annotations

import pytest
from tests.argo_python.serverproc import ServerProcess

from argo_python.app import App
from argo_python.config import Settings

F_10000_DIGITS = 2090


def test_hello_returns_the_exact_greeting(server: ServerProcess) -> None:
    reply = server.get("/hello")
    assert reply.status == 200
    assert reply.headers["content-type"] == "application/json"
    assert reply.body == b'{"message":"Hello from argo-python!"}'


def test_fibonacci_10_returns_compact_json_n_then_result(server: ServerProcess) -> None:
    reply = server.get("/fibonacci/10")
    assert reply.status == 200
    assert reply.headers["content-type"] == "application/json"
    assert reply.body == b'{"n":10,"result":55}'


@pytest.mark.parametrize(
    ("n", "body"),
    [
        ("0", b'{"n":0,"result":0}'),
        ("1", b'{"n":1,"result":1}'),
        ("2", b'{"n":2,"result":1}'),
        ("007", b'{"n":7,"result":13}'),
        ("93", b'{"n":93,"result":12200160415121876738}'),
        ("94", b'{"n":94,"result":19740274219868223167}'),
        ("%31%30", b'{"n":10,"result":55}'),
    ],
)
def test_fibonacci_is_exact_beyond_64_bits(server: ServerProcess, n: str, body: bytes) -> None:
    reply = server.get(f"/fibonacci/{n}")
    assert (reply.status, reply.body) == (200, body)


def test_fibonacci_at_fib_max_n_is_served_in_full(server: ServerProcess) -> None:
    payload = server.get("/fibonacci/10000").json()
    assert payload["n"] == 10_000
    assert len(str(payload["result"])) == F_10000_DIGITS


INVALID_N = {"error": "invalid_n", "detail": "n must be an integer between 0 and 10000"}


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/fibonacci/abc", 400, "invalid_n"),
        ("/fibonacci/-1", 400, "invalid_n"),
        ("/fibonacci/+10", 400, "invalid_n"),
        ("/fibonacci/%2B10", 400, "invalid_n"),
        ("/fibonacci/%2010", 400, "invalid_n"),
        ("/fibonacci/10%20", 400, "invalid_n"),
        ("/fibonacci/%0910", 400, "invalid_n"),
        ("/fibonacci/10.0", 400, "invalid_n"),
        ("/fibonacci/1_0", 400, "invalid_n"),
        ("/fibonacci/1e3", 400, "invalid_n"),
        ("/fibonacci/0x10", 400, "invalid_n"),
        ("/fibonacci/%E2%91%A0", 400, "invalid_n"),  # a Unicode digit
        ("/fibonacci/%D9%A3", 400, "invalid_n"),  # an Arabic-Indic digit
        ("/fibonacci/", 400, "invalid_n"),
        ("/fibonacci/10001", 400, "invalid_n"),
        ("/fibonacci/" + "9" * 10_000, 400, "invalid_n"),
        ("/fibonacci/10/20", 400, "invalid_n"),
        ("/fibonacci", 404, "not_found"),
        ("/hello/", 404, "not_found"),
        ("/", 404, "not_found"),
        ("/HELLO", 404, "not_found"),
    ],
    ids=lambda v: v[:40] if isinstance(v, str) else str(v),
)
def test_bad_input_gets_a_4xx_in_the_error_shape(
    server: ServerProcess, path: str, status: int, code: str
) -> None:
    reply = server.get(path)
    assert reply.status == status
    assert reply.headers["content-type"] == "application/json"
    payload = reply.json()
    assert set(payload) == {"error", "detail"}
    assert payload["error"] == code
    if code == "invalid_n":
        assert payload == INVALID_N


def test_a_million_digit_n_is_refused_before_the_application(server: ServerProcess) -> None:
    # URIs over 64 KiB never reach the application: the HTTP layer answers 414 or 431 itself.
    # The application's own guard (checked in-process below) bounds everything shorter.
    reply = server.get("/fibonacci/" + "9" * 1_000_000)
    assert 400 <= reply.status < 500


def test_a_million_digit_n_is_rejected_without_parsing_it() -> None:
    app = App(Settings())
    route, response = app.dispatch("GET", "/fibonacci/" + "9" * 1_000_000)
    assert route == "/fibonacci/{n}"
    assert response.status == 400
    assert b"invalid_n" in response.body


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "HEAD"])
@pytest.mark.parametrize("path", ["/hello", "/fibonacci/10", "/healthz", "/metrics"])
def test_wrong_method_gets_405_with_an_allow_header(
    server: ServerProcess, method: str, path: str
) -> None:
    reply = server.request(method, path)
    assert reply.status == 405
    assert reply.headers["allow"] == "GET"
    if method != "HEAD":
        assert reply.json()["error"] == "method_not_allowed"


def test_health_and_readiness_answer_200(server: ServerProcess) -> None:
    assert (server.get("/healthz").status, server.get("/healthz").json()) == (200, {"status": "ok"})
    assert server.get("/readyz").json() == {"status": "ready"}


def test_metrics_count_requests_by_route_template_and_status(server: ServerProcess) -> None:
    for path in ("/fibonacci/1", "/fibonacci/2", "/fibonacci/x", "/nowhere/1", "/nowhere/2"):
        server.get(path)
    reply = server.get("/metrics")
    assert reply.status == 200
    assert reply.headers["content-type"].startswith("text/plain; version=0.0.4")
    text = reply.body.decode()
    samples = dict(
        line.rsplit(" ", 1) for line in text.splitlines() if line and not line.startswith("#")
    )
    ok = 'method="GET",route="/fibonacci/{n}",status="200"'
    assert float(samples["http_requests_total{" + ok + "}"]) >= 2
    assert 'http_requests_total{method="GET",route="/fibonacci/{n}",status="400"}' in samples
    assert float(samples['http_requests_total{method="GET",route="unmatched",status="404"}']) >= 2
    assert "/nowhere" not in text  # unknown paths never become label values
    count = samples["http_request_duration_seconds_count{" + ok + "}"]
    assert samples['http_request_duration_seconds_bucket{le="+Inf",' + ok + "}"] == count
    assert float(samples["process_resident_memory_bytes"]) > 0
    assert "process_cpu_seconds_total" in samples


def test_service_name_sets_the_greeting() -> None:
    proc = ServerProcess.start(SERVICE_NAME="demo-api", FIB_MAX_N="50")
    try:
        assert proc.get("/hello").body == b'{"message":"Hello from demo-api!"}'
        assert proc.get("/fibonacci/51").json()["detail"] == (
            "n must be an integer between 0 and 50"
        )
    finally:
        proc.stop()
