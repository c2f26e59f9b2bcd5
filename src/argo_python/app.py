"""The application: routing, handlers, readiness and per-request metrics and logs.

Routing reads the raw request path, as the client sent it: fixed paths map to handlers in one
table and /fibonacci/{n} is matched by prefix, so `%2F` or any other escape never routes (only
the {n} segment is percent-decoded, then checked). GET routes answer HEAD too (the engine sends
the headers and no body), OPTIONS gets the Allow header. The route template is the metrics
label, and route_templates() lets the tests check the OpenAPI document and the manifests' probes
against that same table. Nothing here knows about sockets or signals (see server.py).
"""

from __future__ import annotations

import logging
from functools import partial
from time import perf_counter

from argo_python.config import Settings
from argo_python.fibonacci import fibonacci_text
from argo_python.http import Response, error, json_response
from argo_python.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from argo_python.metrics import RequestMetrics

TYPE_CHECKING = False  # typing only for the type checker: it is not imported at start-up
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    Messages = tuple[dict[str, Any], dict[str, Any]]

access_log = logging.getLogger("argo_python.access")
log = logging.getLogger("argo_python")

FIB_PREFIX = b"/fibonacci/"
FIB_ROUTE = "/fibonacci/{n}"
UNMATCHED = "unmatched"  # the route label of any path no route serves, to bound label cardinality
ALLOWED_METHODS = "GET, HEAD"
READ_METHODS = frozenset(("GET", "HEAD"))
# The result of /fibonacci/{n} as a JSON number (the default) or, for clients whose JSON
# numbers are doubles or whose parser caps digits, as a JSON string of the same digits.
FORMATS = ("number", "string")
CLIP = 100  # characters of any client-sent value echoed in an error
# From here F(n) takes over about 0.1 ms, and is computed on the engine's worker thread rather
# than on the thread that serves every connection; below, the hand-off would cost more.
DEFER_FROM = 20_000

_HEALTHY = json_response(200, {"status": "ok"})
_READY = json_response(200, {"status": "ready"})
_DRAINING = error(503, "shutting_down", "the server is draining and takes no new work")
_OPTIONS = Response(204, b"", None, ("allow", ALLOWED_METHODS))


class Deferred:
    """A response too slow to compute on the thread that serves every connection (F(n) for
    large n): the engine calls `compute` on its worker thread instead."""

    __slots__ = ("compute", "status")

    def __init__(self, compute: Callable[[], Response]) -> None:
        self.compute = compute
        self.status = 200


class App:
    """The handler the engine calls once per request, with the raw path and query bytes."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._access_log = settings.access_log
        self.draining = False
        self.metrics = RequestMetrics()
        self._invalid_n = error(
            400, "invalid_n", f"n must be an integer between 0 and {settings.fib_max_n}"
        )
        self._invalid_format = error(
            400, "invalid_format", f"format must be one of: {', '.join(FORMATS)}"
        )
        self._max_n_digits = len(str(settings.fib_max_n))
        hello = json_response(200, {"message": f"Hello from {settings.service_name}!"})
        self._document: Response | None = None
        # Fixed paths, by their raw bytes, with their route templates (the same text) and their
        # answer: constant ones built once, here; the others computed per request.
        self._static: dict[bytes, tuple[str, Response | Callable[[bytes], Response | Deferred]]] = {
            path.encode(): (path, answer)
            for path, answer in (
                ("/hello", hello),
                ("/healthz", _HEALTHY),
                ("/readyz", self._readiness),
                ("/metrics", self._metrics),
                ("/openapi.json", self._openapi),
            )
        }
        # The fixed routes whose answer never changes, for __call__ to answer without dispatch.
        self._constant = {
            path: (route, answer)
            for path, (route, answer) in self._static.items()
            if isinstance(answer, Response)
        }
        self._observe = self.metrics.observe

    def __call__(
        self, method: str, raw_path: bytes, query: bytes
    ) -> Messages | Callable[[], Messages]:
        """Answer one request and count it: the ASGI messages the engine sends, or, for a slow
        answer, the function that computes and counts it on the engine's worker thread."""
        started = perf_counter()
        constant = self._constant.get(raw_path)
        if constant is not None and method in READ_METHODS:  # most requests: /hello, /healthz
            route, response = constant
        else:
            route, answer = self.dispatch(method, raw_path, query)
            if isinstance(answer, Deferred):
                return self._later(method, route, answer.compute, started)
            response = answer
        return self._finish(method, route, response, started)

    def _later(
        self, method: str, route: str, compute: Callable[[], Response], started: float
    ) -> Callable[[], Messages]:
        # A function of its own: a closure made in __call__ would turn its locals into cells,
        # allocated on every request rather than on the rare slow one.
        return lambda: self._finish(method, route, self._computed(route, compute), started)

    def _finish(self, method: str, route: str, response: Response, started: float) -> Messages:
        elapsed = perf_counter() - started
        self._observe(method, route, response.status, elapsed)
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
        return response.closing() if self.draining else response.messages

    def dispatch(
        self, method: str, raw_path: bytes, query: bytes = b""
    ) -> tuple[str, Response | Deferred]:
        """Return the route template that matched (for labels) and the response."""
        fixed = self._static.get(raw_path)
        if fixed is not None:
            route, answer = fixed
        elif raw_path.startswith(FIB_PREFIX):
            # partial, not a closure, for the reason given in _later.
            route, answer = FIB_ROUTE, partial(self._fibonacci, _text(raw_path[len(FIB_PREFIX) :]))
        elif raw_path == b"*" and method == "OPTIONS":  # OPTIONS * asks about the server itself
            return UNMATCHED, _OPTIONS
        else:
            return UNMATCHED, error(404, "not_found", f"no route for {clip(_text(raw_path))}")
        if method not in READ_METHODS:
            return route, _refused(method, route)
        if isinstance(answer, Response):  # a constant answer: nothing to compute or fail
            return route, answer
        try:
            return route, answer(query)
        except Exception:
            return route, _failed(route)

    @staticmethod
    def _computed(route: str, compute: Callable[[], Response]) -> Response:
        try:
            return compute()
        except Exception:
            return _failed(route)

    def _fibonacci(self, segment: str, query: bytes) -> Response | Deferred:
        # Checked as text first, so that no sign, space, underscore, decimal point or huge
        # number ever reaches int() or the arithmetic.
        if "%" in segment and len(segment) <= 3 * (self._max_n_digits + 8):
            segment = _unescape(segment)
        if not (segment.isascii() and segment.isdigit() and len(segment) <= self._max_n_digits + 8):
            return self._invalid_n
        n = int(segment)
        if n > self.settings.fib_max_n:
            return self._invalid_n
        as_string = False
        if query:
            wanted = _query_value(query, b"format")
            if wanted is not None and wanted not in (b"number", b"string"):
                return self._invalid_format
            as_string = wanted == b"string"
        if n >= DEFER_FROM:
            return Deferred(lambda: _fibonacci_response(n, as_string))
        return _fibonacci_response(n, as_string)

    def _readiness(self, _query: bytes) -> Response:
        return _DRAINING if self.draining else _READY

    def _openapi(self, _query: bytes) -> Response:
        # Built on the first request rather than at start: only tools ask for it.
        if self._document is None:
            from argo_python import openapi  # noqa: PLC0415

            self._document = json_response(200, openapi.document(self.settings))
        return self._document

    def _metrics(self, _query: bytes) -> Response:
        return Response(200, self.metrics.render(), METRICS_CONTENT_TYPE)


def _refused(method: str, route: str) -> Response:
    """The answer to a method other than GET and HEAD on a route: OPTIONS gets Allow, any
    other method 405."""
    if method == "OPTIONS":
        return _OPTIONS
    detail = f"{clip(method)} is not allowed on {route}; use {ALLOWED_METHODS}"
    return error(405, "method_not_allowed", detail, ("allow", ALLOWED_METHODS))


def _failed(route: str) -> Response:
    log.exception("unhandled error", extra={"route": route})
    return error(500, "internal_error", "the server failed to answer")


def _fibonacci_response(n: int, as_string: bool) -> Response:
    digits = fibonacci_text(n).encode()
    if as_string:
        return Response(200, b'{"n":%d,"result":"%s"}' % (n, digits))
    return Response(200, b'{"n":%d,"result":%s}' % (n, digits))


def _text(raw: bytes) -> str:
    """Raw request bytes as text, one character per byte, as the client sent them."""
    return raw.decode("latin-1")


def clip(text: str, limit: int = CLIP) -> str:
    """`text` cut to `limit` characters, so that no client value is echoed at any length."""
    return text if len(text) <= limit else text[:limit] + "..."


def _unescape(segment: str) -> str:
    """Percent-decode one path segment byte by byte (as Latin-1); a malformed escape is kept
    as it is, and fails the digit check that follows."""
    parts = segment.split("%")
    out = [parts[0]]
    for part in parts[1:]:
        code = part[:2]
        if len(code) == 2 and all(c in "0123456789abcdefABCDEF" for c in code):
            out.append(chr(int(code, 16)) + part[2:])
        else:
            out.append("%" + part)
    return "".join(out)


def _query_value(query: bytes, name: bytes) -> bytes | None:
    """The value of the last `name=` parameter in a raw query string, or None."""
    value = None
    for pair in query.split(b"&"):
        key, _, raw = pair.partition(b"=")
        if key == name:
            value = raw
    return value


def route_templates() -> list[str]:
    """Every route template the service answers, read from the dispatch table itself (for the
    OpenAPI and the manifests' consistency tests)."""
    app = App(Settings())
    return [route for route, _ in app._static.values()] + [FIB_ROUTE]
