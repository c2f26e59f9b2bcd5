"""The Dockerfile as text: lint-clean, and declaring the values other files depend on.

These need no container engine; what the built image does is checked in test_image.py.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from tests.image.dockerfile import DOCKERFILE, arg_default, base_image, instructions, qualified

HADOLINT = Path(sys.executable).parent / "hadolint"


def test_hadolint_reports_nothing() -> None:
    if not HADOLINT.exists():
        pytest.skip("hadolint is missing from the venv; install it with: make test (uv sync)")
    result = subprocess.run(
        [str(HADOLINT), "--no-color", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


@pytest.mark.parametrize(
    "line",
    [
        # Parsed by the Kubernetes manifests' test: runAsUser/runAsGroup must match.
        pytest.param("ARG APP_UID=10001", id="uid"),
        pytest.param("ARG APP_GID=10001", id="gid"),
        pytest.param("EXPOSE 8080", id="port"),
        pytest.param("USER ${APP_UID}:${APP_GID}", id="user"),
    ],
)
def test_dockerfile_declares(line: str) -> None:
    assert line in DOCKERFILE.read_text().splitlines()


def test_base_is_a_literal_versioned_python_slim_image_that_every_stage_starts_from() -> None:
    # Dependabot reads only an image named literally in FROM (no ARG): the base is that line,
    # and every other stage starts from the stage it names, so all share one interpreter.
    froms = [i.arguments.split() for i in instructions() if i.keyword == "FROM"]
    base = base_image()
    name, _, tag = base.partition(":")
    assert (name, tag.startswith("3."), "-slim" in tag) == ("python", True, True)
    assert froms[0] == [base, "AS", froms[0][2]]
    assert [words[0] for words in froms[1:]] == [froms[0][2]] * (len(froms) - 1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("FROM img:1 AS a\nFROM a AS b\n", "img:1", id="stage-names-are-not-images"),
        pytest.param("FROM img:1 AS a\nFROM img:1 AS b\n", "img:1", id="repeated-literal"),
        pytest.param("FROM --platform=$P img:1 AS a\n", "img:1", id="flags-skipped"),
        pytest.param("# FROM other:2\nFROM img:1\n", "img:1", id="comments-ignored"),
    ],
)
def test_base_image_is_the_one_image_not_an_earlier_stage(text: str, expected: str) -> None:
    assert base_image(text) == expected


def test_base_image_refuses_two_different_bases() -> None:
    with pytest.raises(LookupError, match="one base image"):
        base_image("FROM a:1 AS x\nFROM b:2 AS y\n")


@pytest.mark.parametrize(
    ("reference", "expected"),
    [
        pytest.param("python:3", "docker.io/library/python:3", id="official-image"),
        pytest.param("owner/app:1", "docker.io/owner/app:1", id="hub-namespace"),
        pytest.param("ghcr.io/owner/app:1", "ghcr.io/owner/app:1", id="registry"),
        pytest.param("localhost:5000/app", "localhost:5000/app", id="registry-port"),
        pytest.param("localhost/app:1", "localhost/app:1", id="localhost"),
    ],
)
def test_qualified_names_docker_hub_in_full(reference: str, expected: str) -> None:
    assert qualified(reference) == expected


def test_command_is_exec_form_and_comes_last_but_for_metadata() -> None:
    steps = [i for i in instructions() if i.keyword not in ("ARG", "LABEL")]
    assert (steps[-1].keyword, steps[-1].arguments) == ("CMD", '["/app/.venv/bin/argo-python"]')


def test_bytecode_stage_starts_the_service_as_the_images_command_does() -> None:
    """The bytecode compiled is that of what CMD imports at start: the tool runs CMD itself."""
    (command,) = [i for i in instructions() if i.keyword == "CMD"]
    runs = [shlex.split(i.arguments) for i in instructions() if i.keyword == "RUN"]
    (tool,) = [argv for argv in runs if any(arg.endswith("/image_bytecode.py") for arg in argv)]
    assert tool[tool.index("--") + 1 :] == json.loads(command.arguments)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("ARG A=1\nARG A=2\n", "1", id="first-declaration-wins"),
        pytest.param("# ARG A=0\nARG A=1\n", "1", id="comments-ignored"),
        pytest.param("RUN true \\\n  && true\nARG A=3\n", "3", id="after-continuation"),
    ],
)
def test_arg_default_reads_instructions_not_text(text: str, expected: str) -> None:
    assert arg_default("A", text) == expected
