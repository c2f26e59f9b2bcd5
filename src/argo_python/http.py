"""Response helpers shared by every route: JSON bodies and the API's single error shape."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

JSON = "application/json"


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    body: bytes
    content_type: str = JSON
    extra_headers: tuple[tuple[str, str], ...] = ()
    # Built once: constant responses (the greeting, the 400s) are reused for every request.
    headers: list[tuple[str, str]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        headers = [("content-type", self.content_type), *self.extra_headers]
        object.__setattr__(self, "headers", headers)


def json_response(status: int, payload: Any, *headers: tuple[str, str]) -> Response:
    """Compact JSON, as the API promises (`{"n":10,"result":55}`)."""
    return Response(status, json.dumps(payload, separators=(",", ":")).encode(), JSON, headers)


def error(status: int, code: str, detail: str, *headers: tuple[str, str]) -> Response:
    """The one error shape of the API: {"error": <machine code>, "detail": <human sentence>}."""
    return json_response(status, {"error": code, "detail": detail}, *headers)
