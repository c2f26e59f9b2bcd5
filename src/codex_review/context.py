"""Where a review runs: the pull request it belongs to and the GitHub settings to publish it.

Read once, at the command-line edge, from the standard GitHub Actions environment
(GITHUB_REPOSITORY, GITHUB_EVENT_PATH, GITHUB_TOKEN, GITHUB_API_URL, GITHUB_SERVER_URL).
A missing or malformed value raises ``ContextError`` naming the variable.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

DEFAULT_API_URL = "https://api.github.com"
DEFAULT_SERVER_URL = "https://github.com"
_REPOSITORY = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
_SHA = re.compile(r"^[0-9a-fA-F]{7,64}$")


class ContextError(ValueError):
    """The GitHub Actions environment is missing or malformed."""


@dataclass(frozen=True)
class PullRequest:
    """The pull request under review; every field may be unknown when run locally."""

    repository: str | None = None
    number: int | None = None
    head_sha: str | None = None
    server_url: str = DEFAULT_SERVER_URL

    def blob_url(self, path: str, line: int) -> str | None:
        """Link to a line of the head commit's file, or None without repository and commit."""
        if not self.repository or not self.head_sha:
            return None
        return f"{self.server_url}/{self.repository}/blob/{self.head_sha}/{quote(path)}#L{line}"


@dataclass(frozen=True)
class GitHubSettings:
    """What ``--github`` needs; the token is kept out of ``repr`` so it never reaches a log."""

    token: str = field(repr=False)
    api_url: str
    pull: PullRequest


def _event(path: str) -> Mapping[str, object]:
    try:
        event = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        message = f"GITHUB_EVENT_PATH: cannot read the event file {path!r}: {error}"
        raise ContextError(message) from error
    if not isinstance(event, dict):
        raise ContextError("GITHUB_EVENT_PATH: the event file is not a JSON object")
    return event


def _pull_request_fields(event: Mapping[str, object]) -> tuple[int, str]:
    pull = event.get("pull_request")
    if not isinstance(pull, dict):
        raise ContextError(
            "GITHUB_EVENT_PATH: not a pull_request event (no 'pull_request' object); "
            "run the review on pull_request or pull_request_target"
        )
    number = pull.get("number", event.get("number"))
    head = pull.get("head")
    sha = head.get("sha") if isinstance(head, dict) else None
    if not isinstance(number, int) or number <= 0:
        raise ContextError("GITHUB_EVENT_PATH: pull_request.number is missing or not a number")
    if not isinstance(sha, str) or not _SHA.match(sha):
        raise ContextError("GITHUB_EVENT_PATH: pull_request.head.sha is missing or not a SHA")
    return number, sha


def _url(env: Mapping[str, str], name: str, default: str) -> str:
    value = env.get(name) or default
    if not value.startswith(("https://", "http://")):
        raise ContextError(f"{name}: expected an http(s) URL, got {value!r}")
    return value.rstrip("/")


def pull_request_from_env(env: Mapping[str, str]) -> PullRequest:
    """Best effort for rendering: whatever the environment tells, nothing required."""
    repository = env.get("GITHUB_REPOSITORY") or None
    server_url = (env.get("GITHUB_SERVER_URL") or DEFAULT_SERVER_URL).rstrip("/")
    number = sha = None
    if env.get("GITHUB_EVENT_PATH"):
        with contextlib.suppress(ContextError):
            number, sha = _pull_request_fields(_event(env["GITHUB_EVENT_PATH"]))
    return PullRequest(repository, number, sha, server_url)


def github_from_env(env: Mapping[str, str]) -> GitHubSettings:
    """Everything ``--github`` needs, validated; ContextError names the first bad variable."""
    token = env.get("GITHUB_TOKEN", "")
    if not token.strip():
        raise ContextError("GITHUB_TOKEN: not set (the workflow must pass secrets.GITHUB_TOKEN)")
    repository = env.get("GITHUB_REPOSITORY", "")
    if not _REPOSITORY.match(repository):
        raise ContextError(f"GITHUB_REPOSITORY: expected 'owner/name', got {repository!r}")
    event_path = env.get("GITHUB_EVENT_PATH", "")
    if not event_path:
        raise ContextError("GITHUB_EVENT_PATH: not set (path of the pull_request event JSON)")
    number, sha = _pull_request_fields(_event(event_path))
    pull = PullRequest(repository, number, sha, _url(env, "GITHUB_SERVER_URL", DEFAULT_SERVER_URL))
    return GitHubSettings(token.strip(), _url(env, "GITHUB_API_URL", DEFAULT_API_URL), pull)
