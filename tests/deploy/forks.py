"""Copies of this repository turned into forks, and the deploy tests run inside them.

A copy holds the work tree as it is (tracked and untracked files that git does not ignore),
committed as the first commit of a new repository, and shares this checkout's virtual
environments. Inside it the tests import the copy's own packages (PYTHONPATH=src before the
editable install) and run with CI=true, so a skip fails as it would in CI.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from .support import ROOT

ARGO_GITOPS = Path(sys.executable).with_name("argo-gitops")
# The deploy and workflow tests, which read the fork's files; the fork tests themselves are left
# out of the inner run (they would copy the copy).
SUITE = ("tests/deploy", "tests/workflows", "tests/argo_python/test_config.py")
INNER_IGNORE = ("tests/deploy/test_fork.py",)
GIT_ENV = {
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "Dev Eloper",
    "GIT_AUTHOR_EMAIL": "dev@example.com",
    "GIT_COMMITTER_NAME": "Dev Eloper",
    "GIT_COMMITTER_EMAIL": "dev@example.com",
}


def git(cwd: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", *args],
        cwd=cwd,
        env={**os.environ, **GIT_ENV},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, f"git {' '.join(args)}: {result.stderr}"
    return result.stdout.strip()


def copy_repository(destination: Path, origin: str | None = None) -> Path:
    """A new repository at `destination` holding this work tree in its first commit."""
    files = git(ROOT, "ls-files", "-z", "--cached", "--others", "--exclude-standard").split("\0")
    destination.mkdir(parents=True)
    for name in filter(None, files):
        source = ROOT / name
        if source.is_file() and not source.is_symlink():
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(source.read_bytes())
            target.chmod(source.stat().st_mode)
    git(destination, "init", "-q", "-b", "main")
    git(destination, "add", "-A")
    git(destination, "commit", "-q", "-m", "clone")
    link_environments(destination)
    if origin is not None:
        git(destination, "remote", "add", "origin", origin)
    return destination


def link_environments(root: Path) -> None:
    """This checkout's virtual environments (git ignores them) seen from `root`."""
    for venv in (".venv", ".venv-checkov"):
        if (ROOT / venv).exists() and not (root / venv).exists():
            (root / venv).symlink_to(ROOT / venv)


def argo_gitops(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(ARGO_GITOPS), *args],
        cwd=root,
        env={**os.environ, **GIT_ENV, "PYTHONPATH": str(root / "src")},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def fork(root: Path, *args: str) -> str:
    result = argo_gitops(root, "fork", *args)
    assert result.returncode == 0, result.stderr
    return result.stdout


def run_suite(root: Path, *paths: str) -> subprocess.CompletedProcess[str]:
    """pytest inside the copy, as the next push's test job would run it there."""
    command = [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider"]
    command += [f"--ignore={path}" for path in INNER_IGNORE]
    return subprocess.run(
        [*command, *(paths or SUITE)],
        cwd=root,
        env={**os.environ, **GIT_ENV, "PYTHONPATH": str(root / "src"), "CI": "true"},
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


def assert_green(result: subprocess.CompletedProcess[str]) -> None:
    tail = "\n".join(result.stdout.splitlines()[-40:])
    assert result.returncode == 0, f"the copy's tests failed:\n{tail}\n{result.stderr[-2000:]}"
