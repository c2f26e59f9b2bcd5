""".github/dependabot.yml keeps every kind of dependency of the repository current, is valid by
SchemaStore's schema (vendored by check-jsonschema, so offline), and its pull requests meet the
same gate as anyone's."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML
from tests.workflows.workflow_files import ROOT, load, tool, workflow_paths

CONFIG = ROOT / ".github" / "dependabot.yml"
# What each ecosystem reads, by the file Dependabot looks for in an entry's directory.
MANIFESTS = {"docker": "Dockerfile", "uv": "uv.lock"}


def _config() -> dict[str, Any]:
    data = YAML(typ="safe", pure=True).load(CONFIG.read_text())
    assert isinstance(data, dict)
    return data


def _validate(path: Path) -> subprocess.CompletedProcess[str]:
    command = [str(tool("check-jsonschema")), "--builtin-schema", "vendor.dependabot", str(path)]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


def test_config_is_valid_by_the_dependabot_schema() -> None:
    result = _validate(CONFIG)
    assert result.returncode == 0, result.stdout + result.stderr


def test_schema_check_rejects_an_unknown_ecosystem(tmp_path: Path) -> None:
    broken = tmp_path / "dependabot.yml"
    broken.write_text(
        CONFIG.read_text().replace("package-ecosystem: uv", "package-ecosystem: pipx")
    )
    assert _validate(broken).returncode != 0


def _used_ecosystems() -> dict[str, Path]:
    """The ecosystems this repository has dependencies in, with the directory holding them."""
    used = {name: ROOT for name, manifest in MANIFESTS.items() if (ROOT / manifest).exists()}
    if any("uses:" in path.read_text() for path in workflow_paths()):
        used["github-actions"] = ROOT  # Dependabot reads .github/workflows/ below "/"
    return used


@pytest.mark.parametrize("ecosystem", sorted(_used_ecosystems()))
def test_every_ecosystem_in_use_is_updated_weekly_from_its_directory(ecosystem: str) -> None:
    entries = [u for u in _config()["updates"] if u["package-ecosystem"] == ecosystem]
    assert len(entries) == 1, f"one dependabot entry for {ecosystem}"
    (entry,) = entries
    directory = ROOT / entry["directory"].lstrip("/")
    assert directory.resolve() == _used_ecosystems()[ecosystem].resolve()
    assert entry["schedule"]["interval"] in ("daily", "weekly")


def test_config_names_no_ecosystem_the_repository_does_not_use() -> None:
    assert {u["package-ecosystem"] for u in _config()["updates"]} == set(_used_ecosystems())


def test_dependabots_pull_requests_meet_the_same_gate() -> None:
    # ci.yml runs `make test` on every pull request: no branch, path or actor filter that a
    # Dependabot branch (dependabot/<ecosystem>/...) could slip past.
    trigger = load("ci.yml")["on"]["pull_request"]
    assert not trigger, f"ci.yml filters pull requests: {trigger}"
