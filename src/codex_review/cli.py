"""The ``codex-review`` command: review a unified diff, write a report, optionally publish it.

    codex-review --diff pr_diff.txt [--format json|text|markdown|sarif] [--output FILE]
                 [--sarif FILE] [--repo-dir DIR] [--fail-on error|warning|never] [--github]

Exit codes: 0 done (no finding at or above ``--fail-on``); 1 findings at or above ``--fail-on``;
2 bad usage, unreadable or malformed input, a bad GitHub Actions environment or a bad outputs
setting; 3 the GitHub API failed (after retries). A 403 from GitHub is not a failure: the bot
prints the findings as workflow-command annotations and a ``::notice::`` and carries on,
because a pull request from a fork only gets a read-only token. Every failure is one line on
stderr. The outputs of ``--github`` are configured as ``outputs.py`` describes.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from codex_review import __version__
from codex_review.annotations import command, workflow_commands
from codex_review.comment import render_markdown
from codex_review.context import (
    ContextError,
    GitHubSettings,
    github_from_env,
    pull_request_from_env,
)
from codex_review.diff import DiffError, parse_diff
from codex_review.guidelines import Guidance
from codex_review.models import Severity
from codex_review.outputs import AGENTS_MD, Outputs, OutputsError
from codex_review.outputs import load as load_outputs
from codex_review.render import FORMATS, render
from codex_review.review import Review, review
from codex_review.rulefiles import load_rule_files
from codex_review.sarif import render_sarif
from codex_review.workspace import Workspace

if TYPE_CHECKING:
    from codex_review.publish import Delivered

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_INPUT = 2
EXIT_GITHUB = 3

# GitHub keeps at most 1 MiB of job summary per step; a character may take 4 bytes.
JOB_SUMMARY_CHARS = 250_000

FAIL_ON: Mapping[str, Severity | None] = {
    "error": Severity.ERROR,
    "warning": Severity.WARNING,
    "never": None,
}


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # argparse would print the whole usage block; one line is the contract.
        raise _UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="codex-review",
        description="Review the added lines of a unified diff with per-language rules.",
    )
    parser.add_argument("--diff", required=True, help="unified diff to review ('-' for stdin)")
    parser.add_argument("--format", choices=FORMATS, default="text", help="report format")
    parser.add_argument("--output", help="write the report to this file (default: stdout)")
    parser.add_argument("--sarif", help="also write the review as SARIF to this file")
    parser.add_argument(
        "--repo-dir",
        default=".",
        help="checkout of the PR head: post-image files and AGENTS.md are read here",
    )
    parser.add_argument(
        "--fail-on",
        choices=tuple(FAIL_ON),
        default="never",
        help="exit 1 when a finding at or above this severity exists (default: never)",
    )
    parser.add_argument(
        "--github",
        action="store_true",
        help="publish to the pull request: summary comment, inline review, check run (see "
        "docs/review-outputs.md for the CODEX_REVIEW_* settings)",
    )
    parser.add_argument("--version", action="version", version=f"codex-review {__version__}")
    return parser


class _FailureError(Exception):
    """A failure of the command: one line for stderr and the exit code."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def _fail(message: str, code: int) -> int:
    print(f"codex-review: error: {message}", file=sys.stderr)
    return code


def _read_diff(name: str) -> bytes:
    try:
        if name == "-":
            return sys.stdin.buffer.read()
        return Path(name).read_bytes()
    except OSError as error:
        message = f"cannot read the diff {name!r}: {error.strerror or error}"
        raise _FailureError(message, EXIT_INPUT) from None


def _write_file(name: str, text: str) -> None:
    try:
        Path(name).write_text(text, encoding="utf-8")
    except OSError as error:
        raise _FailureError(
            f"cannot write {name!r}: {error.strerror or error}", EXIT_INPUT
        ) from None


def _write_report(name: str | None, report: str, summary: str) -> None:
    if name is None:
        sys.stdout.write(report)
        sys.stdout.flush()
        return
    _write_file(name, report)
    print(f"codex-review: {summary}; report in {name}", file=sys.stderr)


def _deliver(
    settings: GitHubSettings, result: Review, outputs: Outputs, env: Mapping[str, str]
) -> Delivered:
    # httpx is only imported, and only paid for, when publishing.
    from codex_review.github import GitHubClient  # noqa: PLC0415
    from codex_review.publish import deliver  # noqa: PLC0415

    pull = settings.pull
    run_id = env.get("GITHUB_RUN_ID", "")
    details = (
        f"{pull.server_url}/{pull.repository}/actions/runs/{run_id}" if run_id.isdigit() else None
    )
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    with GitHubClient(settings.api_url, settings.token, wait_budget=outputs.wait_budget) as client:
        return deliver(client, settings, result, outputs, now=now, details_url=details)


def _append_job_summary(env: Mapping[str, str], text: str) -> bool:
    name = env.get("GITHUB_STEP_SUMMARY", "")
    if not name:
        return False
    try:
        with Path(name).open("a", encoding="utf-8") as summary:
            summary.write(text)
    except OSError as error:
        print(f"codex-review: warning: cannot write the job summary: {error}", file=sys.stderr)
        return False
    return True


def _publish(
    settings: GitHubSettings, result: Review, outputs: Outputs, env: Mapping[str, str]
) -> None:
    """Every output of --github; a GitHub failure is reported after the findings are shown."""
    from codex_review.github import GitHubError  # noqa: PLC0415

    delivered: Delivered | None = None
    failure: GitHubError | None = None
    try:
        delivered = _deliver(settings, result, outputs, env)
    except GitHubError as error:
        failure = error
    notes = delivered.plan.notes() if delivered is not None and delivered.plan else []
    summary_written = outputs.job_summary and _append_job_summary(
        env, render_markdown(result, settings.pull, notes, limit=JOB_SUMMARY_CHARS)
    )
    carried = delivered is not None and delivered.check_run_id is not None
    if outputs.annotations == "always" or (outputs.annotations == "auto" and not carried):
        notices = 1 if failure is not None or (delivered is not None and delivered.forbidden) else 0
        for line in workflow_commands(result.findings, summary_written, notices):
            print(line)
    if delivered is not None:
        _report(delivered)
    if failure is not None:
        raise _FailureError(str(failure), EXIT_GITHUB)


def _report(delivered: Delivered) -> None:
    if delivered.forbidden:
        print(
            command(
                "notice",
                f"{delivered.forbidden[0]}. The token cannot write here (a pull request from a "
                "fork gets a read-only token); the findings are annotations on their lines and "
                "the job summary lists them all.",
                title="codex-review",
            )
        )
    done = []
    if delivered.comment is not None:
        action = "created" if delivered.comment_created else "updated"
        done.append(f"{action} comment {delivered.comment.html_url}")
    if delivered.plan is not None and delivered.review_id is not None:
        done.append(f"review with {len(delivered.plan.new)} inline comments")
    if delivered.check_run_id is not None:
        done.append(f"check run {delivered.check_run_id}")
    if delivered.status is not None:
        done.append(f"status {delivered.status}")
    if done:
        print(f"codex-review: {'; '.join(done)}", file=sys.stderr)
    for note in delivered.notes:
        print(f"codex-review: warning: {note}", file=sys.stderr)


def run(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    """Review, report, publish; raises ``_FailureError`` for anything the user must fix."""
    data = _read_diff(args.diff)
    repo_dir = Path(args.repo_dir)
    if not repo_dir.is_dir():
        raise _FailureError(f"--repo-dir {args.repo_dir!r} is not a directory", EXIT_INPUT)
    workspace = Workspace(repo_dir)
    try:
        settings = github_from_env(env) if args.github else None
        outputs = load_outputs(env, workspace.read_text(AGENTS_MD)) if args.github else None
        files = parse_diff(data)
    except (ContextError, DiffError, OutputsError) as error:
        raise _FailureError(str(error), EXIT_INPUT) from None
    pull = settings.pull if settings is not None else pull_request_from_env(env)
    own = load_rule_files(repo_dir)
    guidance = Guidance(workspace.read_text, own.rules)
    result = review(files, workspace.read_text, guidance, own.rules, own.problems)
    report = render(result, args.format, pull)
    _write_report(args.output, report, result.summary)
    if args.sarif:
        _write_file(
            args.sarif, json.dumps(render_sarif(result), indent=2, ensure_ascii=False) + "\n"
        )
    if settings is not None and outputs is not None:
        _publish(settings, result, outputs, env)
    threshold = FAIL_ON[args.fail_on]
    worst = result.worst
    if threshold is not None and worst is not None and worst >= threshold:
        return EXIT_FINDINGS
    return EXIT_OK


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    """Run the command; returns the exit code (see the module docstring)."""
    try:
        args = build_parser().parse_args(argv)
    except _UsageError as error:
        return _fail(f"{error} (see --help)", EXIT_INPUT)
    try:
        return run(args, os.environ if env is None else env)
    except _FailureError as failure:
        return _fail(str(failure), failure.code)


if __name__ == "__main__":
    raise SystemExit(main())
