"""--github against a local GitHub API stand-in over real sockets: the summary comment, the
status, pagination, 403 from a fork's token, retries and rate limits."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from tests.codex_review.fakes import HEAD_SHA, PR_NUMBER, TOKEN, FakeGitHub, GitRepo

from codex_review.cli import main
from codex_review.comment import MARKER
from codex_review.github import (
    SECONDARY_LIMIT_WAIT,
    GitHubClient,
    GitHubError,
    GitHubForbiddenError,
)

STATE_BY_CODE = {
    "error": ("failure", "Critical issues found"),
    "warning": ("success", "Warnings found"),
    "info": ("success", "No issues found"),
    "clean": ("success", "No issues found"),
}
CODE = {
    "error": 'fn main() {\n    println!("password: {}", password);\n}\n',
    "warning": "fn main() {\n    let v = parse().unwrap();\n}\n",
    "info": "fn main() {\n    let v = data.clone();\n}\n",
    "clean": "fn main() {\n    let v = 1;\n}\n",
}


def _pr_diff(git_repo: GitRepo, code: str) -> Path:
    return git_repo.pr_diff_file("src/main.rs", "fn main() {}\n", code)


SUMMARY_COMMENTS = r"/issues/\d+/comments$"
WITH_STATUS = {"CODEX_REVIEW_COMMIT_STATUS": "on"}


def _run(diff: Path, repo: Path, env: dict[str, str], *extra: str) -> int:
    argv = ["--diff", str(diff), "--format", "markdown", "--output", str(diff.parent / "out.md")]
    return main([*argv, "--repo-dir", str(repo), "--github", *extra], env=env)


def test_first_run_creates_one_comment_and_second_run_updates_it(
    git_repo: GitRepo, github: FakeGitHub, actions_env: dict[str, str]
) -> None:
    diff = _pr_diff(git_repo, CODE["warning"])
    assert _run(diff, git_repo.path, actions_env) == 0
    assert _run(diff, git_repo.path, actions_env) == 0

    assert len(github.made("POST", r"/issues/\d+/comments$")) == 1
    assert len(github.made("PATCH", r"/issues/comments/\d+$")) == 1
    comments = github.comments[PR_NUMBER]
    assert len(comments) == 1
    assert comments[0]["body"].startswith(MARKER)
    assert "Consider using proper error handling instead of unwrap()" in comments[0]["body"]
    assert all(request.authorization == f"Bearer {TOKEN}" for request in github.requests)


def test_the_previous_comment_is_found_on_page_two_of_three(
    git_repo: GitRepo, github: FakeGitHub, actions_env: dict[str, str]
) -> None:
    for index in range(250):
        if index == 150:
            github.add_comment(
                f"{MARKER}\nold review", login="github-actions[bot]", user_type="Bot"
            )
        else:
            github.add_comment(f"human comment {index} mentioning 🔍 Codex Code Review")
    bot_id = github.comments[PR_NUMBER][150]["id"]
    diff = _pr_diff(git_repo, CODE["clean"])

    assert _run(diff, git_repo.path, actions_env) == 0

    listed = github.made("GET", SUMMARY_COMMENTS)
    assert [r.query.get("page", ["1"])[0] for r in listed] == ["1", "2"]
    assert listed[1].path.startswith("/repositories/")  # followed GitHub's Link URL as given
    assert [r.path for r in github.made("PATCH")] == [
        f"/repos/octo-org/widgets/issues/comments/{bot_id}"
    ]
    assert not github.made("POST", SUMMARY_COMMENTS)
    assert len(github.comments[PR_NUMBER]) == 250


def test_a_persons_comment_carrying_the_marker_is_never_adopted(
    git_repo: GitRepo, github: FakeGitHub, actions_env: dict[str, str]
) -> None:
    github.add_comment(f"{MARKER}\nlooks like the bot, written by a person")
    human_id = github.comments[PR_NUMBER][0]["id"]
    diff = _pr_diff(git_repo, CODE["clean"])

    assert _run(diff, git_repo.path, actions_env) == 0

    assert not github.made("PATCH")
    assert len(github.made("POST", SUMMARY_COMMENTS)) == 1
    assert github.comments[PR_NUMBER][0]["id"] == human_id
    assert github.comments[PR_NUMBER][0]["body"].endswith("written by a person")


def test_all_pages_are_read_before_creating_a_new_comment(
    git_repo: GitRepo, github: FakeGitHub, actions_env: dict[str, str]
) -> None:
    for index in range(201):
        github.add_comment(f"comment {index}")
    diff = _pr_diff(git_repo, CODE["clean"])

    assert _run(diff, git_repo.path, actions_env) == 0

    assert [r.query["page"][0] for r in github.made("GET", SUMMARY_COMMENTS)[1:]] == ["2", "3"]
    assert len(github.made("POST", SUMMARY_COMMENTS)) == 1


@pytest.mark.parametrize("worst", list(STATE_BY_CODE), ids=lambda w: f"worst-{w}")
def test_commit_status_is_valid_and_follows_the_worst_finding(
    worst: str, git_repo: GitRepo, github: FakeGitHub, actions_env: dict[str, str]
) -> None:
    diff = _pr_diff(git_repo, CODE[worst])

    assert _run(diff, git_repo.path, {**actions_env, **WITH_STATUS}) == 0

    assert len(github.statuses) == 1
    status = github.statuses[0]
    assert (status["state"], status["description"]) == STATE_BY_CODE[worst]
    assert status["context"] == "codex-review"
    assert status["sha"] == HEAD_SHA
    assert status["target_url"] == github.comments[PR_NUMBER][0]["html_url"]


def test_fail_on_error_still_publishes_then_exits_1(
    git_repo: GitRepo, github: FakeGitHub, actions_env: dict[str, str]
) -> None:
    diff = _pr_diff(git_repo, CODE["error"])

    assert _run(diff, git_repo.path, actions_env, "--fail-on", "error") == 1

    assert github.check_runs[0]["conclusion"] == "failure"


@pytest.mark.parametrize(
    "forbidden",
    [("GET", SUMMARY_COMMENTS), ("POST", SUMMARY_COMMENTS)],
    ids=["listing-forbidden", "commenting-forbidden"],
)
def test_403_on_the_comment_prints_a_notice_and_exits_0(
    forbidden: tuple[str, str],
    git_repo: GitRepo,
    github: FakeGitHub,
    actions_env: dict[str, str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    body = {"message": "Resource not accessible by integration", "documentation_url": "x"}
    github.fail(*forbidden, 403, body=body)
    diff = _pr_diff(git_repo, CODE["error"])

    assert _run(diff, git_repo.path, actions_env) == 0

    out = capsys.readouterr()
    notice = [
        line for line in out.out.splitlines() if line.startswith("::notice title=codex-review::")
    ]
    assert len(notice) == 1
    assert "Resource not accessible by integration" in notice[0]
    assert github.check_runs  # the other outputs still ran
    assert TOKEN not in out.out + out.err


def test_server_errors_are_retried_honouring_retry_after(
    git_repo: GitRepo, github: FakeGitHub, actions_env: dict[str, str]
) -> None:
    github.fail("GET", SUMMARY_COMMENTS, 502, headers={"Retry-After": "0"}, times=2)
    github.fail("POST", r"/statuses/", 503, headers={"Retry-After": "0"})
    diff = _pr_diff(git_repo, CODE["clean"])

    assert _run(diff, git_repo.path, {**actions_env, **WITH_STATUS}) == 0

    assert len(github.made("GET", SUMMARY_COMMENTS)) == 3
    assert len(github.made("POST", r"/statuses/")) == 2
    assert github.statuses[0]["state"] == "success"


def test_a_persistent_api_failure_exits_3_with_one_line(
    git_repo: GitRepo,
    github: FakeGitHub,
    actions_env: dict[str, str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    github.fail("POST", SUMMARY_COMMENTS, 422, body={"message": "Validation Failed"})
    diff = _pr_diff(git_repo, CODE["clean"])

    assert _run(diff, git_repo.path, actions_env) == 3

    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("codex-review: error: GitHub API POST")
    assert "422: Validation Failed" in err[-1]


def test_the_token_is_never_printed(
    git_repo: GitRepo,
    github: FakeGitHub,
    actions_env: dict[str, str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    github.fail("GET", SUMMARY_COMMENTS, 500, headers={"Retry-After": "0"}, times=10)
    diff = _pr_diff(git_repo, CODE["clean"])

    assert _run(diff, git_repo.path, actions_env) == 3

    out = capsys.readouterr()
    assert TOKEN not in out.out
    assert TOKEN not in out.err
    assert "500" in out.err


@pytest.mark.parametrize(
    ("missing", "message"),
    [
        ("GITHUB_TOKEN", "GITHUB_TOKEN: not set"),
        ("GITHUB_REPOSITORY", "GITHUB_REPOSITORY: expected 'owner/name'"),
        ("GITHUB_EVENT_PATH", "GITHUB_EVENT_PATH: not set"),
    ],
    ids=["no-token", "no-repository", "no-event"],
)
def test_a_missing_actions_variable_exits_2_naming_it(
    missing: str,
    message: str,
    git_repo: GitRepo,
    actions_env: dict[str, str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    diff = _pr_diff(git_repo, CODE["clean"])
    env = {k: v for k, v in actions_env.items() if k != missing}

    assert _run(diff, git_repo.path, env) == 2

    assert message in capsys.readouterr().err


def test_a_push_event_is_refused_with_exit_2(
    git_repo: GitRepo, actions_env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    Path(actions_env["GITHUB_EVENT_PATH"]).write_text('{"ref": "refs/heads/main"}')
    diff = _pr_diff(git_repo, CODE["clean"])

    assert _run(diff, git_repo.path, actions_env) == 2

    assert "not a pull_request event" in capsys.readouterr().err


# --- the client on its own: retry timing, with the sleeps recorded instead of slept ---------------
SECONDARY = {"message": "You have exceeded a secondary rate limit."}


@pytest.mark.parametrize(
    ("headers", "expected_sleeps"),
    [
        ({"Retry-After": "7"}, [7.0]),
        ({}, [SECONDARY_LIMIT_WAIT]),
        ({"x-ratelimit-remaining": "0", "x-ratelimit-reset": "1030"}, [31.0]),
        ({"x-ratelimit-remaining": "0", "x-ratelimit-reset": "1500"}, [501.0]),
    ],
    ids=["retry-after-seconds", "secondary-without-retry-after", "reset", "far-reset"],
)
def test_rate_limits_wait_as_github_says(
    headers: dict[str, str], expected_sleeps: list[float], github: FakeGitHub
) -> None:
    github.fail("GET", SUMMARY_COMMENTS, 403, headers=headers, body=SECONDARY)
    sleeps: list[float] = []
    client = GitHubClient(github.url, TOKEN, sleep=sleeps.append, clock=lambda: 1000.0)

    with client:
        assert list(client.iter_comments("octo-org/widgets", PR_NUMBER)) == []

    assert sleeps == expected_sleeps


def test_a_bare_secondary_limit_waits_a_minute_then_doubles(github: FakeGitHub) -> None:
    github.fail("GET", SUMMARY_COMMENTS, 429, body=SECONDARY, times=3)
    sleeps: list[float] = []

    with GitHubClient(github.url, TOKEN, sleep=sleeps.append, wait_budget=1_000) as client:
        assert list(client.iter_comments("octo-org/widgets", PR_NUMBER)) == []

    assert sleeps == [SECONDARY_LIMIT_WAIT, 2 * SECONDARY_LIMIT_WAIT, 4 * SECONDARY_LIMIT_WAIT]


@pytest.mark.parametrize("budget", [0.0, 30.0, 400.0], ids=lambda b: f"budget-{b:.0f}s")
def test_a_wait_beyond_the_budget_stops_with_a_clear_error(
    budget: float, github: FakeGitHub
) -> None:
    headers = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "1500"}
    github.fail("GET", SUMMARY_COMMENTS, 403, headers=headers, body=SECONDARY)
    sleeps: list[float] = []
    client = GitHubClient(
        github.url, TOKEN, sleep=sleeps.append, clock=lambda: 1000.0, wait_budget=budget
    )

    with client, pytest.raises(GitHubError) as raised:
        list(client.iter_comments("octo-org/widgets", PR_NUMBER))

    assert sleeps == []
    assert "wait 501 s" in str(raised.value)
    assert f"{budget:.0f} s left of the wait budget (CODEX_REVIEW_WAIT_BUDGET)" in str(raised.value)


def test_waits_add_up_against_one_budget_for_the_run(github: FakeGitHub) -> None:
    github.fail(
        "GET", SUMMARY_COMMENTS, 403, headers={"Retry-After": "40"}, body=SECONDARY, times=3
    )
    sleeps: list[float] = []

    with (
        GitHubClient(github.url, TOKEN, sleep=sleeps.append, wait_budget=100) as client,
        pytest.raises(GitHubError, match=r"20 s left"),
    ):
        list(client.iter_comments("octo-org/widgets", PR_NUMBER))

    assert sleeps == [40.0, 40.0]


def test_backoff_doubles_and_gives_up_after_the_last_attempt(github: FakeGitHub) -> None:
    github.fail("GET", SUMMARY_COMMENTS, 500, times=10)
    sleeps: list[float] = []

    with (
        GitHubClient(github.url, TOKEN, sleep=sleeps.append) as client,
        pytest.raises(GitHubError, match="answered 500"),
    ):
        list(client.iter_comments("octo-org/widgets", PR_NUMBER))

    assert sleeps == [1.0, 2.0, 4.0, 8.0]
    assert len(github.made("GET")) == 5


def test_plain_403_is_not_retried(github: FakeGitHub) -> None:
    github.fail("GET", SUMMARY_COMMENTS, 403, body={"message": "Must have admin rights"})
    sleeps: list[float] = []

    with (
        GitHubClient(github.url, TOKEN, sleep=sleeps.append) as client,
        pytest.raises(GitHubForbiddenError),
    ):
        list(client.iter_comments("octo-org/widgets", PR_NUMBER))

    assert sleeps == []


@pytest.mark.parametrize("budget", [0.0, 1_000.0], ids=["no-wait-left", "waits-then-fails"])
def test_an_unreachable_api_is_an_error_not_a_crash(budget: float) -> None:
    sleeps: list[float] = []
    client = GitHubClient(
        "http://127.0.0.1:9", TOKEN, sleep=sleeps.append, max_attempts=2, wait_budget=budget
    )

    with client, pytest.raises(GitHubError) as raised:
        list(client.iter_comments("octo-org/widgets", PR_NUMBER))

    # What went wrong, whether or not the budget allowed another try; never "rate limited".
    assert "failed: ConnectError" in str(raised.value)
    assert "rate limited" not in str(raised.value)


def test_a_502_after_the_comment_was_created_does_not_duplicate_it(
    git_repo: GitRepo, github: FakeGitHub, actions_env: dict[str, str]
) -> None:
    github.fail("POST", SUMMARY_COMMENTS, 502, apply=True)
    diff = _pr_diff(git_repo, CODE["warning"])

    assert _run(diff, git_repo.path, actions_env) == 0

    assert len(github.comments[PR_NUMBER]) == 1
    assert len(github.made("POST", SUMMARY_COMMENTS)) == 1
    assert len(github.made("PATCH", r"/issues/comments/")) == 1
    assert github.check_runs[0]["conclusion"] == "neutral"


def test_a_502_before_the_comment_was_created_creates_it_once(
    git_repo: GitRepo, github: FakeGitHub, actions_env: dict[str, str]
) -> None:
    github.fail("POST", SUMMARY_COMMENTS, 502)
    diff = _pr_diff(git_repo, CODE["warning"])

    assert _run(diff, git_repo.path, actions_env) == 0

    assert len(github.comments[PR_NUMBER]) == 1
    assert len(github.made("POST", SUMMARY_COMMENTS)) == 2
    assert not github.made("PATCH", r"/issues/comments/")


def test_the_workflow_command_line_publishes_through_the_shim(
    git_repo: GitRepo, github: FakeGitHub, actions_env: dict[str, str]
) -> None:
    # Exactly the workflow's step, as a separate process with the Actions environment.
    diff = _pr_diff(git_repo, CODE["error"])
    shim = Path(__file__).resolve().parents[2] / ".github" / "scripts" / "codex-review.py"
    env = {"PATH": os.environ.get("PATH", ""), **actions_env}

    done = subprocess.run(
        [
            sys.executable,
            str(shim),
            "--diff",
            str(diff),
            "--repo-dir",
            ".",
            "--format",
            "markdown",
            "--output",
            "codex-review.md",
            "--fail-on",
            "never",
            "--github",
        ],
        cwd=git_repo.path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    assert TOKEN not in done.stdout + done.stderr
    report = (git_repo.path / "codex-review.md").read_text(encoding="utf-8").split("\n")
    comment = github.comments[PR_NUMBER][0]["body"].split("\n")
    # The comment is the report plus the lines saying where else the findings are.
    assert [line for line in comment if line and line in report] == [
        line for line in report if line
    ]
    assert len(comment) > len(report)
    assert github.check_runs[0]["conclusion"] == "failure"
