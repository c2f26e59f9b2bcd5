"""The GitHub Actions workflows of this repository, read as data, and the linters that check
them, found in the virtual environment that `make test` creates."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"


def workflow_paths() -> list[Path]:
    return sorted([*WORKFLOWS.glob("*.yml"), *WORKFLOWS.glob("*.yaml")])


def load(name: str) -> dict[str, Any]:
    """A workflow as data. YAML 1.2 keeps the `on:` key a string (YAML 1.1 made it True)."""
    data = YAML(typ="safe", pure=True).load((WORKFLOWS / name).read_text())
    assert isinstance(data, dict), name
    return data


def step(job: dict[str, Any], *, uses: str | None = None, name: str | None = None) -> Any:
    """The one step of `job` using action `uses` (any version) or called `name`."""
    found = [
        s
        for s in job["steps"]
        if (uses is not None and str(s.get("uses", "")).split("@")[0] == uses)
        or (name is not None and s.get("name") == name)
    ]
    assert len(found) == 1, f"expected one step with uses={uses} name={name}, found {found}"
    return found[0]


def step_index(job: dict[str, Any], chosen: dict[str, Any]) -> int:
    return next(index for index, s in enumerate(job["steps"]) if s is chosen)


def tool(name: str) -> Path:
    """A linter from the lint dependency group (or PATH); skipped, with how to get it, if absent."""
    beside_python = Path(sys.executable).with_name(name)
    if beside_python.exists():
        return beside_python
    found = shutil.which(name)
    if found is None:
        pytest.skip(f"{name} is not installed; install it with: make test (uv sync, lint group)")
    return Path(found)
