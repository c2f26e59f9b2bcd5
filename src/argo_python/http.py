"""Response helpers shared by every route: JSON bodies and the API's single error shape."""

from __future__ import annotations

import json
from dataclasses import InitVar, dataclass, field
from typing import Any

JSON = "application/json"


@dataclass(slots=True)
class Response:
    """Never changed once built: constant responses (the greeting, the 400s) are shared by every
    request. Not frozen, because a frozen dataclass's __init__ costs about a third of building
    a /fibonacci answer."""

    status: int
    body: bytes
    content_type: InitVar[str] = JSON
    extra_headers: InitVar[tuple[tuple[str, str], ...]] = ()
    headers: list[tuple[str, str]] = field(init=False, repr=False, compare=False)

    def __post_init__(self, content_type: str, extra_headers: tuple[tuple[str, str], ...]) -> None:
        self.headers = [("content-type", content_type), *extra_headers]


def json_response(status: int, payload: Any, *headers: tuple[str, str]) -> Response:
    """Compact JSON, as the API promises (`{"n":10,"result":55}`)."""
    return Response(status, json.dumps(payload, separators=(",", ":")).encode(), JSON, headers)


def error(status: int, code: str, detail: str, *headers: tuple[str, str]) -> Response:
    """The one error shape of the API: {"error": <machine code>, "detail": <human sentence>}."""
    return json_response(status, {"error": code, "detail": detail}, *headers)
