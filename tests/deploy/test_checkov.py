"""checkov finds nothing in k8s/, tofu/ or the Dockerfile, and every finding skipped is justified
where it is."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from .support import K8S_DIR, ROOT, TOFU_DIR

# checkov lives in a venv of its own (see the `checkov` group in pyproject.toml).
CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"
DOCKERFILE = ROOT / "Dockerfile"


def _scan(target: Path, framework: str) -> dict[str, Any]:
    if not CHECKOV.exists():
        pytest.skip("checkov's venv is missing: create it with `make .venv-checkov/.synced`")
    # --skip-download: no call to the Bridgecrew platform, which is unreachable offline.
    scope = "--file" if target.is_file() else "--directory"
    command = [str(CHECKOV), scope, str(target), "--framework", framework]
    result = subprocess.run(
        [*command, "--skip-download", "--output", "json"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.stdout, f"checkov printed nothing: {result.stderr[-2000:]}"
    report: dict[str, Any] = json.loads(result.stdout)
    return report


@pytest.fixture(
    scope="module",
    params=[(K8S_DIR, "kubernetes"), (TOFU_DIR, "terraform"), (DOCKERFILE, "dockerfile")],
    ids=["k8s", "tofu", "dockerfile"],
)
def report(request: pytest.FixtureRequest) -> dict[str, Any]:
    directory, framework = request.param
    return _scan(directory, framework)


def test_checkov_reports_no_failed_check_and_parses_every_file(report: dict[str, Any]) -> None:
    failed = [
        f"{check['check_id']} {check['check_name']} ({check['file_path']})"
        for check in report["results"]["failed_checks"]
    ]
    assert failed == []
    assert report["summary"]["parsing_errors"] == 0
    assert report["summary"]["passed"] > 0


def test_every_skipped_check_is_justified_inline(report: dict[str, Any]) -> None:
    skipped = report["results"]["skipped_checks"]
    assert len(skipped) == report["summary"]["skipped"]
    unjustified = [
        check["check_id"]
        for check in skipped
        if len((check["check_result"].get("suppress_comment") or "").split()) < 4
    ]
    assert unjustified == []
