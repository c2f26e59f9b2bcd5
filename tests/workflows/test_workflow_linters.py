"""actionlint (with shellcheck for `run:` scripts) and zizmor report nothing on the workflows.
Each linter is first shown a broken workflow, so a linter that silently checks nothing (a
missing shellcheck, a zizmor that needs the network) fails the test instead of passing it."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.workflows.workflow_files import ROOT, tool, workflow_paths

BROKEN = """\
on: push
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: echo $UNQUOTED ${{ github.event.head_commit.message }}
"""


def _actionlint(*paths: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            str(tool("actionlint")),
            "-no-color",
            f"-shellcheck={tool('shellcheck')}",
            *map(str, paths),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )


def _zizmor(*paths: Path) -> subprocess.CompletedProcess[str]:
    # --offline: no network here nor needed; --no-config --no-ignores: the default rules,
    # with nothing switched off by a config file or an ignore comment.
    return subprocess.run(
        [
            str(tool("zizmor")),
            "--offline",
            "--no-config",
            "--no-ignores",
            "--no-progress",
            "--persona=regular",
            "--format=json",
            *map(str, paths),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )


def test_there_are_workflows_to_lint() -> None:
    names = {path.name for path in workflow_paths()}
    assert {"ci.yml", "deploy.yml", "codex-review.yml"} <= names


def test_actionlint_runs_shellcheck_on_run_scripts(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text(BROKEN)
    result = _actionlint(broken)
    assert result.returncode == 1
    assert "shellcheck reported issue" in result.stdout
    assert "potentially untrusted" in result.stdout


def test_actionlint_reports_nothing_on_the_workflows() -> None:
    result = _actionlint(*workflow_paths())
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_zizmor_finds_the_problems_of_a_broken_workflow_offline(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text(BROKEN)
    result = _zizmor(broken)
    found = {finding["ident"] for finding in json.loads(result.stdout)}
    assert {"template-injection", "unpinned-uses", "artipacked"} <= found


def test_zizmor_reports_no_finding_on_the_workflows() -> None:
    result = _zizmor(*workflow_paths())
    findings = json.loads(result.stdout)
    summary = [(f["ident"], f["desc"]) for f in findings]
    assert summary == []
    assert result.returncode == 0, result.stderr
