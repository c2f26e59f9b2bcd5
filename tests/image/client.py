"""A minimal HTTP client for the published port: GET only, loopback only, 4xx/5xx returned."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    content_type: str
    body: bytes

    def json(self) -> object:
        return json.loads(self.body)


def get(url: str, timeout: float = 10) -> Response:
    """GET `url`; an HTTP error status is returned as a response like any other."""
    if not url.startswith("http://127.0.0.1:"):
        raise ValueError(f"the image tests talk to the loopback only, not {url}")
    try:
        with urllib.request.urlopen(url, timeout=timeout) as answer:
            return Response(answer.status, answer.headers.get("content-type", ""), answer.read())
    except urllib.error.HTTPError as exc:
        return Response(exc.code, exc.headers.get("content-type", ""), exc.read())
