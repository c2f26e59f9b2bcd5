"""The `run:` scripts with logic in them, taken from the workflow files and run with bash the way
the runner runs them (`bash -e -o pipefail`), against real inputs: the image name step of
deploy.yml and the diff step of codex-review.yml on a real repository with a bare remote."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from tests.workflows.workflow_files import load, step

from argo_gitops.imageref import parse_image_ref

SHA = "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567"


def _bash(script: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("bash is not installed; install it with: apt-get install bash")
    return subprocess.run(
        [bash, "--noprofile", "--norc", "-e", "-o", "pipefail", "-c", script],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={"PATH": os.environ["PATH"], "HOME": str(cwd), **env},
        timeout=60,
        check=False,
    )


def _outputs(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines())


@pytest.mark.parametrize(
    ("repository", "image"),
    [
        pytest.param("acme/argo-python", "ghcr.io/acme/argo-python", id="lower-case"),
        pytest.param("Acme-Org/Argo-Python", "ghcr.io/acme-org/argo-python", id="mixed-case"),
        pytest.param("ACME/my.service_2", "ghcr.io/acme/my.service_2", id="dots-underscores"),
    ],
)
def test_image_step_names_the_image_after_the_repository_lower_cased(
    tmp_path: Path, repository: str, image: str
) -> None:
    script = step(load("deploy.yml")["jobs"]["build"], name="Image name and tag")["run"]
    output = tmp_path / "github_output"
    result = _bash(
        script,
        tmp_path,
        {"REPOSITORY": repository, "GITHUB_SHA": SHA, "GITHUB_OUTPUT": str(output)},
    )
    assert result.returncode == 0, result.stderr
    assert _outputs(output) == {"name": image, "tag": "sha-0a1b2c3"}
    # What the bump job then hands to argo-gitops is a valid, immutable reference.
    reference = parse_image_ref(f"{image}:sha-0a1b2c3@sha256:{'e' * 64}")
    assert reference.source_commit == SHA[:7]


def _git(cwd: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture
def pull_request(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """A checkout of a pull request's head, as actions/checkout leaves it: origin/main fetched,
    HEAD detached at the PR head. main moved on after the PR branched off."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed; install it with: apt-get install git")
    config = tmp_path / "gitconfig"
    config.write_text("[user]\n\tname = Dev\n\temail = dev@example.com\n")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    bare, work = tmp_path / "origin.git", tmp_path / "work"
    _git(tmp_path, "init", "--quiet", "--bare", "--initial-branch=main", str(bare))
    _git(tmp_path, "clone", "--quiet", str(bare), str(work))
    files = {"old.py": "x = 1\n", "app.go": "package main\n", "README.md": "# hi\n"}
    for name, text in files.items():
        (work / name).write_text(text)
    _git(work, "add", ".")
    _git(work, "commit", "--quiet", "-m", "base")
    _git(work, "push", "--quiet", "origin", "HEAD:main")
    _git(work, "checkout", "--quiet", "-b", "feature")
    changes = {
        "app.go": "package main\n\nfunc main() {}\n",
        "src/deep/view.ts": "export const a = 1;\n",
        "lib/tool.c": "int main(void) { return 0; }\n",
        "README.md": "# hello\n",
        "docs/guide.md": "words\n",
        "data.json": "{}\n",
        "script.pyc": "binary-ish\n",
    }
    for name, text in changes.items():
        (work / name).parent.mkdir(parents=True, exist_ok=True)
        (work / name).write_text(text)
    (work / "old.py").unlink()
    _git(work, "add", "--all")
    _git(work, "commit", "--quiet", "-m", "feature")
    head = _git(work, "rev-parse", "HEAD").strip()
    _git(work, "push", "--quiet", "origin", "feature")
    # main moves on: its own change must not show up in the pull request's diff.
    _git(work, "checkout", "--quiet", "main")
    (work / "main_only.py").write_text("y = 2\n")
    _git(work, "add", ".")
    _git(work, "commit", "--quiet", "-m", "main moves on")
    _git(work, "push", "--quiet", "origin", "main")
    checkout = tmp_path / "checkout"
    _git(tmp_path, "clone", "--quiet", str(bare), str(checkout))
    _git(checkout, "checkout", "--quiet", "--detach", head)
    return {"path": checkout, "head": head}


def _run_review_diff(
    pull_request: dict[str, Any], extensions: str | None = None
) -> tuple[subprocess.CompletedProcess[str], Path]:
    """The review workflow's diff step in the pull request's checkout; `extensions` replaces
    the workflow's REVIEW_EXTENSIONS."""
    job = load("codex-review.yml")["jobs"]["review"]
    script = step(job, name="Diff of the changed source files")["run"]
    checkout: Path = pull_request["path"]
    result = _bash(
        script,
        checkout,
        {
            "REVIEW_EXTENSIONS": extensions or job["env"]["REVIEW_EXTENSIONS"],
            "BASE_REF": "main",
            "HEAD_SHA": pull_request["head"],
            "GIT_CONFIG_GLOBAL": os.environ["GIT_CONFIG_GLOBAL"],
        },
    )
    return result, checkout


def test_review_diff_holds_only_changed_source_files_of_the_pull_request(
    pull_request: dict[str, Any],
) -> None:
    result, checkout = _run_review_diff(pull_request)
    assert result.returncode == 0, result.stderr
    changed = (checkout / "changed_files.txt").read_text().splitlines()
    # Deleted files, other extensions and main's own later commits are left out.
    assert sorted(changed) == ["app.go", "lib/tool.c", "src/deep/view.ts"]
    diff = (checkout / "pr_diff.txt").read_text()
    diffed = sorted(
        line.split(" b/")[1] for line in diff.splitlines() if line.startswith("diff --git")
    )
    assert diffed == sorted(changed)
    assert "+func main() {}" in diff
    assert "::notice::3 changed source file(s) to review" in result.stdout


def test_review_diff_is_empty_when_no_source_file_changed(pull_request: dict[str, Any]) -> None:
    result, checkout = _run_review_diff(pull_request, extensions=".rb .php")
    assert result.returncode == 0, result.stderr
    assert (checkout / "pr_diff.txt").read_text() == ""
    assert "::notice::0 changed source file(s) to review" in result.stdout
