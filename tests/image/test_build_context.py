"""What `docker build .` sends to the engine: only the files the Dockerfile copies.

A throw-away image copies the whole build context of the repository (filtered by its
.dockerignore, as every build is) and the test reads the file list back from the saved image.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.image import layers
from tests.image.dockerfile import REPO
from tests.image.engine import Engine
from tests.image.harness import TAG

pytestmark = pytest.mark.image

PROBE = f"{TAG}-context"
# Outside the context an edit would still invalidate layers; inside it a secret would leak.
NEEDED = {"pyproject.toml", "uv.lock", "README.md", "src", "tools"}


@pytest.fixture(scope="module")
def context_files(engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[str]]:
    workdir = tmp_path_factory.mktemp("context-probe")
    dockerfile = workdir / "Dockerfile"
    dockerfile.write_text("FROM scratch\nCOPY . /context/\n")
    engine.build(REPO, PROBE, {}, dockerfile=dockerfile)
    try:
        archive = workdir / "probe.tar"
        engine.run("save", "-o", str(archive), PROBE)
        yield _context_paths(archive)
    finally:
        engine.run("rmi", PROBE, check=False)


def test_build_context_holds_only_what_the_image_needs(context_files: list[str]) -> None:
    assert {path.split("/", 1)[0] for path in context_files} == NEEDED
    # Of tools/, only the build-time bytecode compiler (bootstrap_uv.py serves the Makefile).
    assert [path for path in context_files if path.startswith("tools/")] == [
        "tools/image_bytecode.py"
    ]


@pytest.mark.parametrize(
    "part",
    [
        "tests",
        "bench",
        ".git",
        ".venv",
        ".tools",
        "__pycache__",
        ".ruff_cache",
        ".mypy_cache",
        "argo_gitops",
        "codex_review",
    ],
)
def test_build_context_leaves_out(context_files: list[str], part: str) -> None:
    assert [path for path in context_files if part in path.split("/")] == []


def _context_paths(archive: Path) -> list[str]:
    """Paths under /context/ in the probe image, relative to it."""
    prefix = "context/"
    return [
        path.removeprefix(prefix)
        for path in layers.files(archive)
        if path.startswith(prefix) and path != prefix
    ]
