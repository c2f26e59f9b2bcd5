"""The OpenAPI 3.1 document of the service, built from its settings (greeting, FIB_MAX_N)."""

from __future__ import annotations

from typing import Any

from argo_python import __version__
from argo_python.config import Settings

_ERROR = {"$ref": "#/components/schemas/Error"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _error(description: str) -> dict[str, Any]:
    return _json(_ERROR, description)


_ALLOW = {"Allow": {"description": "GET, HEAD", "schema": {"type": "string"}}}

# Where JSON readers stop reading F(n) exactly (docs/service.md, "Big numbers"). The default
# answer keeps the exact integer; `?format=string` returns the same digits as a JSON string.
BIG_NUMBERS = (
    "result is an exact JSON integer. Readers that parse JSON numbers as IEEE-754 doubles "
    "(JavaScript's JSON.parse, jq 1.6, many others) lose digits from n = 79 (F(79) > 2^53) and "
    "overflow from n = 1477 (F(1477) > 1.8e308); Python's json refuses from n = 20578, its "
    "4,300-digit limit. Ask for ?format=string to get result as a string of the same digits."
)


def _head(responses: dict[str, Any]) -> dict[str, Any]:
    """HEAD: the headers GET would send (Content-Length included), without the body."""
    return {
        status: {key: value for key, value in response.items() if key != "content"}
        for status, response in responses.items()
    }


def _get(summary: str, op_id: str, responses: dict[str, Any], **extra: Any) -> dict[str, Any]:
    common = {
        "405": {**_error("Method not allowed"), "headers": _ALLOW},
    }
    # Path parameters belong to the path, so that OPTIONS shares them; the rest to GET and HEAD.
    parameters = extra.pop("parameters", [])
    in_path = [p for p in parameters if p["in"] == "path"]
    if len(in_path) < len(parameters):
        extra["parameters"] = [p for p in parameters if p["in"] != "path"]
    get = {"summary": summary, "operationId": op_id, **extra, "responses": {**responses, **common}}
    return {
        **({"parameters": in_path} if in_path else {}),
        "get": get,
        "head": {**get, "operationId": f"{op_id}_head", "responses": _head(get["responses"])},
        "options": {
            "summary": "The methods this path allows",
            "operationId": f"{op_id}_options",
            "responses": {"204": {"description": "No content", "headers": _ALLOW}},
        },
    }


def document(settings: Settings) -> dict[str, Any]:
    status_schema = {
        "type": "object",
        "required": ["status"],
        "properties": {"status": {"type": "string"}},
        "additionalProperties": False,
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": settings.service_name,
            "version": __version__,
            "description": (
                "Greeting and exact Fibonacci numbers. Every 4xx/5xx body has the Error shape."
            ),
        },
        "paths": {
            "/hello": _get(
                "Greeting",
                "hello",
                {
                    "200": _json(
                        {
                            "type": "object",
                            "required": ["message"],
                            "properties": {
                                "message": {
                                    "type": "string",
                                    "const": f"Hello from {settings.service_name}!",
                                }
                            },
                            "additionalProperties": False,
                        },
                        "The greeting",
                    )
                },
            ),
            "/fibonacci/{n}": _get(
                "The n-th Fibonacci number, exact (F(0)=0, F(1)=1)",
                "fibonacci",
                {
                    "200": _json(
                        {
                            "type": "object",
                            "required": ["n", "result"],
                            "properties": {
                                "n": {
                                    "type": "integer",
                                    "minimum": 0,
                                    "maximum": settings.fib_max_n,
                                },
                                "result": {
                                    "oneOf": [
                                        {"type": "integer", "minimum": 0},
                                        {"type": "string", "pattern": "^(0|[1-9][0-9]*)$"},
                                    ],
                                    "description": BIG_NUMBERS,
                                },
                            },
                            "additionalProperties": False,
                        },
                        "n and F(n), exact: a JSON integer, or a string with ?format=string",
                    ),
                    "400": _error(
                        "n is not a decimal integer between 0 and FIB_MAX_N, or format is "
                        "neither number nor string"
                    ),
                },
                parameters=[
                    {
                        "name": "n",
                        "in": "path",
                        "required": True,
                        "description": f"Decimal digits only, 0 to {settings.fib_max_n}",
                        "schema": {
                            "type": "integer",
                            "minimum": 0,
                            "maximum": settings.fib_max_n,
                        },
                    },
                    {
                        "name": "format",
                        "in": "query",
                        "required": False,
                        "description": "number (the default): result is a JSON integer; "
                        "string: result is a JSON string of the same digits",
                        "schema": {"type": "string", "enum": ["number", "string"]},
                    },
                ],
                description=BIG_NUMBERS,
            ),
            "/healthz": _get("Liveness", "healthz", {"200": _json(status_schema, "Alive")}),
            "/readyz": _get(
                "Readiness",
                "readyz",
                {
                    "200": _json(status_schema, "Ready for traffic"),
                    "503": _error("Shutdown has begun"),
                },
            ),
            "/metrics": _get(
                "Prometheus metrics",
                "metrics",
                {
                    "200": {
                        "description": "Prometheus text exposition format 0.0.4",
                        "content": {"text/plain": {"schema": {"type": "string"}}},
                    }
                },
            ),
            "/openapi.json": _get(
                "This document",
                "openapi",
                {"200": _json({"type": "object"}, "The OpenAPI 3.1 document")},
            ),
        },
        "components": {
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error", "detail"],
                    "properties": {
                        "error": {
                            "type": "string",
                            "enum": [
                                "invalid_n",
                                "invalid_format",
                                "not_found",
                                "method_not_allowed",
                                "shutting_down",
                                "internal_error",
                            ],
                        },
                        "detail": {"type": "string"},
                    },
                    "additionalProperties": False,
                }
            }
        },
    }
