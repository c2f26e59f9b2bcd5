"""Responses as the engine sends them, JSON bodies and the API's single error shape."""

from __future__ import annotations

from argo_python.jsontext import dumps

TYPE_CHECKING = False  # typing only for the type checker: it is not imported at start-up
if TYPE_CHECKING:
    from typing import Any

JSON = "application/json"
START = "http.response.start"
BODY = "http.response.body"
# granian writes `server: granian` into any response that has no Server header of its own, and
# offers no way to leave it out: an empty one is the closest to none (docs/service.md).
_SERVER = (b"server", b"")
_JSON_HEADERS = [_SERVER, (b"content-type", JSON.encode())]


class Response:
    """A response with its two ASGI messages built once: constant answers (the greeting, the
    400s) are shared by every request and never changed after construction."""

    __slots__ = ("body", "headers", "messages", "status")

    def __init__(
        self, status: int, body: bytes, content_type: str | None = JSON, *headers: tuple[str, str]
    ) -> None:
        self.status = status
        self.body = body
        if content_type == JSON and not headers:  # most answers: one shared, unchanged list
            self.headers = _JSON_HEADERS
        else:
            self.headers = [_SERVER]
            if content_type is not None:  # None: a response without a body (204)
                self.headers.append((b"content-type", content_type.encode()))
            self.headers += [(name.encode(), value.encode()) for name, value in headers]
        self.messages = (
            {"type": START, "status": status, "headers": self.headers},
            {"type": BODY, "body": body},
        )

    def closing(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """The same response with `Connection: close`, so that the client reconnects elsewhere
        (sent while the server drains)."""
        start = {**self.messages[0], "headers": [*self.headers, (b"connection", b"close")]}
        return start, self.messages[1]


def json_response(status: int, payload: Any, *headers: tuple[str, str]) -> Response:
    """Compact JSON, as the API promises (`{"n":10,"result":55}`)."""
    return Response(status, dumps(payload).encode(), JSON, *headers)


def error(status: int, code: str, detail: str, *headers: tuple[str, str]) -> Response:
    """The one error shape of the API: {"error": <machine code>, "detail": <human sentence>}."""
    return json_response(status, {"error": code, "detail": detail}, *headers)
