"""The outputs of --github on a pull request, push after push, against the GitHub stand-in: the
inline review, the check run, the workflow-command annotations of a fork, the job summary, and
their configuration. Every request is checked against GitHub's REST description (conftest)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from tests.codex_review.fakes import PR_NUMBER, REPOSITORY, TOKEN, FakeGitHub, GitRepo

from codex_review.annotations import PER_STEP
from codex_review.checks import MAX_ANNOTATIONS_PER_REQUEST
from codex_review.cli import main
from codex_review.comment import ICONS
from codex_review.github import GitHubClient, GitHubValidationError
from codex_review.inline import parse_marker
from codex_review.models import Severity
from codex_review.outputs import Outputs

PATH = "src/main.rs"
BASE = "fn main() {}\n"
LEAK = '    println!("password: {}", password);'


def _unwraps(*names: str) -> list[str]:
    return [f"    let {name} = {name}().unwrap();" for name in names]


def _source(*body: str) -> str:
    return "\n".join(["fn main() {", *body, "}"]) + "\n"


class PullRequest:
    """A pull request on a real repository; each push updates GitHub's diff in the stand-in."""

    def __init__(self, git_repo: GitRepo, github: FakeGitHub, env: dict[str, str]) -> None:
        self.repo, self.github = git_repo, github
        self.summary = Path(env["GITHUB_EVENT_PATH"]).with_name("step-summary.md")
        self.env = {**env, "GITHUB_STEP_SUMMARY": str(self.summary), "GITHUB_RUN_ID": "99"}
        git_repo.write(PATH, BASE)
        git_repo.publish_base()

    def push(self, text: str, *, github_sees: str | None = None) -> Path:
        """Commit `text` as the file and return the diff the workflow reviews. GitHub's own
        diff is the same unless `github_sees` is the text GitHub diffed (a later base)."""
        self.repo.write(PATH, text)
        diff = self.repo.pr_diff()
        self.github.push(diff if github_sees is None else _diff_of(github_sees, text))
        target = self.repo.path.parent / "pr_diff.txt"
        target.write_bytes(diff)
        return target

    def review(self, diff: Path, extra: dict[str, str] | None = None) -> int:
        self.summary.write_text("", encoding="utf-8")
        out = self.repo.path.parent / "codex-review.md"
        argv = ["--diff", str(diff), "--format", "markdown", "--output", str(out)]
        return main(
            [*argv, "--repo-dir", str(self.repo.path), "--github"],
            env={**self.env, **(extra or {})},
        )


def _diff_of(before: str, after: str) -> bytes:
    """A one-file git-style diff from `before` to `after` (what GitHub diffs)."""
    import difflib  # noqa: PLC0415

    lines = difflib.unified_diff(
        before.splitlines(keepends=True), after.splitlines(keepends=True), f"a/{PATH}", f"b/{PATH}"
    )
    return f"diff --git a/{PATH} b/{PATH}\n{''.join(lines)}".encode()


def _line_of(text: str, code: str) -> int:
    return text.split("\n").index(code) + 1


def _open_by_line(github: FakeGitHub) -> dict[int | None, str]:
    return {c["line"]: c["body"] for c in github.open_comments()}


def _annotations(github: FakeGitHub) -> list[dict[str, Any]]:
    (run,) = github.check_runs
    return list(run["annotations"])


@pytest.fixture
def pull(git_repo: GitRepo, github: FakeGitHub, actions_env: dict[str, str]) -> PullRequest:
    return PullRequest(git_repo, github, actions_env)


def test_first_push_comments_each_finding_on_its_changed_line_and_annotates_it(
    pull: PullRequest, github: FakeGitHub
) -> None:
    text = _source(*_unwraps("a", "b"), LEAK)
    assert pull.review(pull.push(text)) == 0

    (review,) = github.reviews
    assert review["state"] == "COMMENTED"
    placed = {(c["path"], c["line"]) for c in github.review_comments}
    annotated = {(a["path"], a["start_line"]) for a in _annotations(github)}
    expected = {(PATH, _line_of(text, code)) for code in [*_unwraps("a", "b"), LEAK]}
    assert placed == annotated == expected
    (run,) = github.check_runs
    assert (run["name"], run["status"], run["conclusion"]) == (
        "codex-review",
        "completed",
        "failure",
    )
    assert run["details_url"] == f"https://github.example/{REPOSITORY}/actions/runs/99"
    assert "| ❌ error | 1 |" in run["output"]["summary"]
    shown = f"💬 {len(github.review_comments)} shown as review comments"
    assert shown in github.comments[PR_NUMBER][0]["body"]


def test_second_push_comments_new_and_moved_findings_and_marks_fixed_ones(
    pull: PullRequest, github: FakeGitHub
) -> None:
    first = _source(*_unwraps("a", "b"))
    assert pull.review(pull.push(first)) == 0
    before = {parse_marker(c["body"]): c for c in github.review_comments}

    second = _source("    let x = 1;", "    let y = 2;", *_unwraps("b", "c"))
    assert pull.review(pull.push(second)) == 0

    assert len(github.reviews) == 2
    new = [
        c for c in github.review_comments if c["pull_request_review_id"] == github.reviews[1]["id"]
    ]
    assert sorted(c["line"] for c in new) == [_line_of(second, code) for code in _unwraps("b", "c")]
    states = sorted(parse_marker(c["body"])[1] for c in before.values())  # type: ignore[index]
    assert states == ["fixed", "moved"]
    assert {c["node_id"] for c in before.values()} == github.minimized
    # What is still open is exactly one comment per current finding, on its line.
    assert sorted(_open_by_line(github)) == [_line_of(second, code) for code in _unwraps("b", "c")]


def test_a_push_that_changes_nothing_comments_nothing_again(
    pull: PullRequest, github: FakeGitHub
) -> None:
    diff = pull.push(_source(*_unwraps("a", "b")))
    assert pull.review(diff) == 0
    assert pull.review(diff) == 0

    assert len(github.reviews) == 1
    assert len(github.review_comments) == 2
    assert not github.made("PATCH", r"/pulls/comments/")
    assert len(github.check_runs) == 2  # one check run per run, like any CI job


def test_120_findings_are_capped_per_review_counted_and_all_annotated_in_batches(
    pull: PullRequest, github: FakeGitHub
) -> None:
    names = [f"v{index}" for index in range(120)]
    assert pull.review(pull.push(_source(*_unwraps(*names)))) == 0

    cap = Outputs().max_inline
    assert len(github.review_comments) == cap
    assert (
        f"{120 - cap} more not commented inline (at most {cap} per review)"
        in (github.comments[PR_NUMBER][0]["body"])
    )
    batches = [
        len(r.body["output"]["annotations"])
        for r in github.requests
        if "/check-runs" in r.path and r.method in {"POST", "PATCH"}
    ]
    assert sum(batches) == len(_annotations(github)) == 120
    assert max(batches) == MAX_ANNOTATIONS_PER_REQUEST
    assert github.check_runs[0]["conclusion"] == "neutral"


def test_a_finding_outside_githubs_hunks_goes_to_the_summary_only(
    pull: PullRequest, github: FakeGitHub
) -> None:
    filler = [f"    let f{index} = {index};" for index in range(8)]
    text = _source(*_unwraps("a"), *filler, *_unwraps("b"))
    # GitHub diffs against a base that already has the first unwrap, far above its only hunk.
    diff = pull.push(text, github_sees=_source(*_unwraps("a"), *filler))

    assert pull.review(diff) == 0

    assert [c["line"] for c in github.review_comments] == [_line_of(text, _unwraps("b")[0])]
    body = github.comments[PR_NUMBER][0]["body"]
    assert "📍 1 on lines outside the pull request's diff" in body
    assert len(_annotations(github)) == 2  # the check run still annotates both


def test_the_stand_in_refuses_a_comment_outside_the_hunks_as_github_does(
    pull: PullRequest, github: FakeGitHub
) -> None:
    pull.push(_source(*_unwraps("a")))
    comment = {"path": PATH, "line": 40, "side": "RIGHT", "body": "x"}

    with (
        GitHubClient(github.url, TOKEN) as client,
        pytest.raises(GitHubValidationError, match="422"),
    ):
        client.create_review(
            REPOSITORY, PR_NUMBER, commit_id="0" * 40, body="b", event="COMMENT", comments=[comment]
        )

    assert not github.reviews


def test_an_empty_review_after_one_with_findings_resolves_every_comment(
    pull: PullRequest, github: FakeGitHub
) -> None:
    assert pull.review(pull.push(_source(*_unwraps("a", "b")))) == 0
    assert pull.review(pull.push(_source("    let a = 1;"))) == 0

    assert len(github.reviews) == 1  # nothing new to say inline
    assert github.open_comments() == []
    assert len(github.minimized) == 2
    assert github.check_runs[-1]["conclusion"] == "success"
    assert "No issues found" in github.comments[PR_NUMBER][0]["body"]


def test_a_fork_with_a_read_only_token_gets_annotations_and_the_job_summary_and_stays_green(
    pull: PullRequest, github: FakeGitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    github.read_only = True
    text = _source(*_unwraps("a"), LEAK)

    assert pull.review(pull.push(text)) == 0

    out = capsys.readouterr().out.splitlines()
    leak = _line_of(text, LEAK)
    assert out[0].startswith(f"::error file={PATH},line={leak},title=codex-review%3A ")
    assert any(
        line.startswith(f"::warning file={PATH},line={_line_of(text, _unwraps('a')[0])},")
        for line in out
    )
    assert sum(line.startswith("::notice title=codex-review::") for line in out) == 1
    summary = pull.summary.read_text(encoding="utf-8")
    assert f"| {leak} |" in summary or f"#L{leak})" in summary
    assert (github.reviews, github.check_runs, github.comments) == ([], [], {})


def test_a_fork_with_many_findings_shows_errors_first_within_githubs_limits(
    pull: PullRequest, github: FakeGitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    github.read_only = True
    leaks = [f'    println!("password: {{}}", p{index});' for index in range(12)]
    names = [f"w{index}" for index in range(15)]

    assert pull.review(pull.push(_source(*leaks, *_unwraps(*names)))) == 0

    out = capsys.readouterr().out.splitlines()
    kinds = [line.split(" ", 1)[0] for line in out if line.startswith("::")]
    assert kinds[: PER_STEP[Severity.ERROR]] == ["::error"] * PER_STEP[Severity.ERROR]
    assert kinds.count("::warning") == PER_STEP[Severity.WARNING]
    assert kinds.count("::notice") <= PER_STEP[Severity.INFO]
    summary = pull.summary.read_text(encoding="utf-8")
    total = sum(summary.count(f"| {ICONS[s]} {s.label} |") for s in Severity)
    assert total >= len(leaks) + len(names)  # the job summary has every finding
    left_out = total - sum(" file=" in line for line in out)
    assert any(f"{left_out} more findings not shown as annotations" in line for line in out)


@pytest.mark.parametrize("installation", [True, False], ids=["github-token", "personal-token"])
def test_the_bots_own_comment_is_found_with_either_token_and_no_one_elses(
    installation: bool, pull: PullRequest, github: FakeGitHub
) -> None:
    from codex_review.comment import MARKER  # noqa: PLC0415

    github.installation_token = installation
    own = github.user
    github.add_comment(f"{MARKER}\nold", login=own["login"], user_type=own["type"])
    other = "octo-dev" if installation else "github-actions[bot]"
    github.add_comment(f"{MARKER}\nimpostor", login=other, user_type="User")

    assert pull.review(pull.push(_source(*_unwraps("a")))) == 0

    bodies = [c["body"] for c in github.comments[PR_NUMBER]]
    assert len(bodies) == 2
    assert bodies[1].endswith("impostor")
    assert "Consider using proper error handling" in bodies[0]


def test_a_personal_token_refused_check_runs_falls_back_to_the_commit_status(
    pull: PullRequest, github: FakeGitHub
) -> None:
    github.installation_token = False

    assert pull.review(pull.push(_source(LEAK))) == 0

    assert not github.check_runs
    assert [s["state"] for s in github.statuses] == ["failure"]
    assert github.review_comments[0]["user"]["login"] == github.user["login"]


def test_request_changes_on_errors_is_dismissed_once_the_errors_are_gone(
    pull: PullRequest, github: FakeGitHub
) -> None:
    setting = {"CODEX_REVIEW_REVIEW_EVENT": "request-changes"}
    assert pull.review(pull.push(_source(LEAK)), setting) == 0
    assert github.reviews[0]["state"] == "CHANGES_REQUESTED"

    assert pull.review(pull.push(_source(*_unwraps("a"))), setting) == 0

    assert [r["state"] for r in github.reviews] == ["DISMISSED", "COMMENTED"]


def test_a_refused_dismissal_is_reported_and_the_run_still_succeeds(
    pull: PullRequest, github: FakeGitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    setting = {"CODEX_REVIEW_REVIEW_EVENT": "request-changes"}
    assert pull.review(pull.push(_source(LEAK)), setting) == 0
    github.dismissals_refused = True

    assert pull.review(pull.push(_source(*_unwraps("a"))), setting) == 0

    assert [r["state"] for r in github.reviews] == ["CHANGES_REQUESTED", "COMMENTED"]
    assert "could not be dismissed" in capsys.readouterr().err


def test_outputs_set_in_agents_md_are_applied_and_the_workflow_wins(
    pull: PullRequest, github: FakeGitHub, git_repo: GitRepo
) -> None:
    git_repo.write(
        "AGENTS.md", "# Agents\n\n## Review outputs\n\n- inline: off\n- check run: off\n"
    )
    diff = pull.push(_source(LEAK))

    assert pull.review(diff, {"CODEX_REVIEW_CHECK_RUN": "on"}) == 0

    assert not github.made("GET", r"/pulls/\d+/files")
    assert not github.reviews
    assert len(github.check_runs) == 1


@pytest.mark.parametrize(
    "case",
    [
        ("## Review outputs\n\n- inline: maybe\n", {}, "AGENTS.md:3: inline: 'maybe' is not valid"),
        ("## Review outputs\n\n- colour: red\n", {}, "AGENTS.md:3: unknown output option 'colour'"),
        ("", {"CODEX_REVIEW_MAX_INLINE": "500"}, "CODEX_REVIEW_MAX_INLINE: '500' is not valid"),
    ],
    ids=["bad-value", "unknown-option", "bad-variable"],
)
def test_a_bad_outputs_setting_exits_2_with_one_line_naming_it(
    case: tuple[str, dict[str, str], str],
    pull: PullRequest,
    github: FakeGitHub,
    capsys: pytest.CaptureFixture[str],
) -> None:
    agents_md, env, message = case
    pull.repo.write("AGENTS.md", agents_md)
    diff = pull.push(_source(LEAK))

    assert pull.review(diff, env) == 2

    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith("codex-review: error: ")
    assert message in err[0]
    assert not github.requests


def test_the_sarif_file_is_written_beside_the_report(pull: PullRequest, github: FakeGitHub) -> None:
    diff = pull.push(_source(LEAK))
    sarif = diff.parent / "codex-review.sarif"
    out = diff.parent / "report.json"

    assert (
        main(["--diff", str(diff), "--format", "json", "--output", str(out), "--sarif", str(sarif)])
        == 0
    )

    results = json.loads(sarif.read_text(encoding="utf-8"))["runs"][0]["results"]
    issues = json.loads(out.read_text(encoding="utf-8"))["issues"]
    assert [
        (r["ruleId"], r["locations"][0]["physicalLocation"]["region"]["startLine"]) for r in results
    ] == [(i["rule"], i["line"]) for i in issues]
    assert re.search(r"\S", sarif.read_text(encoding="utf-8"))
