"""The RSGI application: routing, handlers, readiness and per-request metrics and logs.

Fixed paths map to handlers in one table, and /fibonacci/{n} is matched by prefix; the route
template is the metrics label, and route_templates() lets the tests check the OpenAPI document
and the manifests' probes against that same table. Nothing here knows about sockets or
signals (see server.py).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from time import perf_counter
from typing import Protocol

from argo_python import openapi
from argo_python.config import Settings
from argo_python.fibonacci import decimal_digits, fibonacci
from argo_python.http import Response, error, json_response
from argo_python.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from argo_python.metrics import RequestMetrics

access_log = logging.getLogger("argo_python.access")
log = logging.getLogger("argo_python")

FIB_PREFIX = "/fibonacci/"
UNMATCHED = "unmatched"  # the route label of any path no route serves, to bound label cardinality


class Scope(Protocol):
    method: str
    path: str


class HTTPProtocol(Protocol):
    def response_bytes(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None: ...


FIB_ROUTE = "/fibonacci/{n}"
ALLOWED_METHODS = "GET"


_HEALTHY = json_response(200, {"status": "ok"})
_READY = json_response(200, {"status": "ready"})
_DRAINING = error(503, "shutting_down", "the server is draining and takes no new work")


class App:
    """An RSGI application (granian calls `__rsgi__` once per HTTP request)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._access_log = settings.access_log
        self.ready = True
        self.metrics = RequestMetrics()
        # F(n) for the largest allowed n must be printable as decimal text.
        sys.set_int_max_str_digits(max(4300, decimal_digits(settings.fib_max_n) + 16))
        self._invalid_n = error(
            400, "invalid_n", f"n must be an integer between 0 and {settings.fib_max_n}"
        )
        self._max_n_digits = len(str(settings.fib_max_n))
        hello = json_response(200, {"message": f"Hello from {settings.service_name}!"})
        document = json_response(200, openapi.document(settings))
        # Fixed paths are their own route templates; constant answers are built once, here.
        self._static: dict[str, Callable[[], Response]] = {
            "/hello": lambda: hello,
            "/healthz": lambda: _HEALTHY,
            "/readyz": self._readiness,
            "/metrics": self._metrics,
            "/openapi.json": lambda: document,
        }

    async def __rsgi__(self, scope: Scope, protocol: HTTPProtocol) -> None:
        started = perf_counter()
        method = scope.method
        route, response = self.dispatch(method, scope.path)
        protocol.response_bytes(response.status, response.headers, response.body)
        elapsed = perf_counter() - started
        self.metrics.observe(method, route, response.status, elapsed)
        if self._access_log:
            access_log.info(
                "request",
                extra={
                    "method": method,
                    "route": route,
                    "status": response.status,
                    "duration_ms": round(elapsed * 1000, 3),
                },
            )

    def dispatch(self, method: str, path: str) -> tuple[str, Response]:
        """Return the route template that matched (for labels) and the response."""
        handler = self._static.get(path)
        if handler is not None:
            route = path
        elif path.startswith(FIB_PREFIX):
            route, handler = FIB_ROUTE, lambda: self._fibonacci(path[len(FIB_PREFIX) :])
        else:
            return UNMATCHED, error(404, "not_found", f"no route for {_clip(path)}")
        if method != "GET":
            detail = f"{method} is not allowed on {route}; use {ALLOWED_METHODS}"
            return route, error(405, "method_not_allowed", detail, ("allow", ALLOWED_METHODS))
        try:
            return route, handler()
        except Exception:
            log.exception("unhandled error", extra={"route": route})
            return route, error(500, "internal_error", "the server failed to answer")

    def _fibonacci(self, segment: str) -> Response:
        # Checked as text first, so that no sign, space, underscore, decimal point or huge
        # number ever reaches int() or the arithmetic.
        if not (segment.isascii() and segment.isdigit() and len(segment) <= self._max_n_digits + 8):
            return self._invalid_n
        n = int(segment)
        if n > self.settings.fib_max_n:
            return self._invalid_n
        return Response(200, b'{"n":%d,"result":%d}' % (n, fibonacci(n)))

    def _readiness(self) -> Response:
        return _READY if self.ready else _DRAINING

    def _metrics(self) -> Response:
        return Response(200, self.metrics.render(), METRICS_CONTENT_TYPE)


def _clip(text: str, limit: int = 100) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


def route_templates() -> list[str]:
    """Every route template the service answers, read from the dispatch table itself (for the
    OpenAPI and the manifests' consistency tests)."""
    app = App(Settings())
    return [*app._static, FIB_ROUTE]
