"""Fixtures for the codex-review tests: a git repository, the GitHub API stand-in, and the
environment GitHub Actions gives a pull_request job."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.codex_review.fakes import (
    HEAD_SHA,
    PR_NUMBER,
    REPOSITORY,
    REPOSITORY_ID,
    TOKEN,
    FakeGitHub,
    GitHubStandIn,
    GitRepo,
)


@pytest.fixture
def git_repo(tmp_path: Path) -> GitRepo:
    return GitRepo(tmp_path)


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    fake = FakeGitHub()
    server = GitHubStandIn(fake)
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
    # Every request of every test conforms to GitHub's published REST description.
    assert fake.violations == []


@pytest.fixture
def actions_env(tmp_path: Path, github: FakeGitHub) -> dict[str, str]:
    """The environment GitHub Actions gives a pull_request job, pointed at the stand-in."""
    event = {
        "action": "synchronize",
        "number": PR_NUMBER,
        "pull_request": {
            "number": PR_NUMBER,
            "head": {"sha": HEAD_SHA, "ref": "feature"},
            "base": {"sha": "f" * 40, "ref": "main"},
        },
        "repository": {"full_name": REPOSITORY, "id": REPOSITORY_ID},
    }
    event_path = tmp_path / "event.json"
    event_path.write_text(json.dumps(event))
    return {
        "GITHUB_TOKEN": TOKEN,
        "GITHUB_REPOSITORY": REPOSITORY,
        "GITHUB_EVENT_PATH": str(event_path),
        "GITHUB_API_URL": github.url,
        "GITHUB_SERVER_URL": "https://github.example",
    }
