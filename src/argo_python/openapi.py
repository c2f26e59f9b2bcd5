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


def _get(summary: str, op_id: str, responses: dict[str, Any], **extra: Any) -> dict[str, Any]:
    common = {"405": _error("Method not allowed; the Allow header lists GET")}
    return {
        "get": {
            "summary": summary,
            "operationId": op_id,
            **extra,
            "responses": {**responses, **common},
        }
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
                                "result": {"type": "integer", "minimum": 0},
                            },
                            "additionalProperties": False,
                        },
                        "n and F(n); result is an arbitrary-precision JSON integer",
                    ),
                    "400": _error("n is not a decimal integer between 0 and FIB_MAX_N"),
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
                    }
                ],
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
