"""codex-review.yml agrees with the bot about its outputs: the permissions each output needs,
one workflow variable per outputs option, and the optional SARIF upload of the file the bot
writes, off unless the repository turns it on."""

from __future__ import annotations

import re
import shlex
from typing import Any

import pytest
from tests.workflows.workflow_files import load, step

from codex_review.outputs import OPTIONS

BOT_STEP = "Review, comment and set the codex-review status"
UPLOAD = "github/codeql-action/upload-sarif"


@pytest.fixture(scope="module")
def job() -> dict[str, Any]:
    jobs = load("codex-review.yml")["jobs"]
    return dict(jobs["review"])


def _bot_argv(job: dict[str, Any]) -> list[str]:
    return shlex.split(step(job, name=BOT_STEP)["run"])


def test_the_job_may_write_checks_and_code_scanning_results(job: dict[str, Any]) -> None:
    assert job["permissions"]["checks"] == "write"
    assert job["permissions"]["security-events"] == "write"


def test_every_outputs_option_is_a_repository_variable_of_the_same_name(
    job: dict[str, Any],
) -> None:
    configured = {
        name: value for name, value in job["env"].items() if name.startswith("CODEX_REVIEW_")
    }

    assert configured == {option.env: f"${{{{ vars.{option.env} }}}}" for option in OPTIONS}


def test_sarif_upload_sends_the_file_the_bot_writes(job: dict[str, Any]) -> None:
    argv = _bot_argv(job)
    upload = step(job, uses=UPLOAD)

    assert re.fullmatch(rf"{UPLOAD}@[0-9a-f]{{40}}", upload["uses"])
    assert upload["with"]["sarif_file"] == argv[argv.index("--sarif") + 1]
    assert upload["with"]["category"] == "codex-review"


def test_sarif_upload_is_off_unless_the_repository_variable_is_true(job: dict[str, Any]) -> None:
    condition = " ".join(step(job, uses=UPLOAD)["if"].split())

    assert "vars.CODEX_REVIEW_UPLOAD_SARIF == 'true'" in condition
    # A fork's read-only token cannot upload; the step is skipped there, so the job stays green.
    assert "github.event.pull_request.head.repo.full_name == github.repository" in condition


def test_the_bot_publishes_and_writes_the_job_summary_itself(job: dict[str, Any]) -> None:
    argv = _bot_argv(job)

    assert "--github" in argv
    assert argv[argv.index("--fail-on") + 1] == "never"  # a fork's job ends green
    assert all("GITHUB_STEP_SUMMARY" not in str(s.get("run", "")) for s in job["steps"])
