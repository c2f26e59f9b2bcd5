"""Real git repositories for the argo-gitops tests: a bare repository as the remote, clones of it
as the CI checkout and as "another deploy", and the CLI run as a separate process."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ARGO_GITOPS = Path(sys.executable).with_name("argo-gitops")
MANIFEST = "k8s/deployment.yaml"
REGISTRY = "ghcr.io/acme/argo-python"
BOT = "github-actions[bot] <41898282+github-actions[bot]@users.noreply.github.com>"


def deployment(image: str) -> str:
    """A Deployment written the way people write them: comments, flow maps, unindented lists."""
    return f"""\
# argo-python, synced by ArgoCD. CI pins the image; everything else is edited by hand.
apiVersion: apps/v1
kind: Deployment
metadata:
  name: argo-python
  labels: {{app: argo-python}}   # flow style on purpose
spec:
  replicas: 2
  selector:
    matchLabels:
      app: argo-python
  template:
    metadata:
      labels:
        app: argo-python
    spec:
      containers:
      - name: argo-python
        image: {image}  # set by argo-gitops
        imagePullPolicy: IfNotPresent
        ports:
        - containerPort: 8080
"""


def image_of(commit: str, digest_hex: str = "a") -> str:
    """The reference deploy.yml pushes for a build of `commit`."""
    return f"{REGISTRY}:sha-{commit[:7]}@sha256:{digest_hex * 64}"


def run_cli(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run the installed `argo-gitops` console script."""
    if not ARGO_GITOPS.exists():
        pytest.fail(f"{ARGO_GITOPS} is missing; run `make test`, which installs the project")
    return subprocess.run(
        [str(ARGO_GITOPS), *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
        check=False,
    )


def git(cwd: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, f"git {' '.join(args)}: {result.stderr}"
    return result.stdout.strip()


@dataclass(frozen=True)
class Clone:
    """A work tree cloned from the bare remote."""

    path: Path

    def git(self, *args: str) -> str:
        return git(self.path, *args)

    def commit(self, message: str, files: dict[str, str]) -> str:
        for name, text in files.items():
            target = self.path / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
            self.git("add", name)
        self.git("commit", "--quiet", "--message", message)
        return self.git("rev-parse", "HEAD")

    @property
    def manifest(self) -> Path:
        return self.path / MANIFEST

    def race_before_push(self, rival: Clone, *, every_time: bool = False) -> Path:
        """Install a pre-push hook that, after our commit and before our push reaches the remote,
        pushes `rival`'s HEAD first (once, or before every push with a fresh empty commit).
        Returns the file where each firing is logged."""
        log = self.path.parent / f"{self.path.name}-races.log"
        once = "" if every_time else f'[ -s "{log}" ] && exit 0\n'
        rival_commit = (
            f'git -C "{rival.path}" pull --quiet --rebase origin main\n'
            f'git -C "{rival.path}" commit --quiet --allow-empty --message "rival commit"\n'
            if every_time
            else ""
        )
        hook = self.path / ".git" / "hooks" / "pre-push"
        hook.write_text(
            "#!/bin/sh\n"
            "set -eu\n"
            "cat > /dev/null\n"
            f"{once}"
            "unset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE\n"
            f"{rival_commit}"
            f'git -C "{rival.path}" push --quiet origin HEAD:refs/heads/main\n'
            f'echo raced >> "{log}"\n'
        )
        hook.chmod(0o755)
        return log


@dataclass(frozen=True)
class Origin:
    """A bare repository standing in for GitHub, and the clone its history was written from."""

    bare: Path
    dev: Clone

    def clone(self, name: str, at: str | None = None) -> Clone:
        """A fresh clone; `at` detaches it at that commit, as actions/checkout does."""
        path = self.bare.parent / name
        git(self.bare.parent, "clone", "--quiet", str(self.bare), str(path))
        clone = Clone(path)
        if at is not None:
            clone.git("checkout", "--quiet", "--detach", at)
        return clone

    def show(self, path: str, rev: str = "main") -> str:
        return git(self.bare, "show", f"{rev}:{path}")

    def log(self, fmt: str = "%s") -> list[str]:
        return git(self.bare, "log", f"--format={fmt}", "main").splitlines()

    def tip(self) -> str:
        return git(self.bare, "rev-parse", "main")


def make_origin(root: Path) -> Origin:
    bare = root / "origin.git"
    git(root, "init", "--quiet", "--bare", "--initial-branch=main", str(bare))
    dev_path = root / "dev"
    git(root, "clone", "--quiet", str(bare), str(dev_path))
    return Origin(bare, Clone(dev_path))
