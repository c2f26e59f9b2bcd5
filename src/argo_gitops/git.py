"""A thin, typed edge over the git command line: each method is one git command whose failure
becomes a GitError carrying git's own first line of explanation."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from argo_gitops.errors import GitError

# Rejections that mean "the branch moved on": fetching and rebasing can fix them. The client
# reports a move it saw before pushing; the remote reports one that happened while the push was
# under way (git's receive-pack says "failed to update ref", GitHub "incorrect old value
# provided" or "cannot lock ref").
_STALE_PUSH_REASONS = (
    "(fetch first)",
    "(non-fast-forward)",
    "(failed to update ref)",
    "(incorrect old value provided)",
    "(cannot lock ref",
)


@dataclass(frozen=True)
class PushResult:
    """A push that went through, or one refused because the branch moved (with git's reason)."""

    pushed: bool
    rejection: str = ""


@dataclass(frozen=True)
class RebaseStop:
    """A rebase stopped at a conflict: the commit it was applying and the conflicted paths."""

    commit: str
    conflicts: list[str]


@dataclass(frozen=True)
class Identity:
    name: str
    email: str


class Git:
    """Runs git in one work tree, as `identity` when one is given."""

    def __init__(self, worktree: Path, identity: Identity | None = None) -> None:
        self.worktree = worktree
        env = dict(os.environ)
        # Parseable output, never an interactive prompt or editor in an unattended job.
        env.update({"LC_ALL": "C", "GIT_TERMINAL_PROMPT": "0", "GIT_EDITOR": "true"})
        if identity is not None:
            for role in ("AUTHOR", "COMMITTER"):
                env[f"GIT_{role}_NAME"] = identity.name
                env[f"GIT_{role}_EMAIL"] = identity.email
        self._env: Mapping[str, str] = env

    @classmethod
    def containing(cls, path: Path, identity: Identity | None = None) -> Git:
        """The work tree that `path` belongs to."""
        result = cls(path.parent).run("rev-parse", "--show-toplevel")
        if result.returncode != 0:
            raise GitError(f"{path} is not inside a git work tree")
        return cls(Path(result.stdout.strip()), identity)

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run `git args`; the caller looks at the return code."""
        try:
            return subprocess.run(  # noqa: S603 - fixed argv, no shell
                ["git", "-C", str(self.worktree), *args],  # noqa: S607 - git from PATH
                capture_output=True,
                text=True,
                env=self._env,
                check=False,
            )
        except FileNotFoundError:
            raise GitError("git is not installed (apt-get install git)") from None

    def output(self, *args: str) -> str:
        """Run `git args` and return its stripped stdout; a non-zero exit raises GitError."""
        result = self.run(*args)
        if result.returncode != 0:
            raise GitError(f"git {args[0]} failed: {_first_line(result.stderr)}")
        return result.stdout.strip()

    def succeeds(self, *args: str) -> bool:
        """Whether `git args` exits 0 (for commands that answer through their exit code)."""
        return self.run(*args).returncode == 0

    def relative(self, path: Path) -> str:
        """`path` as git names it: relative to the work tree, with forward slashes."""
        try:
            return path.resolve().relative_to(self.worktree.resolve()).as_posix()
        except ValueError:
            raise GitError(f"{path} is outside the git work tree {self.worktree}") from None

    def head(self) -> str:
        return self.output("rev-parse", "--verify", "HEAD")

    def commit_of(self, revision: str) -> str | None:
        """The full SHA of the commit `revision` names, or None if there is no such commit."""
        result = self.run("rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}")
        return result.stdout.strip() if result.returncode == 0 else None

    def is_ancestor(self, ancestor: str, descendant: str) -> bool:
        """Whether `ancestor` is `descendant` or one of its ancestors."""
        result = self.run("merge-base", "--is-ancestor", ancestor, descendant)
        if result.returncode not in (0, 1):
            raise GitError(f"git merge-base failed: {_first_line(result.stderr)}")
        return result.returncode == 0

    def show(self, revision: str, path: str) -> str:
        return self.output("show", f"{revision}:{path}")

    def push(self, remote: str, branch: str) -> PushResult:
        """Push HEAD to `branch`. Refused because the branch moved: not pushed, with the reason;
        refused for any other reason: GitError."""
        result = self.run("push", "--porcelain", remote, f"HEAD:refs/heads/{branch}")
        if result.returncode == 0:
            return PushResult(pushed=True)
        # Porcelain lines: "<flag>\t<from>:<to>\t<summary>"; "!" marks a rejected ref.
        rejected = [line.split("\t")[-1] for line in result.stdout.splitlines() if line[:1] == "!"]
        if rejected and all(any(r in line for r in _STALE_PUSH_REASONS) for line in rejected):
            return PushResult(pushed=False, rejection=rejected[0])
        reason = rejected[0] if rejected else _first_line(result.stderr)
        raise GitError(f"push to {remote}/{branch} failed: {reason}")

    def fetch(self, remote: str, branch: str) -> str:
        """Fetch `branch` from `remote`; return the remote-tracking ref that now holds it."""
        tracking = f"refs/remotes/{remote}/{branch}"
        self.output("fetch", "--quiet", remote, f"+refs/heads/{branch}:{tracking}")
        return tracking

    def rebase(self, upstream: str) -> RebaseStop | None:
        """Rebase HEAD onto `upstream`: None when done, where it stopped at a conflict."""
        return self._rebase_step("rebase", upstream)

    def rebase_continue(self) -> RebaseStop | None:
        return self._rebase_step("rebase", "--continue")

    def rebase_skip(self) -> RebaseStop | None:
        return self._rebase_step("rebase", "--skip")

    def rebase_abort(self) -> None:
        self.output("rebase", "--abort")

    def _rebase_step(self, *args: str) -> RebaseStop | None:
        result = self.run(*args)
        if result.returncode == 0:
            return None
        commit = self.commit_of("REBASE_HEAD")
        if commit is not None:
            conflicts = self.output("diff", "--name-only", "--diff-filter=U").splitlines()
            if conflicts:
                return RebaseStop(commit, conflicts)
        raise GitError(f"git rebase failed: {_first_line(result.stderr or result.stdout)}")


def _first_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    # git prints hints after the error; the line starting with fatal/error says what happened.
    for line in lines:
        if line.startswith(("fatal:", "error:")):
            return line.split(":", 1)[1].strip()
    return lines[0].strip() if lines else "no output"
