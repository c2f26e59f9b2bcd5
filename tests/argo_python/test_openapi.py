"""The OpenAPI document is valid 3.1 and every documented route answers as documented."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest
from openapi_spec_validator import validate
from tests.argo_python.serverproc import ServerProcess

from argo_python.app import route_templates

# A sample path per template, with the statuses the sample is expected to produce.
SAMPLES = {
    "/hello": [("/hello", 200)],
    "/fibonacci/{n}": [("/fibonacci/10", 200), ("/fibonacci/-3", 400), ("/fibonacci/10001", 400)],
    "/healthz": [("/healthz", 200)],
    "/readyz": [("/readyz", 200)],
    "/metrics": [("/metrics", 200)],
    "/openapi.json": [("/openapi.json", 200)],
}


@pytest.fixture(scope="module")
def document(server: ServerProcess) -> dict[str, Any]:
    reply = server.get("/openapi.json")
    assert reply.status == 200
    doc: dict[str, Any] = reply.json()
    return doc


def test_document_is_valid_openapi_3_1(document: dict[str, Any]) -> None:
    assert document["openapi"].startswith("3.1")
    validate(document)


def test_document_describes_every_route_the_service_serves(document: dict[str, Any]) -> None:
    assert sorted(document["paths"]) == sorted(route_templates()) == sorted(SAMPLES)


def check_against(
    document: dict[str, Any], operation: dict[str, Any], status: int, reply: Any
) -> None:
    responses = operation["responses"]
    assert str(status) in responses, f"{status} is not documented"
    content = responses[str(status)]["content"]
    media = reply.headers["content-type"].split(";")[0]
    assert media in content, f"{media} is not documented for {status}"
    if media == "application/json":
        # $refs in the schema resolve against a root that carries the document's components.
        schema = {**content[media]["schema"], "components": document["components"]}
        jsonschema.validate(reply.json(), schema, cls=jsonschema.Draft202012Validator)


@pytest.mark.parametrize(
    ("template", "path", "status"),
    [(t, p, s) for t, samples in SAMPLES.items() for p, s in samples],
    ids=str,
)
def test_each_route_answers_as_documented(
    server: ServerProcess, document: dict[str, Any], template: str, path: str, status: int
) -> None:
    reply = server.get(path)
    assert reply.status == status
    check_against(document, document["paths"][template]["get"], status, reply)


@pytest.mark.parametrize("template", sorted(SAMPLES))
def test_wrong_method_answers_the_documented_405(
    server: ServerProcess, document: dict[str, Any], template: str
) -> None:
    path = SAMPLES[template][0][0]
    reply = server.request("DELETE", path)
    assert reply.status == 405
    check_against(document, document["paths"][template]["get"], 405, reply)
