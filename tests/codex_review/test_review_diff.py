"""Reading the diff: paths, post-image line numbers, and every kind of entry git writes."""

from __future__ import annotations

import pytest
from tests.codex_review.fakes import GitRepo

from codex_review.diff import DiffError, parse_diff


def _added(diff: bytes) -> dict[str, dict[int, str]]:
    return {changed.path: changed.added_lines() for changed in parse_diff(diff)}


def test_line_numbers_are_post_image_numbers_not_counting_removed_lines(
    git_repo: GitRepo,
) -> None:
    git_repo.write("src/lib.rs", "".join(f"line {n}\n" for n in range(1, 21)))
    git_repo.publish_base()
    lines = [f"line {n}\n" for n in range(1, 21)]
    del lines[9:12]  # remove old lines 10..12
    lines.insert(9, "new A\n")
    lines.insert(15, "new B\n")
    git_repo.write("src/lib.rs", "".join(lines))

    added = _added(git_repo.pr_diff())["src/lib.rs"]

    assert added == {10: "new A", 16: "new B"}
    post_image = (git_repo.path / "src/lib.rs").read_text().split("\n")
    assert all(post_image[number - 1] == text for number, text in added.items())


def test_files_are_keyed_by_full_path_so_two_main_rs_do_not_collide(git_repo: GitRepo) -> None:
    git_repo.write("README", "x\n")
    git_repo.publish_base()
    git_repo.write("api/src/main.rs", "fn api() {}\n")
    git_repo.write("worker/src/main.rs", "fn worker() {}\n")

    assert _added(git_repo.pr_diff()) == {
        "api/src/main.rs": {1: "fn api() {}"},
        "worker/src/main.rs": {1: "fn worker() {}"},
    }


def test_a_renamed_file_is_reviewed_under_its_new_name(git_repo: GitRepo) -> None:
    body = "".join(f"let v{n} = {n};\n" for n in range(30))
    git_repo.write("old/name.rs", body)
    git_repo.publish_base()
    (git_repo.path / "new").mkdir()
    git_repo.git("mv", "old/name.rs", "new/name.rs")
    git_repo.write("new/name.rs", body + "let added = 1;\n")

    assert _added(git_repo.pr_diff()) == {"new/name.rs": {31: "let added = 1;"}}


@pytest.mark.parametrize(
    "change",
    ["delete", "binary", "mode-only", "pure-rename"],
)
def test_entries_without_added_text_are_skipped(git_repo: GitRepo, change: str) -> None:
    git_repo.write("keep.py", "x = 1\n")
    git_repo.write("gone.py", "print('bye')\n")
    git_repo.write("image.bin", b"\x89PNG\x00\x01")
    git_repo.write("tool.py", "y = 2\n")
    git_repo.publish_base()
    if change == "delete":
        git_repo.git("rm", "--quiet", "gone.py")
    elif change == "binary":
        git_repo.write("image.bin", b"\x89PNG\x00\x02\x03")
    elif change == "mode-only":
        (git_repo.path / "tool.py").chmod(0o755)
    else:
        git_repo.git("mv", "keep.py", "kept.py")

    diff = git_repo.pr_diff()

    assert diff  # git did write an entry
    assert parse_diff(diff) == []


def test_no_newline_at_end_of_file_is_handled(git_repo: GitRepo) -> None:
    git_repo.write("a.go", "package a")
    git_repo.publish_base()
    git_repo.write("a.go", "package a\nfunc F() {}")

    diff = git_repo.pr_diff()

    assert b"\\ No newline at end of file" in diff
    assert _added(diff) == {"a.go": {1: "package a", 2: "func F() {}"}}


def test_crlf_files_give_lines_without_carriage_returns(git_repo: GitRepo) -> None:
    git_repo.write("w.cs", "class A {}\r\n")
    git_repo.publish_base()
    git_repo.write("w.cs", "class A {}\r\nclass B {}\r\n")

    assert _added(git_repo.pr_diff()) == {"w.cs": {2: "class B {}"}}


def test_a_diff_saved_with_crlf_line_ends_still_parses(git_repo: GitRepo) -> None:
    git_repo.write("a.py", "x = 1\n")
    git_repo.publish_base()
    git_repo.write("a.py", "x = 1\ny = 2\n")

    diff = git_repo.pr_diff().replace(b"\n", b"\r\n")

    assert _added(diff) == {"a.py": {2: "y = 2"}}


def test_non_utf8_bytes_are_replaced_not_fatal(git_repo: GitRepo) -> None:
    git_repo.write("legacy.c", b"int a;\n")
    git_repo.publish_base()
    git_repo.write("legacy.c", b'int a;\nchar *s = "caf\xe9";\n')

    added = _added(git_repo.pr_diff())["legacy.c"]

    assert added == {2: 'char *s = "caf\ufffd";'}


def test_quoted_unicode_paths_are_unquoted(git_repo: GitRepo) -> None:
    git_repo.write("x.txt", "x\n")
    git_repo.publish_base()
    git_repo.write("données/é t.py", "v = 1\n")

    diff = git_repo.pr_diff()

    assert b'"b/donn\\303\\251es/\\303\\251 t.py"' in diff
    assert _added(diff) == {"données/é t.py": {1: "v = 1"}}


def test_an_empty_diff_is_an_empty_review() -> None:
    assert parse_diff(b"") == []
    assert parse_diff(b"\n  \n") == []


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"just some text\nnot a diff\n", "not a unified diff"),
        (b"\x7fELF\x02\x01\x01\x00\x00\x00garbage", "binary"),
        (
            b"--- a/x.py\n+++ b/x.py\n@@ -1,2 +1,3 @@\n x\n+y\n",
            "malformed unified diff: Hunk is shorter than expected",
        ),
    ],
    ids=["plain-text", "binary-garbage", "truncated-hunk"],
)
def test_unreadable_input_raises_a_clear_error(data: bytes, message: str) -> None:
    with pytest.raises(DiffError, match=message):
        parse_diff(data)
