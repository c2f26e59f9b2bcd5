"""Rule files of the repository (.codex-review/rules) and bad input: the review goes on."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from codex_review.diff import ChangedFile, Hunk, parse_diff
from codex_review.guidelines import Guidance
from codex_review.review import review
from codex_review.rulefiles import (
    MAX_RULE_FILE_BYTES,
    RULES_DIR,
    load_rule_files,
    parse_rule_file,
)
from codex_review.syntax import MAX_PARSE_BYTES
from codex_review.workspace import Workspace

TODO_RULE = """\
id: no-todo-macro
language: rust
severity: warning
category: bugs
message: todo!() panics at run time
query: |
  (macro_invocation macro: (identifier) @match (#eq? @match "todo"))
needles: [todo]
"""
SOURCE = 'fn f() {\n    todo!();\n    let s = "todo!()";\n    // todo!()\n}\n'


def _added(path: str, text: str) -> ChangedFile:
    lines = tuple(text.split("\n"))
    return ChangedFile(path, (Hunk(1, lines, tuple(range(1, len(lines) + 1))),))


def _checkout(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        target = tmp_path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return tmp_path


def _review(
    root: Path, changed: list[ChangedFile]
) -> tuple[set[tuple[str, int, str]], tuple[str, ...]]:
    own = load_rule_files(root)
    workspace = Workspace(root)
    result = review(changed, workspace.read_text, Guidance(workspace.read_text, own.rules),
                    own.rules, own.problems)  # fmt: skip
    return {(f.rule, f.line, f.severity.label) for f in result.findings}, result.notes


def test_a_rule_file_in_the_repository_is_enforced_on_syntax(tmp_path: Path) -> None:
    root = _checkout(tmp_path, {f"{RULES_DIR}/todo.yml": TODO_RULE, "src/a.rs": SOURCE})

    found, notes = _review(root, [_added("src/a.rs", SOURCE)])

    assert found == {("no-todo-macro", 2, "warning")}
    assert notes == ()


def test_agents_md_regrades_and_disables_a_repository_rule_by_id(tmp_path: Path) -> None:
    agents = (
        "## Review guidelines\n\n"
        "- Flag no-todo-macro as an error\n- Disable no-todo-macro in legacy/\n"
    )
    root = _checkout(tmp_path, {f"{RULES_DIR}/todo.yml": TODO_RULE, "AGENTS.md": agents,
                                "src/a.rs": SOURCE, "legacy/b.rs": SOURCE})  # fmt: skip

    found, _ = _review(root, [_added("src/a.rs", SOURCE), _added("legacy/b.rs", SOURCE)])

    assert found == {("no-todo-macro", 2, "error")}


def test_an_off_rule_runs_only_when_agents_md_enables_it(tmp_path: Path) -> None:
    rule = TODO_RULE.replace("severity: warning", "severity: off")
    root = _checkout(tmp_path, {f"{RULES_DIR}/todo.yml": rule, "src/a.rs": SOURCE})
    assert _review(root, [_added("src/a.rs", SOURCE)])[0] == set()

    (root / "AGENTS.md").write_text("## Review guidelines\n\n- Enable no-todo-macro\n")
    assert {r for r, _, _ in _review(root, [_added("src/a.rs", SOURCE)])[0]} == {"no-todo-macro"}


BAD_RULES = [
    ("not-yaml", "id: [unclosed\n", "not YAML"),
    ("missing-query", TODO_RULE.split("query:", maxsplit=1)[0], "field 'query': missing"),
    ("unknown-key", TODO_RULE + "fix: x\n", "field 'fix': unknown"),
    ("bad-language", TODO_RULE.replace("language: rust", "language: cobol"), "field 'language'"),
    ("bad-severity", TODO_RULE.replace("severity: warning", "severity: loud"), "field 'severity'"),
    ("query-does-not-compile", TODO_RULE.replace("macro_invocation", "no_such_node"),
     "field 'query': query does not compile for rust"),
    ("query-without-match-capture", TODO_RULE.replace("@match (#eq? @match", "@m (#eq? @m"),
     "field 'query': query for rust captures no @match"),
    ("duplicate-built-in-id", TODO_RULE.replace("no-todo-macro", "rust-unwrap"), "field 'id'"),
    ("not-a-mapping", "- a\n- b\n", "expected a mapping"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "reason"), [b[1:] for b in BAD_RULES], ids=[b[0] for b in BAD_RULES]
)
def test_a_bad_rule_file_is_named_with_its_field_and_the_review_goes_on(
    tmp_path: Path, text: str, reason: str
) -> None:
    source = SOURCE + "fn g() { x.unwrap(); }\n"
    root = _checkout(tmp_path, {f"{RULES_DIR}/bad.yml": text, f"{RULES_DIR}/todo.yaml": TODO_RULE,
                                "src/a.rs": source})  # fmt: skip

    found, notes = _review(root, [_added("src/a.rs", source)])

    assert {rule for rule, _, _ in found} == {"no-todo-macro", "rust-unwrap"}
    assert len(notes) == 1
    assert notes[0].startswith(f"{RULES_DIR}/bad.yml")
    assert reason in notes[0]


def _link_outside(bad: Path, tmp_path: Path) -> None:
    outside = tmp_path / "runner-home" / "secret.yml"
    outside.parent.mkdir()
    outside.write_text(TODO_RULE.replace("language: rust", "language: s3cr3t-outside-value"))
    bad.symlink_to(outside)


# How the pull request makes .codex-review/rules/bad.yml something other than a rule file: the
# file is never read, the note says why, and the other rule file still applies.
HOSTILE_RULE_FILES = [
    ("link-to-outside", _link_outside, "a link to outside the checkout"),
    ("link-to-dev-zero", lambda bad, _: bad.symlink_to("/dev/zero"), "outside the checkout"),
    ("fifo", lambda bad, _: os.mkfifo(bad), "not a regular file"),
    ("empty", lambda bad, _: bad.write_text("\n"), "empty: no rule in it"),
    ("too-large", lambda bad, _: bad.write_text("#" * (MAX_RULE_FILE_BYTES + 1)), "larger than"),
    ("not-utf8", lambda bad, _: bad.write_bytes(b"id: \xff\n"), "not UTF-8"),
]


@pytest.mark.parametrize(
    ("make", "reason"), [h[1:] for h in HOSTILE_RULE_FILES], ids=[h[0] for h in HOSTILE_RULE_FILES]
)
def test_a_rule_file_that_is_no_regular_file_of_the_checkout_is_not_read(
    tmp_path: Path, make: Callable[[Path, Path], object], reason: str
) -> None:
    root = _checkout(tmp_path / "repo", {f"{RULES_DIR}/todo.yaml": TODO_RULE, "src/a.rs": SOURCE})
    make(root / RULES_DIR / "bad.yml", tmp_path)

    found, notes = _review(root, [_added("src/a.rs", SOURCE)])

    assert found == {("no-todo-macro", 2, "warning")}
    assert len(notes) == 1
    assert notes[0].startswith(f"{RULES_DIR}/bad.yml: ")
    assert reason in notes[0]
    assert "s3cr3t-outside-value" not in notes[0]


def test_a_rules_folder_linked_to_outside_the_checkout_is_not_read(tmp_path: Path) -> None:
    outside = _checkout(tmp_path / "elsewhere", {"todo.yml": TODO_RULE})
    root = _checkout(tmp_path / "repo", {"src/a.rs": SOURCE})
    (root / RULES_DIR).parent.mkdir(parents=True, exist_ok=True)
    (root / RULES_DIR).symlink_to(outside)

    found, notes = _review(root, [_added("src/a.rs", SOURCE)])

    assert found == set()
    assert notes == (f"{RULES_DIR}: a link to outside the checkout; not read",)


def test_several_rules_in_one_file_are_separate_documents() -> None:
    second = TODO_RULE.replace("no-todo-macro", "no-unimplemented").replace(
        '"todo"', '"unimplemented"'
    )
    loaded = parse_rule_file("r.yml", f"{TODO_RULE}---\n{second}")

    assert [rule.id for rule in loaded.rules] == ["no-todo-macro", "no-unimplemented"]
    assert loaded.problems == ()


# --- bad input ------------------------------------------------------------------------------------
def _review_text(tmp_path: Path, path: str, data: bytes) -> tuple[set[str], tuple[str, ...]]:
    (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / path).write_bytes(data)
    text = data.decode("utf-8", errors="replace")
    found, notes = _review(tmp_path, [_added(path, text)])
    return {rule for rule, _, _ in found}, notes


def test_a_five_megabyte_minified_line_is_not_parsed_but_secrets_are_still_found(
    tmp_path: Path,
) -> None:
    line = b"var a=1;console.log(a);" * (5 * 1024 * 1024 // 23) + b'password="hunter22";'

    rules, notes = _review_text(tmp_path, "dist/app.min.js", line)

    assert len(line) > MAX_PARSE_BYTES
    assert rules == {"secret-password-assignment"}
    assert notes == (f"dist/app.min.js: larger than {MAX_PARSE_BYTES // 2**20} MiB, not parsed; "
                     "only secret rules ran",)  # fmt: skip


def test_invalid_utf8_is_reviewed_with_replacement_characters(tmp_path: Path) -> None:
    rules, notes = _review_text(tmp_path, "a.py", b'x = "\xff\xfe"\nprint(x)\n')

    assert rules == {"py-print"}
    assert notes == ()


def test_a_file_that_does_not_parse_is_reviewed_with_the_nodes_tree_sitter_built(
    tmp_path: Path,
) -> None:
    broken = b"fn f( {{{ ]] let v = x.unwrap();\n// y.unwrap()\n"

    rules, _ = _review_text(tmp_path, "a.rs", broken)

    assert rules == {"rust-unwrap"}


def test_an_unknown_extension_gets_only_secret_rules(tmp_path: Path) -> None:
    rules, _ = _review_text(tmp_path, "notes.xyz", b"eval(x)\nx.unwrap()\nAKIAIOSFODNN7EXAMPLE\n")

    assert rules == {"secret-aws-access-key"}


def test_binary_files_in_the_diff_are_skipped_and_the_review_goes_on(tmp_path: Path) -> None:
    diff = (
        b"diff --git a/logo.png b/logo.png\nnew file mode 100644\nindex 0000000..1111111\n"
        b"Binary files /dev/null and b/logo.png differ\n"
        b"diff --git a/a.py b/a.py\nnew file mode 100644\nindex 0000000..2222222\n"
        b"--- /dev/null\n+++ b/a.py\n@@ -0,0 +1 @@\n+print(1)\n"
    )
    (tmp_path / "logo.png").write_bytes(b"\x89PNG\x00\x00")
    (tmp_path / "a.py").write_text("print(1)\n")

    found, _ = _review(tmp_path, parse_diff(diff))

    assert found == {("py-print", 1, "info")}


def test_the_cli_reports_a_bad_rule_file_and_still_exits_on_findings(tmp_path: Path) -> None:
    root = _checkout(tmp_path, {f"{RULES_DIR}/bad.yml": "id: [\n", "a.py": "print(1)\n"})
    diff = tmp_path / "pr.diff"
    diff.write_bytes(b"--- /dev/null\n+++ b/a.py\n@@ -0,0 +1 @@\n+print(1)\n")

    done = subprocess.run(
        [sys.executable, "-m", "codex_review", "--diff", str(diff), "--repo-dir", str(root),
         "--fail-on", "warning", "--format", "text"],
        capture_output=True, text=True, check=False,
        env={**os.environ, "GITHUB_EVENT_PATH": ""},
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    assert "py-print" in done.stdout
    assert f"note: {RULES_DIR}/bad.yml" in done.stdout
