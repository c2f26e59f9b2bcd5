"""The API contract, over real sockets against the server started as a subprocess."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
from prometheus_client.parser import text_string_to_metric_families
from tests.argo_python.serverproc import ServerProcess

from argo_python import app as app_module
from argo_python.app import ALLOWED_METHODS, DEFER_FROM, App
from argo_python.config import FIB_MAX_N_LIMIT, Settings
from argo_python.metrics import BUCKETS, METHODS

F_10000_DIGITS = 2090


def test_hello_returns_the_exact_greeting(server: ServerProcess) -> None:
    reply = server.get("/hello")
    assert reply.status == 200
    assert reply.headers["content-type"] == "application/json"
    assert reply.body == f'{{"message":"Hello from {Settings().service_name}!"}}'.encode()


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
        ("/fibonacci/" + "9" * 1_000, 400, "invalid_n"),  # longer heads get 431 (MAX_HEAD_BYTES)
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
    route, response = app.dispatch("GET", b"/fibonacci/" + b"9" * 1_000_000)
    assert route == "/fibonacci/{n}"
    assert response.status == 400
    assert b"invalid_n" in response.body


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "TRACE"])
@pytest.mark.parametrize("path", ["/hello", "/fibonacci/10", "/healthz", "/metrics"])
def test_wrong_method_gets_405_with_an_allow_header(
    server: ServerProcess, method: str, path: str
) -> None:
    reply = server.request(method, path)
    assert reply.status == 405
    assert reply.headers["allow"] == ALLOWED_METHODS
    assert reply.json()["error"] == "method_not_allowed"


def test_health_and_readiness_answer_200(server: ServerProcess) -> None:
    assert (server.get("/healthz").status, server.get("/healthz").json()) == (200, {"status": "ok"})
    assert server.get("/readyz").json() == {"status": "ready"}


def test_metrics_count_requests_by_route_template_and_status(server: ServerProcess) -> None:
    for path in ("/fibonacci/1", "/fibonacci/2", "/fibonacci/x", "/nowhere/1", "/nowhere/2"):
        server.get(path)
    reply = server.get("/metrics")
    assert reply.status == 200
    assert reply.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    text = reply.body.decode()
    assert "/nowhere" not in text  # unknown paths never become label values
    # prometheus_client's own parser reads the exposition, so the format is checked too.
    families = {family.name: family for family in text_string_to_metric_families(text)}
    requests = {
        (s.labels["route"], s.labels["status"]): s.value
        for s in families["http_requests"].samples
        if s.name == "http_requests_total" and s.labels["method"] == "GET"
    }
    assert requests[("/fibonacci/{n}", "200")] >= 2
    assert requests[("/fibonacci/{n}", "400")] >= 1
    assert requests[("unmatched", "404")] >= 2
    assert families["http_requests"].type == "counter"
    histogram = families["http_request_duration_seconds"]
    assert histogram.type == "histogram"
    ok = [s for s in histogram.samples if s.labels.get("status") == "200"]
    ok = [s for s in ok if s.labels["method"] == "GET"]
    ok = [s for s in ok if s.labels["route"] == "/fibonacci/{n}"]
    buckets = [s.value for s in ok if s.name.endswith("_bucket")]
    count = next(s.value for s in ok if s.name.endswith("_count"))
    assert buckets == sorted(buckets), "buckets are cumulative"
    assert buckets[-1] == count >= 2
    assert next(s for s in ok if s.name.endswith("_bucket"))
    assert families["process_resident_memory_bytes"].samples[0].value > 1024 * 1024
    assert families["process_cpu_seconds"].type == "counter"
    for name in ("process_open_fds", "process_max_fds", "process_start_time_seconds"):
        assert families[name].samples[0].value > 0


def test_invented_methods_share_one_metrics_label(server: ServerProcess) -> None:
    for index in range(50):
        assert server.request(f"X{index}", "/hello").status == 405
    text = server.get("/metrics").body.decode()
    methods = {
        sample.labels["method"]
        for family in text_string_to_metric_families(text)
        if family.name == "http_requests"
        for sample in family.samples
    }
    assert "other" in methods
    assert methods <= METHODS | {"other"}


def test_service_name_sets_the_greeting() -> None:
    proc = ServerProcess.start(SERVICE_NAME="demo-api", FIB_MAX_N="50")
    try:
        assert proc.get("/hello").body == b'{"message":"Hello from demo-api!"}'
        assert proc.get("/fibonacci/51").json()["detail"] == (
            "n must be an integer between 0 and 50"
        )
    finally:
        proc.stop()


def test_metrics_pass_promtool_check(server: ServerProcess) -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool is missing; install it with: apt-get install prometheus")
    server.get("/hello")
    server.request("HEAD", "/fibonacci/5")
    result = subprocess.run(
        [promtool, "check", "metrics"],
        input=server.get("/metrics").body,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert (result.returncode, result.stdout + result.stderr) == (0, b"")


def test_histogram_buckets_start_at_microseconds_and_are_rendered_in_order(
    server: ServerProcess,
) -> None:
    server.get("/hello")
    text = server.get("/metrics").body.decode()
    family = next(
        f for f in text_string_to_metric_families(text) if f.name == "http_request_duration_seconds"
    )
    buckets = [s for s in family.samples if s.name.endswith("_bucket")]
    series = {k: v for k, v in buckets[0].labels.items() if k != "le"}
    bounds = [s.labels["le"] for s in buckets if s.labels == {**series, "le": s.labels["le"]}]
    assert [float(b) for b in bounds] == [*BUCKETS, float("inf")]
    assert BUCKETS[0] <= 25e-6
    assert list(BUCKETS) == sorted(BUCKETS)


def test_a_failure_while_computing_a_large_f_n_is_a_500_in_the_error_shape(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(n: int) -> str:
        raise ArithmeticError(n)

    monkeypatch.setattr(app_module, "fibonacci_text", broken)
    app = App(Settings(fib_max_n=FIB_MAX_N_LIMIT))
    deferred = app("GET", f"/fibonacci/{FIB_MAX_N_LIMIT}".encode(), b"")
    assert callable(deferred), "large F(n) are handed to the engine's worker thread"
    start, body = deferred()
    assert start["status"] == 500
    assert json.loads(body["body"])["error"] == "internal_error"
    assert callable(app("GET", f"/fibonacci/{DEFER_FROM}".encode(), b""))
    assert not callable(app("GET", f"/fibonacci/{DEFER_FROM - 1}".encode(), b""))
