"""Report formats: the JSON contract, the PR comment's safety and size, SARIF, text."""

from __future__ import annotations

import json
import re

import pytest

from codex_review.comment import MARKER, MAX_COMMENT_CHARS, code_span, render_markdown
from codex_review.context import PullRequest
from codex_review.guidelines import parse_guidelines
from codex_review.models import Finding, Severity
from codex_review.render import render
from codex_review.review import GuidelineGroup, Review
from codex_review.rules import all_rules

PULL = PullRequest("octo-org/widgets", 7, "a" * 40, "https://github.example")


def _finding(**changes: object) -> Finding:
    values: dict[str, object] = {
        "severity": Severity.WARNING,
        "category": "best_practices",
        "rule": "rust-unwrap",
        "file": "src/main.rs",
        "line": 12,
        "message": "Consider using proper error handling instead of unwrap()",
        "code": "let v = x.unwrap();",
    }
    values.update(changes)
    return Finding(**values)  # type: ignore[arg-type]


def _table_rows(markdown: str) -> list[list[str]]:
    rows = [line for line in markdown.splitlines() if line.startswith("| ")]
    # Split on pipes that are not escaped, as GitHub's table parser does.
    return [re.split(r"(?<!\\)\|", row)[1:-1] for row in rows[1:]]


def test_json_has_the_seed_keys_plus_rule() -> None:
    review = Review(2, (_finding(),))

    document = json.loads(render(review, "json"))

    assert set(document) == {"summary", "files_reviewed", "issues"}
    assert document["files_reviewed"] == 2
    assert document["summary"].startswith("Code review completed with 1 issue found")
    assert document["issues"] == [
        {
            "severity": "warning",
            "category": "best_practices",
            "rule": "rust-unwrap",
            "file": "src/main.rs",
            "line": 12,
            "message": "Consider using proper error handling instead of unwrap()",
            "code": "let v = x.unwrap();",
        }
    ]


def test_an_empty_review_is_valid_json_with_no_issues() -> None:
    assert json.loads(render(Review(0, ()), "json"))["issues"] == []


def test_the_comment_starts_with_the_marker_and_the_seed_headings() -> None:
    body = render_markdown(Review(1, (_finding(),)), PULL)

    assert body.startswith(MARKER + "\n## 🔍 Codex Code Review\n")
    assert "**Repository:** octo-org/widgets" in body
    assert "**PR:** #7" in body
    assert f"**Commit:** `{'a' * 40}`" in body
    assert "### 📋 Review Summary" in body
    assert "| Severity | Category | File | Line | Issue |" in body


def test_rows_are_grouped_by_severity_and_link_to_the_head_commit() -> None:
    findings = (
        _finding(severity=Severity.INFO, rule="rust-clone", line=3),
        _finding(severity=Severity.ERROR, rule="rust-println-password", line=9),
        _finding(severity=Severity.WARNING, line=5),
    )

    rows = _table_rows(render_markdown(Review(1, findings), PULL))

    icons = ["❌ error", "⚠️ warning", "ℹ️ info"]  # noqa: RUF001
    assert [row[0].strip() for row in rows] == icons
    url = f"https://github.example/octo-org/widgets/blob/{'a' * 40}/src/main.rs#L9"
    assert rows[0][2].strip() == f"[`src/main.rs`]({url})"
    assert rows[0][3].strip() == f"[9]({url})"


HOSTILE = [
    ("pipe", "let a = b | c || d;", "src/a|b.rs"),
    ("backticks", "let s = `x` + ```y```;", "src/`tick`.rs"),
    ("html", "<script>alert(1)</script> <img src=x onerror=y>", "src/<b>.rs"),
    ("mention", "// ping @octocat and @org/team", "src/@scope/x.rs"),
    ("markdown", "**bold** [link](http://e.com) ![i](x) # h", "src/*x*.rs"),
]


@pytest.mark.parametrize(("name", "code", "path"), HOSTILE, ids=[h[0] for h in HOSTILE])
def test_code_and_paths_cannot_break_the_table_or_ping_anyone(
    name: str, code: str, path: str
) -> None:
    body = render_markdown(Review(1, (_finding(code=code, file=path, message=code),)), PULL)

    rows = _table_rows(body)
    assert len(rows) == 1
    assert len(rows[0]) == 5, rows[0]
    # GitHub renders code spans literally (no HTML, no mentions); everything else is escaped.
    outside_code = re.sub(r"(`+).+?\1", "", body)
    assert not re.search(r"(?<!\\)<(?:script|img|b>)", outside_code)
    assert not re.search(r"(?<![\w\u200b])@(?=[A-Za-z])", outside_code)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("plain", "`plain`"),
        ("a`b", "``a`b``"),
        ("`edge`", "`` `edge` ``"),
        ("a|b", "`a\\|b`"),
    ],
    ids=["plain", "inner-backtick", "edge-backticks", "pipe"],
)
def test_code_spans_use_a_fence_longer_than_any_backtick_run(text: str, expected: str) -> None:
    assert code_span(text) == expected


def test_a_huge_review_stays_under_the_comment_limit_with_a_more_line() -> None:
    findings = tuple(_finding(line=n, code="x" * 150 + ".unwrap()") for n in range(1, 3001))

    body = render_markdown(Review(1, findings), PULL)

    assert len(body) <= MAX_COMMENT_CHARS
    shown = len(_table_rows(body))
    assert 100 < shown < 3000
    assert f"... and {3000 - shown} more" in body
    assert body.rstrip().endswith("*Generated by codex-review* 🤖")


def test_guidelines_are_shown_as_a_checklist_with_problems_as_warnings() -> None:
    guidelines = parse_guidelines(
        "src/AGENTS.md",
        "## Review guidelines\n\n"
        "- Do not log PII or tokens, ask @security-team.\n"
        "- Flag all bare unwrap() calls in src/ as errors, not warnings.\n"
        "- Disable the legacy checks\n",
    )
    assert guidelines is not None
    review = Review(1, (), (GuidelineGroup(guidelines, ("src/a.rs", "src/b.rs")),))

    body = render_markdown(review, PULL)

    assert "### 🧭 Review guidelines" in body
    assert "`src/AGENTS.md` applies to `src/a.rs`, `src/b.rs`:" in body
    assert "- [ ] Do not log PII or tokens, ask @\u200bsecurity-team." in body
    assert "- [ ] Flag all bare unwrap() calls in src/ as errors, not warnings. *(enforced" in body
    assert "> ⚠️ Not applied: Disable the legacy checks — unknown rule or category" in body


def test_a_clean_review_says_so() -> None:
    body = render_markdown(Review(3, ()), PULL)

    assert "✅ No issues found in the added lines." in body
    assert "| Severity |" not in body


def test_sarif_is_a_2_1_0_log_with_rules_and_results() -> None:
    review = Review(1, (_finding(), _finding(severity=Severity.INFO, rule="rust-clone")))

    log = json.loads(render(review, "sarif"))

    assert log["version"] == "2.1.0"
    assert log["$schema"].endswith("sarif-2.1.0.json")
    run = log["runs"][0]
    driver = run["tool"]["driver"]
    assert driver["name"] == "codex-review"
    assert [rule["id"] for rule in driver["rules"]] == [rule.id for rule in all_rules()]
    first = run["results"][0]
    assert first["ruleId"] == "rust-unwrap"
    assert driver["rules"][first["ruleIndex"]]["id"] == "rust-unwrap"
    assert first["level"] == "warning"
    assert run["results"][1]["level"] == "note"
    location = first["locations"][0]["physicalLocation"]
    assert location == {
        "artifactLocation": {"uri": "src/main.rs", "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": 12},
    }


def test_text_groups_findings_by_severity() -> None:
    review = Review(1, (_finding(severity=Severity.INFO), _finding(severity=Severity.ERROR)))

    text = render(review, "text")

    assert text.index("❌ ERROR (1)") < text.index("ℹ️ INFO (1)")  # noqa: RUF001
    assert "  [best_practices] src/main.rs:12 (rust-unwrap)" in text
    assert "Files reviewed: 1" in text
