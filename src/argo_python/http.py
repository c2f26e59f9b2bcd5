"""Response helpers shared by every route: JSON bodies and the API's single error shape."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

JSON = "application/json"


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    body: bytes
    content_type: str = JSON
    extra_headers: tuple[tuple[str, str], ...] = ()

    def headers(self) -> list[tuple[str, str]]:
        return [("content-type", self.content_type), *self.extra_headers]


def json_response(status: int, payload: Any) -> Response:
    return Response(status, json.dumps(payload, separators=(",", ":")).encode())


def error(status: int, code: str, detail: str, *headers: tuple[str, str]) -> Response:
    """The one error shape of the API: {"error": <machine code>, "detail": <human sentence>}."""
    body = json.dumps({"error": code, "detail": detail}, separators=(",", ":")).encode()
    return Response(status, body, JSON, headers)
