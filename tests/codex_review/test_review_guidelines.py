"""AGENTS.md review guidelines: the section, the directive forms, and the closest file winning."""

from __future__ import annotations

from pathlib import Path

import pytest

from codex_review.diff import ChangedFile, Hunk
from codex_review.guidelines import (
    Action,
    Directive,
    Guidance,
    Problem,
    parse_bullet,
    parse_guidelines,
    section_bullets,
)
from codex_review.models import Severity
from codex_review.review import review
from codex_review.rules import all_rules
from codex_review.workspace import Workspace

SEED_EXAMPLE = "Flag all bare unwrap() calls in src/ as errors, not warnings."

DIRECTIVES = [
    (SEED_EXAMPLE, Action.SEVERITY, {"rust-unwrap"}, Severity.ERROR, ("src/",)),
    ("Treat `.clone()` as a warning", Action.SEVERITY, {"rust-clone"}, Severity.WARNING, ()),
    (
        "**Report** `println!` and `dbg!` in `src/`, `lib/` as **errors**",
        Action.SEVERITY,
        {"rust-println", "rust-dbg-password"},
        Severity.ERROR,
        ("src/", "lib/"),
    ),
    (
        "Flag console.log in src/**/*.ts as errors.",
        Action.SEVERITY,
        {"js-console-log"},
        Severity.ERROR,
        ("src/**/*.ts",),
    ),
    ("Mark rust-expect as info", Action.SEVERITY, {"rust-expect"}, Severity.INFO, ()),
    (
        "Treat warnings as errors in src/payments/.",
        Action.SEVERITY,
        None,
        Severity.ERROR,
        ("src/payments/",),
    ),
    ("Disable rust-clone.", Action.DISABLE, {"rust-clone"}, None, ()),
    ("Don't flag println! in examples/", Action.DISABLE, {"rust-println"}, None, ("examples/",)),
    (
        "Do not flag print() calls in scripts/ or tools/",
        Action.DISABLE,
        {"py-print"},
        None,
        ("scripts/", "tools/"),
    ),
    ("Enable js-loose-equality", Action.ENABLE, {"js-loose-equality"}, None, ()),
    ("Skip vendor/ and *.pb.go", Action.SKIP, set(), None, ("vendor/", "*.pb.go")),
    ("Do not review third_party/.", Action.SKIP, set(), None, ("third_party/",)),
]


@pytest.mark.parametrize(
    ("text", "action", "rules", "severity", "paths"),
    DIRECTIVES,
    ids=[
        "seed-example",
        "treat-a-warning",
        "several-rules-several-paths",
        "glob-scope",
        "rule-id",
        "scope-after-severity",
        "disable",
        "dont-flag-in-path",
        "do-not-flag-in-two-paths",
        "enable-opt-in-rule",
        "skip-paths",
        "do-not-review",
    ],
)
def test_directive_forms_parse(
    text: str,
    action: Action,
    rules: set[str] | None,
    severity: Severity | None,
    paths: tuple[str, ...] | None,
) -> None:
    parsed = parse_bullet(text)

    assert isinstance(parsed, Directive)
    assert parsed.action is action
    if rules is not None:
        assert parsed.rules == rules
    if severity is not None or action is not Action.SEVERITY:
        assert parsed.severity is severity
    if paths is not None:
        assert parsed.paths == paths


def test_several_rules_and_paths_in_one_directive() -> None:
    parsed = parse_bullet("Report println! and rust-dbg-password in src/, lib/ as errors")
    assert isinstance(parsed, Directive)
    assert parsed.rules == {"rust-println", "rust-dbg-password"}
    assert parsed.paths == ("src/", "lib/")


@pytest.mark.parametrize(
    "text",
    [
        "Do not log PII or tokens at any log level.",
        "Every HTTP handler must be wrapped by the auth middleware.",
        "Flag any SQL built by string concatenation.",
        "Prefer small functions; name them for what they return.",
    ],
    ids=["seed-pii", "seed-auth", "flag-without-severity", "style-advice"],
)
def test_free_text_guidelines_are_not_directives(text: str) -> None:
    assert parse_bullet(text) is None


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("Flag foo() calls as errors", "unknown rule or category 'foo()'"),
        ("Flag unwrap() as critical", "expected 'Flag <rules> [in <paths>] as"),
        ("Disable the legacy checks", "unknown rule or category 'legacy'"),
        ("Skip generated files", "'generated files' is not a path"),
        ("Mark console.log as warning, maybe", "expected 'Flag <rules>"),
    ],
    ids=["unknown-rule", "unknown-severity", "unknown-target", "not-a-path", "trailing-words"],
)
def test_directive_like_bullets_that_do_not_parse_become_problems(text: str, reason: str) -> None:
    parsed = parse_bullet(text)

    assert isinstance(parsed, Problem)
    assert reason in parsed.reason


def test_the_section_is_read_up_to_the_next_heading() -> None:
    markdown = (
        "# Project\n\n- not a guideline\n\n"
        "## Review Guidelines\n\n"
        "Some intro text.\n\n"
        "- First guideline\n  continued on the next line.\n"
        "* Second guideline\n"
        "1. Third guideline\n"
        "### Details\n"
        "- Fourth guideline, under a sub-heading\n"
        "```markdown\n- not a bullet, inside a fence\n```\n"
        "## Other section\n\n- not a guideline either\n"
    )

    assert section_bullets(markdown) == [
        "First guideline continued on the next line.",
        "Second guideline",
        "Third guideline",
        "Fourth guideline, under a sub-heading",
    ]


def test_a_file_without_the_section_has_no_guidelines() -> None:
    assert section_bullets("# Agents\n\n- build with make\n") is None
    assert parse_guidelines("AGENTS.md", "# Agents\n") is None


def _changed(path: str, line: str) -> ChangedFile:
    return ChangedFile(path, (Hunk(1, (line,), (1,)),))


def _write(root: Path, relative: str, text: str) -> None:
    target = root / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)


def test_the_seed_example_makes_unwrap_under_src_an_error(tmp_path: Path) -> None:
    _write(tmp_path, "AGENTS.md", f"## Review guidelines\n\n- {SEED_EXAMPLE}\n")
    workspace = Workspace(tmp_path)
    files = [
        _changed("src/main.rs", "let v = x.unwrap();"),
        _changed("tests/it.rs", "let v = x.unwrap();"),
    ]

    result = review(files, lambda _: None, Guidance(workspace.read_text))

    assert [(f.file, f.severity) for f in result.findings] == [
        ("src/main.rs", Severity.ERROR),
        ("tests/it.rs", Severity.WARNING),
    ]


def test_the_closest_agents_md_wins_for_its_subtree(tmp_path: Path) -> None:
    _write(tmp_path, "AGENTS.md", f"## Review guidelines\n\n- {SEED_EXAMPLE}\n- Root note.\n")
    _write(
        tmp_path,
        "src/legacy/AGENTS.md",
        "## Review guidelines\n\n- Disable rust-unwrap\n- Flag .clone() in core/ as errors\n",
    )
    _write(tmp_path, "src/other/AGENTS.md", "# Build notes only, no review section\n")
    files = [
        _changed("src/main.rs", "let v = x.unwrap();"),
        _changed("src/legacy/old.rs", "let v = x.unwrap().clone();"),
        _changed("src/legacy/core/c.rs", "let v = x.clone();"),
        _changed("src/other/o.rs", "let v = x.unwrap();"),
    ]

    result = review(files, lambda _: None, Guidance(Workspace(tmp_path).read_text))

    found = [(f.file, f.rule, f.severity) for f in result.findings]
    assert found == [
        ("src/main.rs", "rust-unwrap", Severity.ERROR),
        ("src/legacy/old.rs", "rust-clone", Severity.INFO),
        ("src/legacy/core/c.rs", "rust-clone", Severity.ERROR),
        ("src/other/o.rs", "rust-unwrap", Severity.ERROR),
    ]
    groups = {g.guidelines.path: g.files for g in result.guidelines}
    assert groups == {
        "AGENTS.md": ("src/main.rs", "src/other/o.rs"),
        "src/legacy/AGENTS.md": ("src/legacy/old.rs", "src/legacy/core/c.rs"),
    }


def test_skipped_paths_are_not_reviewed_or_counted(tmp_path: Path) -> None:
    _write(tmp_path, "AGENTS.md", "## Review guidelines\n\n- Skip vendor/\n")
    files = [_changed("vendor/lib.rs", "x.unwrap();"), _changed("src/a.rs", "x.unwrap();")]

    result = review(files, lambda _: None, Guidance(Workspace(tmp_path).read_text))

    assert result.files_reviewed == 1
    assert [f.file for f in result.findings] == ["src/a.rs"]


def test_an_opt_in_rule_runs_only_when_enabled(tmp_path: Path) -> None:
    files = [_changed("web/a.js", "if (a == b) {}")]
    assert review(files, lambda _: None, Guidance(lambda _: None)).findings == ()

    _write(tmp_path, "AGENTS.md", "## Review guidelines\n\n- Enable js-loose-equality in web/\n")
    result = review(files, lambda _: None, Guidance(Workspace(tmp_path).read_text))

    assert [f.rule for f in result.findings] == ["js-loose-equality"]


def test_the_projects_own_agents_md_parses_without_problems() -> None:
    root = Path(__file__).resolve().parents[2]
    guidelines = parse_guidelines("AGENTS.md", (root / "AGENTS.md").read_text(encoding="utf-8"))

    assert guidelines is not None
    assert guidelines.problems == ()
    assert len(guidelines.directives) == 4
    service = guidelines.policy_for("src/argo_python/app.py")
    cli = guidelines.policy_for("src/codex_review/cli.py")
    fixtures = guidelines.policy_for("tests/codex_review/test_review_rules.py")
    print_rule = next(r for r in all_rules() if r.id == "py-print")
    key_rule = next(r for r in all_rules() if r.id == "secret-aws-access-key")
    assert service.severity(print_rule) is Severity.ERROR
    assert not cli.enabled(print_rule)
    assert not fixtures.enabled(key_rule)
    assert guidelines.policy_for("src/argo_python/app.py").enabled(key_rule)
