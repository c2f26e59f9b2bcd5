"""`argo-gitops publish` against a real bare remote: it commits as the bot, survives a push that
lands between its commit and its push, and settles a competing bump by the newer-build rule."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from tests.argo_gitops.repos import (
    BOT,
    MANIFEST,
    REGISTRY,
    Clone,
    Origin,
    deployment,
    git,
    image_of,
    make_origin,
    run_cli,
)

from argo_gitops.imageref import parse_image_ref
from argo_gitops.publish import commit_message

FIRST = f"{REGISTRY}:sha-0000000"


@dataclass(frozen=True)
class History:
    """main: base -> s1 -> s2 on the remote; `side` is a pushed branch forked from base."""

    origin: Origin
    base: str
    s1: str
    s2: str
    side: str


@pytest.fixture
def history(tmp_path: Path) -> History:
    origin = make_origin(tmp_path)
    dev = origin.dev
    base = dev.commit("add the service and its manifest", {MANIFEST: deployment(FIRST)})
    s1 = dev.commit("first feature", {"app.py": "print('one')\n"})
    s2 = dev.commit("second feature", {"app.py": "print('two')\n"})
    dev.git("push", "--quiet", "origin", "HEAD:refs/heads/main")
    dev.git("checkout", "--quiet", "-b", "side", base)
    side = dev.commit("experiment", {"side.py": "print('side')\n"})
    dev.git("push", "--quiet", "origin", "side")
    return History(origin, base, s1, s2, side)


def _rival_bump(history: History, name: str, image: str) -> Clone:
    """Another deploy's bump of the manifest, committed on top of main, not yet pushed."""
    rival = history.origin.clone(name)
    result = run_cli("set-image", rival.manifest, image)
    assert result.returncode == 0, result.stderr
    message = commit_message(parse_image_ref(image))
    rival.git("commit", "--quiet", "--all", "--message", message)
    return rival


def _image_on_remote(origin: Origin) -> str:
    line = next(line for line in origin.show(MANIFEST).splitlines() if "image:" in line)
    return line.split("image:")[1].split("#")[0].strip()


def test_publish_commits_the_one_line_as_the_bot_and_pushes(history: History) -> None:
    ci = history.origin.clone("ci", at=history.s2)
    image = image_of(history.s2)
    result = run_cli("publish", ci.manifest, image, cwd=ci.path)
    assert result.returncode == 0, result.stderr
    origin = history.origin
    tip = origin.tip()
    assert result.stdout == f"published sha-{history.s2[:7]} to origin/main as {tip}\n"
    assert origin.log("%s|%an <%ae>|%cn <%ce>|%P")[0] == (
        f"ci: update image to sha-{history.s2[:7]}|{BOT}|{BOT}|{history.s2}"
    )
    assert git_numstat(origin, tip) == f"1\t1\t{MANIFEST}"
    assert origin.show(MANIFEST) == deployment(image).rstrip("\n")


def test_publish_of_the_image_already_there_makes_no_commit(history: History) -> None:
    ci = history.origin.clone("ci", at=history.s2)
    before = history.origin.tip()
    result = run_cli("publish", ci.manifest, FIRST, cwd=ci.path)
    assert (result.returncode, result.stdout, result.stderr) == (0, "unchanged\n", "")
    assert history.origin.tip() == before
    assert ci.git("rev-parse", "HEAD") == history.s2


def test_competing_push_between_bump_and_push_is_rebased_and_both_commits_land(
    history: History,
) -> None:
    """Someone pushes unrelated work after our commit and before our push: the push is
    rejected, we fetch, rebase onto it and push again; nothing of theirs is lost."""
    ci = history.origin.clone("ci", at=history.s2)
    rival = history.origin.clone("rival")
    rival_commit = rival.commit("docs: explain the deploy", {"README.md": "# argo-python\n"})
    races = ci.race_before_push(rival)
    image = image_of(history.s2)

    result = run_cli("publish", ci.manifest, image, cwd=ci.path)

    assert result.returncode == 0, result.stderr
    assert races.read_text() == "raced\n"
    assert "origin/main moved on; rebasing onto it (retry 1 of 3)" in result.stderr
    origin = history.origin
    assert origin.log()[:2] == [
        f"ci: update image to sha-{history.s2[:7]}",
        "docs: explain the deploy",
    ]
    assert origin.log("%P")[0] == rival_commit  # our commit sits on theirs: history is linear
    assert _image_on_remote(origin) == image
    assert origin.show("README.md") == "# argo-python"


def test_deploy_of_an_older_commit_lands_on_top_of_newer_unbumped_commits(
    history: History,
) -> None:
    """A queued deploy of s1 runs while main is already at s2 (whose own deploy waits): the
    push is rejected as non-fast-forward, and the bump is rebased onto s2 and pushed."""
    ci = history.origin.clone("ci", at=history.s1)
    result = run_cli("publish", ci.manifest, image_of(history.s1), cwd=ci.path)
    assert result.returncode == 0, result.stderr
    assert "(non-fast-forward)" in result.stderr
    assert history.origin.log("%P")[0] == history.s2
    assert _image_on_remote(history.origin) == image_of(history.s1)


def test_rival_pushing_the_same_image_leaves_nothing_to_publish(history: History) -> None:
    ci = history.origin.clone("ci", at=history.s2)
    image = image_of(history.s2)
    rival = _rival_bump(history, "rival", image)
    ci.race_before_push(rival)
    result = run_cli("publish", ci.manifest, image, cwd=ci.path)
    assert (result.returncode, result.stdout) == (0, "unchanged\n"), result.stderr
    assert history.origin.tip() == rival.git("rev-parse", "HEAD")


@dataclass(frozen=True)
class Conflict:
    """Our bump and a rival bump of the same line meet in a rebase: our build comes from commit
    `ours_from`, the rival pushed `theirs` first. Exit 0 means ours must end on the remote;
    exit 4 means theirs stays and stderr says `reason`."""

    ours_from: str
    theirs: Callable[[History], str]
    exit_code: int
    reason: str = ""


CONFLICTS = [
    pytest.param(Conflict("s2", lambda h: image_of(h.s1), 0), id="ours-is-newer-ours-wins"),
    pytest.param(
        Conflict("s1", lambda h: image_of(h.s2), 4, "built from a newer commit than"),
        id="theirs-is-newer-stop",
    ),
    pytest.param(
        Conflict(
            "s2",
            lambda h: image_of(h.s2, digest_hex="b"),
            4,
            "already deploys a build of the same commit",
        ),
        id="same-commit-rebuilt-stop",
    ),
    pytest.param(
        Conflict("s2", lambda h: image_of(h.side), 4, "come from diverged histories"),
        id="theirs-from-a-side-branch-stop",
    ),
    pytest.param(
        Conflict("s2", lambda h: f"{REGISTRY}:v1.2.3", 4, "its tag names no sha-<commit>"),
        id="theirs-has-a-release-tag-stop",
    ),
    pytest.param(
        Conflict(
            "s2",
            lambda h: f"{REGISTRY}:sha-fedcba9",
            4,
            "commit fedcba9 of sha-fedcba9 is not in this clone",
        ),
        id="theirs-names-an-unknown-commit-stop",
    ),
]


@pytest.mark.parametrize("case", CONFLICTS)
def test_conflicting_bump_goes_to_the_build_of_the_newer_commit(
    history: History, case: Conflict
) -> None:
    source = getattr(history, case.ours_from)
    ours_image, theirs_image = image_of(source), case.theirs(history)
    ci = history.origin.clone("ci", at=source)
    rival = _rival_bump(history, "rival", theirs_image)
    ci.race_before_push(rival)

    result = run_cli("publish", ci.manifest, ours_image, cwd=ci.path)

    assert result.returncode == case.exit_code, result.stderr
    origin = history.origin
    if case.exit_code == 0:
        assert _image_on_remote(origin) == ours_image
        subjects = origin.log()
        assert subjects[0] == f"ci: update image to sha-{source[:7]}"
        assert subjects[1] == f"ci: update image to {parse_image_ref(theirs_image).label}"
        assert origin.log("%P")[0] == rival.git("rev-parse", "HEAD")
    else:
        assert _image_on_remote(origin) == theirs_image
        assert origin.tip() == rival.git("rev-parse", "HEAD")
        assert result.stdout == ""
        assert result.stderr.splitlines()[-1].startswith("argo-gitops: not pushed: ")
        assert case.reason in result.stderr
        # Stopped cleanly: no rebase left half done in the checkout.
        assert not (ci.path / ".git" / "rebase-merge").exists()


def test_our_newer_build_keeps_the_rivals_other_change_to_the_same_lines(history: History) -> None:
    """The rival changed the line next to the image (a textual conflict) but deploys an older
    commit: ours wins, and the result is their file with our image, not our stale copy."""
    ci = history.origin.clone("ci", at=history.s2)
    rival = history.origin.clone("rival")
    rival_text = deployment(image_of(history.s1)).replace("IfNotPresent", "Always")
    rival.commit("ci: update image and pull policy", {MANIFEST: rival_text})
    ci.race_before_push(rival)
    ours = image_of(history.s2)

    result = run_cli("publish", ci.manifest, ours, cwd=ci.path)

    assert result.returncode == 0, result.stderr
    assert history.origin.show(MANIFEST) == rival_text.replace(image_of(history.s1), ours).rstrip()


def test_rival_with_our_image_and_another_change_to_the_same_lines_leaves_nothing_to_publish(
    history: History,
) -> None:
    """The textual conflict resolves to their file as it is: our commit is dropped, not pushed
    empty, and their other change stays."""
    ci = history.origin.clone("ci", at=history.s2)
    rival = history.origin.clone("rival")
    ours = image_of(history.s2)
    rival_text = deployment(ours).replace("IfNotPresent", "Always")
    rival.commit("ci: update image and pull policy", {MANIFEST: rival_text})
    ci.race_before_push(rival)

    result = run_cli("publish", ci.manifest, ours, cwd=ci.path)

    assert (result.returncode, result.stdout) == (0, "unchanged\n"), result.stderr
    assert history.origin.tip() == rival.git("rev-parse", "HEAD")
    assert history.origin.show(MANIFEST) == rival_text.rstrip()


def test_build_of_a_commit_not_on_the_branch_never_wins(history: History) -> None:
    ci = history.origin.clone("ci", at=history.s2)
    local = ci.commit("not pushed yet", {"wip.py": "pass\n"})
    rival = _rival_bump(history, "rival", image_of(history.s1))
    ci.race_before_push(rival)
    result = run_cli("publish", ci.manifest, image_of(local), cwd=ci.path)
    assert result.returncode == 4, result.stderr
    assert "was not built from a commit of the branch" in result.stderr
    assert history.origin.tip() == rival.git("rev-parse", "HEAD")


def test_push_still_rejected_after_the_retries_gives_up_with_exit_3(history: History) -> None:
    ci = history.origin.clone("ci", at=history.s2)
    rival = history.origin.clone("rival")
    races = ci.race_before_push(rival, every_time=True)
    result = run_cli("publish", ci.manifest, image_of(history.s2), "--retries", "2", cwd=ci.path)
    assert result.returncode == 3
    assert result.stderr.splitlines()[-1].startswith(
        "argo-gitops: push to origin/main still rejected after 2 retries ("
    )
    assert races.read_text().count("raced") == 3  # the first push and two retries
    assert _image_on_remote(history.origin) == FIRST


def test_push_refused_for_another_reason_is_not_retried(history: History) -> None:
    hook = history.origin.bare / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'main is protected' >&2\nexit 1\n")
    hook.chmod(0o755)
    ci = history.origin.clone("ci", at=history.s2)
    result = run_cli("publish", ci.manifest, image_of(history.s2), cwd=ci.path)
    assert result.returncode == 3
    assert result.stderr == (
        "argo-gitops: push to origin/main failed: [remote rejected] (pre-receive hook declined)\n"
    )


def test_conflict_outside_the_manifest_aborts_the_rebase_with_exit_3(history: History) -> None:
    ci = history.origin.clone("ci", at=history.s2)
    ci.commit("local edit", {"app.py": "print('local')\n"})
    rival = history.origin.clone("rival")
    rival.commit("remote edit", {"app.py": "print('remote')\n"})
    ci.race_before_push(rival)
    result = run_cli("publish", ci.manifest, image_of(history.s2), cwd=ci.path)
    assert result.returncode == 3
    assert "conflicts in app.py; resolve it by hand" in result.stderr
    assert not (ci.path / ".git" / "rebase-merge").exists()
    assert history.origin.tip() == rival.git("rev-parse", "HEAD")


@pytest.mark.parametrize(
    ("prepare", "args", "exit_code", "message"),
    [
        pytest.param(
            lambda ci: (ci.manifest).write_text(deployment(FIRST) + "# edited\n"),
            [],
            3,
            f"{MANIFEST} has uncommitted changes",
            id="dirty-manifest",
        ),
        pytest.param(
            lambda ci: None,
            ["--remote", "nowhere"],
            3,
            "push to nowhere/main failed: 'nowhere' does not appear to be a git repository",
            id="unknown-remote",
        ),
        pytest.param(
            lambda ci: None,
            ["--branch", "bad..name"],
            2,
            "'bad..name' is not a valid branch",
            id="invalid-branch",
        ),
        pytest.param(
            lambda ci: None,
            ["--retries", "many"],
            2,
            "expected a whole number",
            id="retries-not-a-number",
        ),
    ],
)
def test_publish_refuses_bad_state_or_arguments_without_pushing(
    history: History,
    prepare: Callable[[Clone], object],
    args: list[str],
    exit_code: int,
    message: str,
) -> None:
    ci = history.origin.clone("ci", at=history.s2)
    prepare(ci)
    before = history.origin.tip()
    result = run_cli("publish", ci.manifest, image_of(history.s2), *args, cwd=ci.path)
    assert result.returncode == exit_code
    assert result.stderr.count("\n") == 1
    assert message in result.stderr
    assert history.origin.tip() == before


def test_publish_with_a_malformed_image_commits_nothing(history: History) -> None:
    ci = history.origin.clone("ci", at=history.s2)
    result = run_cli("publish", ci.manifest, "ghcr.io/acme/argo-python", cwd=ci.path)
    assert result.returncode == 2
    assert ci.git("rev-parse", "HEAD") == history.s2
    assert ci.git("status", "--porcelain") == ""


def test_publish_outside_a_git_repository_exits_3(tmp_path: Path) -> None:
    manifest = tmp_path / "deployment.yaml"
    manifest.write_text(deployment(FIRST))
    result = run_cli("publish", manifest, image_of("1234567"))
    assert result.returncode == 3
    assert result.stderr == f"argo-gitops: {manifest} is not inside a git work tree\n"


def git_numstat(origin: Origin, commit: str) -> str:
    return git(origin.bare, "show", "--numstat", "--format=", commit)
