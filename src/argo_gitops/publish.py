"""Commit a new image to the manifest and push it to the branch ArgoCD watches, surviving
concurrent pushes.

A rejected push (the branch moved on) is fetched, rebased and pushed again, a bounded number of
times. When the rebase conflicts on the manifest, someone else changed the same image line; then
the build of the newer commit of the branch wins (see `conflict_verdict`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Protocol

from argo_gitops.errors import GitError, GitOpsError, InputError, SupersededError
from argo_gitops.git import Git, Identity, RebaseStop
from argo_gitops.imageref import ImageRef, parse_image_ref
from argo_gitops.manifest import find_image, read_manifest, set_image, write_manifest

# The identity GitHub shows as "github-actions[bot]" (41898282 is that account's user id).
BOT = Identity("github-actions[bot]", "41898282+github-actions[bot]@users.noreply.github.com")


class Outcome(Enum):
    PUBLISHED = "published"
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class Target:
    """Where the manifest change goes (the defaults are the CLI's)."""

    remote: str
    branch: str
    retries: int


@dataclass(frozen=True)
class Published:
    outcome: Outcome
    commit: str | None = None


@dataclass(frozen=True)
class _Bump:
    """The change being published: which image goes into which container of which file."""

    manifest: Path
    path: str  # the manifest as git names it
    image: ImageRef
    container: str | None


class History(Protocol):
    """What the conflict rule needs to know about the commit graph."""

    def commit_of(self, revision: str) -> str | None: ...

    def is_ancestor(self, ancestor: str, descendant: str) -> bool: ...


def commit_message(image: ImageRef) -> str:
    return f"ci: update image to {image.label}"


def conflict_verdict(ours: ImageRef, theirs: ImageRef, branch_tip: str, history: History) -> str:
    """Why our build must NOT replace `theirs` on the branch, or "" when it may.

    A build is named after the commit it was built from by its `sha-<hex>` tag. Ours is newer,
    and wins, only when its commit is on the branch (an ancestor of `branch_tip`, inclusive) and
    theirs is a proper ancestor of ours. Newer is about history, not clocks: commit and build
    times disagree with the order of the branch after re-runs, rebases or clock skew. The same
    commit is not newer (the branch already deploys a build of it); commits on diverged histories,
    tags that name no commit and commits missing from the clone cannot be ordered, and then the
    branch keeps what it has.
    """
    commits: list[str] = []
    for image in (ours, theirs):
        prefix = image.source_commit
        if prefix is None:
            return f"cannot order {image} against the other build: its tag names no sha-<commit>"
        commit = history.commit_of(prefix)
        if commit is None:
            return (
                f"commit {prefix} of {image.label} is not in this clone "
                "(check out the full history: fetch-depth: 0)"
            )
        commits.append(commit)
    mine, other = commits
    # Checked in order; the first that holds is the reason our build does not win.
    rules: list[tuple[Callable[[], bool], str]] = [
        (
            lambda: not history.is_ancestor(mine, branch_tip),
            f"{ours.label} was not built from a commit of the branch",
        ),
        (
            lambda: mine == other,
            f"the branch already deploys a build of the same commit ({theirs.label})",
        ),
        (
            lambda: history.is_ancestor(mine, other),
            f"the branch deploys {theirs.label}, built from a newer commit than {ours.label}",
        ),
        (
            lambda: not history.is_ancestor(other, mine),
            f"{theirs.label} and {ours.label} come from diverged histories; neither is newer",
        ),
    ]
    return next((reason for holds, reason in rules if holds()), "")


def publish(
    manifest: Path,
    image: ImageRef,
    container: str | None,
    target: Target,
    log: Callable[[str], None],
) -> Published:
    """Set the image, commit it as the bot and push it to `target` (see the module docstring)."""
    text = read_manifest(manifest)
    updated = set_image(text, image, container, str(manifest))  # bad input fails before git
    git = Git.containing(manifest, BOT)
    bump = _Bump(manifest, git.relative(manifest), image, container)
    _check_ready(git, bump.path, target)
    if updated == text:
        return Published(Outcome.UNCHANGED)
    write_manifest(manifest, updated)
    git.output("commit", "--quiet", "--only", "--message", commit_message(image), "--", bump.path)
    head = git.head()  # our bump commit, the newest local commit
    for retry in range(target.retries + 1):
        push = git.push(target.remote, target.branch)
        if push.pushed:
            return Published(Outcome.PUBLISHED, head)
        if retry == target.retries:
            break
        log(
            f"push rejected ({push.rejection}): {target.remote}/{target.branch} moved on; "
            f"rebasing onto it (retry {retry + 1} of {target.retries})"
        )
        upstream = git.fetch(target.remote, target.branch)
        head = _rebase(git, upstream, bump, head)
        if head == git.commit_of(upstream):
            # Our commit became empty: the branch already carries this exact image.
            return Published(Outcome.UNCHANGED)
    raise GitError(
        f"push to {target.remote}/{target.branch} still rejected after {target.retries} retries "
        f"({push.rejection})"
    )


def _check_ready(git: Git, path: str, target: Target) -> None:
    if not git.succeeds("check-ref-format", f"refs/heads/{target.branch}"):
        raise InputError(f"{target.branch!r} is not a valid branch name")
    if not git.succeeds("ls-files", "--error-unmatch", "--", path):
        raise GitError(f"{path} is not tracked by git; commit it once by hand")
    if not git.succeeds("diff", "--quiet", "HEAD", "--", path):
        raise GitError(f"{path} has uncommitted changes; commit or discard them first")


def _rebase(git: Git, upstream: str, bump: _Bump, ours: str) -> str:
    """Rebase our bump commit `ours` onto `upstream`, settling conflicts on the manifest, and
    return the new HEAD; on any failure the rebase is aborted, so the checkout is left as it
    was before."""
    stop = git.rebase(upstream)
    while stop is not None:
        try:
            stop = _settle_conflict(git, upstream, bump, ours, stop)
        except GitOpsError:
            git.rebase_abort()
            raise
    return git.head()


def _settle_conflict(
    git: Git, upstream: str, bump: _Bump, ours: str, stop: RebaseStop
) -> RebaseStop | None:
    """Resolve the stopped rebase by the newer-build rule; None when the rebase is done."""
    if stop.conflicts != [bump.path] or stop.commit != ours:
        raise GitError(
            f"rebase onto {upstream} conflicts in {', '.join(stop.conflicts)}; resolve it by hand"
        )
    source = f"{upstream}:{bump.path}"
    theirs_text = git.show(upstream, bump.path)
    try:
        theirs = find_image(theirs_text, bump.container, source).current
    except InputError as error:
        raise SupersededError(f"not pushed: cannot read the branch's image: {error}") from None
    if theirs == str(bump.image):
        return git.rebase_skip()  # the branch already has this very image: drop our commit
    verdict = _verdict(theirs, bump.image, upstream, git)
    if verdict:
        raise SupersededError(f"not pushed: {verdict}")
    # Their version of the file with our image: keeps whatever else they changed in it.
    write_manifest(bump.manifest, set_image(theirs_text, bump.image, bump.container, source))
    git.output("add", "--", bump.path)
    return git.rebase_continue()


def _verdict(theirs: str, ours: ImageRef, upstream: str, git: Git) -> str:
    """conflict_verdict for our image against the image text found on the branch."""
    try:
        their_image = parse_image_ref(theirs)
    except InputError as error:
        return f"cannot order against the branch's image: {error}"
    return conflict_verdict(ours, their_image, upstream, git)
