"""The ``codex-review`` command: review a unified diff, write a report, optionally publish it.

    codex-review --diff pr_diff.txt [--format json|text|markdown|sarif] [--output FILE]
                 [--repo-dir DIR] [--fail-on error|warning|never] [--github]

Exit codes: 0 done (no finding at or above ``--fail-on``); 1 findings at or above ``--fail-on``;
2 bad usage, unreadable or malformed input, or a bad GitHub Actions environment;
3 the GitHub API failed (after retries). A 403 from GitHub is not a failure: the bot prints
a ``::notice::`` and carries on, because a pull request from a fork only gets a read-only token.
Every failure is one line on stderr.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import NoReturn

from codex_review import __version__
from codex_review.context import (
    ContextError,
    GitHubSettings,
    github_from_env,
    pull_request_from_env,
)
from codex_review.diff import DiffError, parse_diff
from codex_review.guidelines import Guidance
from codex_review.models import Severity
from codex_review.render import FORMATS, render
from codex_review.review import Review, review
from codex_review.rulefiles import load_rule_files
from codex_review.status import commit_status
from codex_review.workspace import Workspace

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_INPUT = 2
EXIT_GITHUB = 3

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
        help="post or update the PR comment and set the codex-review commit status",
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


def _workflow_command(kind: str, message: str) -> str:
    """A GitHub Actions ``::notice::``-style line; data escaped as the runner expects."""
    escaped = message.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return f"::{kind} title=codex-review::{escaped}"


def _read_diff(name: str) -> bytes:
    try:
        if name == "-":
            return sys.stdin.buffer.read()
        return Path(name).read_bytes()
    except OSError as error:
        message = f"cannot read the diff {name!r}: {error.strerror or error}"
        raise _FailureError(message, EXIT_INPUT) from None


def _write_report(name: str | None, report: str, summary: str) -> None:
    if name is None:
        sys.stdout.write(report)
        sys.stdout.flush()
        return
    try:
        Path(name).write_text(report, encoding="utf-8")
    except OSError as error:
        raise _FailureError(
            f"cannot write {name!r}: {error.strerror or error}", EXIT_INPUT
        ) from None
    print(f"codex-review: {summary}; report in {name}", file=sys.stderr)


def _publish(settings: GitHubSettings, result: Review, body: str) -> None:
    # httpx is only imported, and only paid for, when publishing.
    from codex_review.github import (  # noqa: PLC0415
        GitHubClient,
        GitHubError,
        GitHubForbiddenError,
        publish,
    )

    status = commit_status(result.worst)
    try:
        with GitHubClient(settings.api_url, settings.token) as client:
            published = publish(client, settings, body, status)
    except GitHubForbiddenError as error:
        print(
            _workflow_command(
                "notice",
                f"{error}. The token cannot write here (a pull request from a fork gets a "
                "read-only token); the review is in the job log and the output file.",
            )
        )
        return
    except GitHubError as error:
        raise _FailureError(str(error), EXIT_GITHUB) from None
    action = "created" if published.created else "updated"
    print(
        f"codex-review: {action} comment {published.comment.html_url}; "
        f"status {status.state} ({status.description})",
        file=sys.stderr,
    )


def run(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    """Review, report, publish; raises ``_FailureError`` for anything the user must fix."""
    data = _read_diff(args.diff)
    repo_dir = Path(args.repo_dir)
    if not repo_dir.is_dir():
        raise _FailureError(f"--repo-dir {args.repo_dir!r} is not a directory", EXIT_INPUT)
    try:
        settings = github_from_env(env) if args.github else None
        files = parse_diff(data)
    except (ContextError, DiffError) as error:
        raise _FailureError(str(error), EXIT_INPUT) from None
    pull = settings.pull if settings is not None else pull_request_from_env(env)
    workspace = Workspace(repo_dir)
    own = load_rule_files(repo_dir)
    guidance = Guidance(workspace.read_text, own.rules)
    result = review(files, workspace.read_text, guidance, own.rules, own.problems)
    report = render(result, args.format, pull)
    _write_report(args.output, report, result.summary)
    if settings is not None:
        body = report if args.format == "markdown" else render(result, "markdown", pull)
        _publish(settings, result, body)
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
