"""The command line: the seed's invocation, the console script, formats, exit codes, errors."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from tests.codex_review.fakes import GitRepo

from codex_review.cli import main

ROOT = Path(__file__).resolve().parents[2]
SHIM = ROOT / ".github" / "scripts" / "codex-review.py"
CODE = (
    "fn main() {\n"
    "    let v = parse().unwrap();\n"
    '    println!("password={}", password);\n'
    "    let c = v.clone();\n"
    "}\n"
)


@pytest.fixture
def pr_diff(git_repo: GitRepo) -> Path:
    return git_repo.pr_diff_file("src/main.rs", "fn main() {}\n", CODE)


def _env() -> dict[str, str]:
    # No GitHub Actions variables: a local run.
    return {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_")}


@pytest.mark.parametrize(
    ("fmt", "check"),
    [
        ("json", lambda out: json.loads(out)["files_reviewed"] == 1),
        ("text", lambda out: "🔍 CODEX CODE REVIEW" in out),
        ("markdown", lambda out: out.startswith("<!-- codex-review:comment -->")),
        ("sarif", lambda out: json.loads(out)["version"] == "2.1.0"),
    ],
    ids=["json", "text", "markdown", "sarif"],
)
def test_the_seed_invocation_works_from_a_plain_checkout(
    fmt: str, check: object, pr_diff: Path, tmp_path: Path
) -> None:
    output = tmp_path / f"codex-review.{fmt}"
    done = subprocess.run(
        [
            sys.executable,
            str(SHIM),
            "--diff",
            str(pr_diff),
            "--format",
            fmt,
            "--output",
            str(output),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=_env(),
        check=False,
    )

    assert done.returncode == 0, done.stderr
    assert callable(check)
    assert check(output.read_text(encoding="utf-8"))


def test_the_console_script_writes_to_stdout_without_output(pr_diff: Path) -> None:
    script = Path(sys.executable).with_name("codex-review")
    if not script.exists():
        pytest.skip("the console script is installed by: uv sync --locked --extra review")
    done = subprocess.run(
        [str(script), "--diff", str(pr_diff), "--format", "json"],
        capture_output=True,
        text=True,
        env=_env(),
        check=False,
    )

    assert done.returncode == 0, done.stderr
    issues = json.loads(done.stdout)["issues"]
    assert [(i["rule"], i["line"]) for i in issues] == [
        ("rust-unwrap", 2),
        ("rust-println", 3),
        ("rust-println-password", 3),
        ("rust-clone", 4),
    ]


def test_the_shim_explains_a_missing_dependency_in_one_line(tmp_path: Path) -> None:
    # A Python without unidiff: the system interpreter with site-packages disabled.
    done = subprocess.run(
        [sys.executable, "-S", "-I", str(SHIM), "--diff", "x"],
        capture_output=True,
        text=True,
        check=False,
    )

    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
    assert "missing dependency 'unidiff'" in done.stderr


@pytest.mark.parametrize(
    ("fail_on", "code"),
    [("never", 0), ("error", 1), ("warning", 1)],
    ids=["never", "error", "warning"],
)
def test_fail_on_sets_the_exit_code(
    fail_on: str, code: int, pr_diff: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--diff", str(pr_diff), "--format", "json", "--fail-on", fail_on], env={}) == code


def test_fail_on_warning_passes_with_only_info(git_repo: GitRepo, tmp_path: Path) -> None:
    diff = git_repo.pr_diff_file("a.rs", "fn f() {}\n", "fn f() { let c = v.clone(); }\n")

    assert (
        main(["--diff", str(diff), "--fail-on", "warning", "--output", str(tmp_path / "o")], env={})
        == 0
    )


def test_repo_dir_gives_the_whole_file_and_the_agents_md(git_repo: GitRepo, tmp_path: Path) -> None:
    git_repo.write("AGENTS.md", "## Review guidelines\n\n- Flag unwrap() as errors\n")
    diff = git_repo.pr_diff_file(
        "src/a.rs",
        "/*\n  example:\n*/\nfn f() {}\n",
        "/*\n  example:\n  x.unwrap();\n*/\nfn f() { y.unwrap(); }\n",
    )
    output = tmp_path / "out.json"

    code = main(
        [
            "--diff",
            str(diff),
            "--format",
            "json",
            "--output",
            str(output),
            "--repo-dir",
            str(git_repo.path),
        ],
        env={},
    )

    assert code == 0
    issues = json.loads(output.read_text())["issues"]
    assert [(i["rule"], i["line"], i["severity"]) for i in issues] == [("rust-unwrap", 5, "error")]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--diff", "/nonexistent/pr_diff.txt"], "cannot read the diff"),
        (["--format", "json"], "the following arguments are required: --diff"),
        (["--diff", "{diff}", "--format", "xml"], "invalid choice: 'xml'"),
        (["--diff", "{diff}", "--fail-on", "sometimes"], "invalid choice: 'sometimes'"),
        (["--diff", "{diff}", "--repo-dir", "/nonexistent"], "is not a directory"),
        (["--diff", "{garbage}"], "binary, not a unified diff"),
        (["--diff", "{text}"], "not a unified diff"),
        (["--diff", "{diff}", "--output", "/nonexistent/dir/out.json"], "cannot write"),
    ],
    ids=[
        "missing-file",
        "no-diff-option",
        "bad-format",
        "bad-fail-on",
        "bad-repo-dir",
        "binary-garbage",
        "not-a-diff",
        "unwritable-output",
    ],
)
def test_bad_input_is_one_line_on_stderr_and_exit_2(
    argv: list[str],
    message: str,
    pr_diff: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    garbage = tmp_path / "garbage.bin"
    garbage.write_bytes(bytes(range(256)) * 4)
    text = tmp_path / "notes.txt"
    text.write_text("this is a note, not a diff\n")
    names = {"diff": str(pr_diff), "garbage": str(garbage), "text": str(text)}

    code = main([arg.format(**names) for arg in argv], env={})

    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1
    assert err.startswith("codex-review: error: ")
    assert message in err


def test_an_empty_diff_is_a_clean_review(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")

    assert main(["--diff", str(empty), "--format", "json", "--fail-on", "warning"], env={}) == 0

    assert json.loads(capsys.readouterr().out) == {
        "summary": "Code review completed with 0 issues found (0 errors, 0 warnings, 0 info)",
        "files_reviewed": 0,
        "issues": [],
    }


def test_the_diff_can_come_from_stdin(pr_diff: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(SHIM), "--diff", "-", "--format", "json"],
        input=pr_diff.read_bytes(),
        capture_output=True,
        env=_env(),
        check=False,
    )

    assert done.returncode == 0
    assert len(json.loads(done.stdout)["issues"]) == 4


def test_the_shim_runs_from_a_copy_of_the_repository_layout(tmp_path: Path, pr_diff: Path) -> None:
    # A checkout elsewhere: the shim finds src/ relative to itself, not to the working directory.
    copy = tmp_path / "checkout"
    shutil.copytree(ROOT / "src" / "codex_review", copy / "src" / "codex_review")
    (copy / ".github" / "scripts").mkdir(parents=True)
    shutil.copy(SHIM, copy / ".github" / "scripts" / "codex-review.py")

    done = subprocess.run(
        [
            sys.executable,
            ".github/scripts/codex-review.py",
            "--diff",
            str(pr_diff),
            "--format",
            "json",
        ],
        cwd=copy,
        capture_output=True,
        text=True,
        env=_env(),
        check=False,
    )

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["files_reviewed"] == 1
