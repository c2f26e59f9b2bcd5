"""The Dockerfile as text: lint-clean, and declaring the values other files depend on.

These need no container engine; what the built image does is checked in test_image.py.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from tests.image.dockerfile import DOCKERFILE, arg_default, instructions

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


def test_default_base_is_the_official_python_slim_image_shared_by_every_stage() -> None:
    stages = [i.arguments for i in instructions() if i.keyword == "FROM"]
    assert arg_default("BASE_IMAGE").startswith("python:3.11-slim")
    assert stages == [
        "${BASE_IMAGE} AS builder",
        "${BASE_IMAGE} AS bytecode",
        "${BASE_IMAGE} AS runtime",
    ]


def test_command_is_exec_form_and_comes_last_but_for_metadata() -> None:
    steps = [i for i in instructions() if i.keyword not in ("ARG", "LABEL")]
    assert (steps[-1].keyword, steps[-1].arguments) == ("CMD", '["/app/.venv/bin/argo-python"]')


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
