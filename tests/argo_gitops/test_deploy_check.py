"""`set-image` and `publish` on copies of this repository refuse, before writing, an image the
deploy tests would reject in k8s/deployment.yaml, and accept what deploy.yml really hands them:
in this repository as it is and in a fork with another owner and name."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tests.deploy.forks import (
    ARGO_GITOPS,
    argo_gitops,
    assert_green,
    copy_repository,
    fork,
    git,
    link_environments,
    run_suite,
)
from tests.deploy.test_fork import WEATHER_ARGS
from tests.workflows.workflow_files import load as load_workflow
from tests.workflows.workflow_files import step

from argo_gitops.identity import Identity, load

MANIFEST = "k8s/deployment.yaml"
DIGEST = "sha256:" + "ab" * 32
# The deploy tests that read the image, as the next push's test job runs them.
IMAGE_CHECK = ("tests/deploy/test_k8s_manifests.py", "-k", "image")
BUMP_STEP = "Commit and push the new image"

Reference = Callable[[Identity], str]


def _ci(tag: str = "sha-1a2b3c4", digest: str = DIGEST) -> Reference:
    return lambda identity: f"{identity.image}:{tag}@{digest}"


ACCEPTED: list[tuple[str, Reference]] = [
    ("placeholder", lambda identity: identity.placeholder_image),
    ("pinned-by-ci", _ci()),
]
# (id, reference, what the one-line error names): refused in every fork.
REFUSED: list[tuple[str, Reference, str]] = [
    ("latest", lambda identity: f"{identity.image}:latest", "tag 'latest' is not sha-<7 hex"),
    ("tag-without-digest", lambda i: f"{i.image}:sha-1a2b3c4", "has no @sha256: digest"),
    ("digest-without-tag", lambda i: f"{i.image}@{DIGEST}", "has no tag"),
    ("six-hex-sha", _ci(tag="sha-1a2b3c"), "tag 'sha-1a2b3c' is not sha-<7 hex"),
    ("full-sha", _ci(tag="sha-" + "1a2b3c4d" * 5), "is not sha-<7 hex"),
    ("sha512-digest", _ci(digest="sha512:" + "ab" * 64), "digest is not a sha256 one"),
    (
        "other-registry",
        lambda i: _ci()(i).replace("ghcr.io/", "docker.io/", 1),
        "must be ghcr.io/<owner>/<repository>",
    ),
    (
        "nested-path",
        lambda i: _ci()(i).replace(i.image, f"{i.image}/extra", 1),
        "must be ghcr.io/<owner>/<repository>",
    ),
    ("upper-case", lambda i: _ci()(i).upper(), "malformed image reference"),
    ("bare-name", lambda identity: identity.image, "needs a tag or a digest"),
]
# Refused once fork.toml names an owner; until then CI may push any repository's package.
NOT_THE_FORKS: list[tuple[str, Reference]] = [
    ("other-owner", lambda i: f"ghcr.io/someone-else/{i.repository.lower()}:sha-1a2b3c4@{DIGEST}"),
    ("other-repository", lambda i: f"ghcr.io/{i.owner.lower()}/other-service:sha-1a2b3c4@{DIGEST}"),
]
FORKS = ["this-repository", "weather-fork"]
# The copy named this-repository has this repository's identity.
THIS = load(Path(__file__).resolve().parents[2])


@pytest.fixture(scope="module")
def forks(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """This repository as it is, and a fork of it with another owner, name and NodePort."""
    base = tmp_path_factory.mktemp("forks")
    weather = copy_repository(base / "weather-fork")
    fork(weather, *WEATHER_ARGS)
    git(weather, "commit", "-q", "-am", "make fork")
    return {"this-repository": copy_repository(base / "this-repository"), "weather-fork": weather}


def _refusal_cases() -> list[object]:
    cases = [
        pytest.param(name, build, message, id=f"{name}-{case}")
        for name in FORKS
        for case, build, message in REFUSED
    ]
    cases += [
        pytest.param(name, build, "is not this fork's package", id=f"{name}-{case}")
        for name in FORKS
        if name == "weather-fork" or THIS.forked
        for case, build in NOT_THE_FORKS
    ]
    return cases


@pytest.mark.parametrize(("name", "build", "message"), _refusal_cases())
def test_set_image_refuses_what_the_deploy_check_rejects_and_changes_nothing(
    forks: dict[str, Path], name: str, build: Reference, message: str
) -> None:
    root = forks[name]
    image = build(load(root))
    manifest = root / MANIFEST
    before, stat = manifest.read_bytes(), manifest.stat()

    result = argo_gitops(root, "set-image", MANIFEST, image)

    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("argo-gitops: ")
    assert (image in result.stderr, message in result.stderr) == (True, True)
    assert (manifest.read_bytes(), manifest.stat().st_mtime_ns) == (before, stat.st_mtime_ns)


def _acceptance_cases() -> list[object]:
    cases = [
        pytest.param(name, build, id=f"{name}-{case}") for name in FORKS for case, build in ACCEPTED
    ]
    # Until this repository is forked it stands for a fork on GitHub that never ran make fork.
    cases += [
        pytest.param("this-repository", build, id=f"this-repository-unforked-{case}")
        for case, build in NOT_THE_FORKS
        if not THIS.forked
    ]
    return cases


@pytest.mark.parametrize(("name", "build"), _acceptance_cases())
def test_what_set_image_accepts_passes_the_deploy_check(
    forks: dict[str, Path], name: str, build: Reference
) -> None:
    root = forks[name]
    image = build(load(root))
    try:
        result = argo_gitops(root, "set-image", MANIFEST, image)
        assert result.returncode == 0, result.stderr
        assert f"image: {image}\n" in (root / MANIFEST).read_text()
        assert_green(run_suite(root, *IMAGE_CHECK))
    finally:
        git(root, "checkout", "--", MANIFEST)


def test_a_manifest_of_no_fork_takes_any_valid_reference(tmp_path: Path) -> None:
    # Not a copy of this repository (no fork.toml above it): only the grammar applies.
    source = Path(__file__).resolve().parents[2] / MANIFEST
    manifest = tmp_path / "deployment.yaml"
    manifest.write_text(source.read_text())
    result = argo_gitops(tmp_path, "set-image", str(manifest), "registry.example:5000/app:1.2")
    assert (result.returncode, result.stdout, result.stderr) == (0, "updated\n", "")


def _ci_checkout(root: Path, tmp_path: Path) -> tuple[Path, Path]:
    """A bare remote of `root` and a fresh clone of it with the virtual environments, as
    actions/checkout leaves the bump job's work tree."""
    remote = tmp_path / "remote.git"
    git(tmp_path, "clone", "-q", "--bare", str(root), str(remote))
    ci = tmp_path / "ci"
    git(tmp_path, "clone", "-q", str(remote), str(ci))
    link_environments(ci)
    return remote, ci


def test_publish_refuses_another_forks_image_and_pushes_nothing(
    forks: dict[str, Path], tmp_path: Path
) -> None:
    remote, ci = _ci_checkout(forks["weather-fork"], tmp_path)
    tip = git(remote, "rev-parse", "main")
    image = dict(NOT_THE_FORKS)["other-owner"](load(ci))

    result = argo_gitops(ci, "publish", MANIFEST, image)

    assert (result.returncode, result.stderr.count("\n")) == (2, 1)
    assert "is not this fork's package" in result.stderr
    assert (git(remote, "rev-parse", "main"), git(ci, "rev-parse", "HEAD")) == (tip, tip)
    assert git(ci, "status", "--porcelain", "--untracked-files=no") == ""


_EXPRESSION = re.compile(r"\$\{\{\s*([\w.-]+)\s*\}\}")


def _bump_step() -> dict[str, Any]:
    bump: dict[str, Any] = step(load_workflow("deploy.yml")["jobs"]["bump"], name=BUMP_STEP)
    return bump


def _github_repository(identity: Identity) -> str:
    """`github.repository` of the fork on GitHub, in another case than fork.toml writes it
    (GitHub names are case-insensitive); before make fork, some other repository."""
    if not identity.forked:
        return "Someone-Else/Argo-Python-Fork"
    return f"{identity.owner.upper()}/{identity.repository.title()}"


def _deploy_image_ref(identity: Identity, head: str, tmp_path: Path) -> str:
    """IMAGE_REF as deploy.yml builds it: its image step run with bash, then the bump step's
    expression over the build job's outputs (the digest being the one the push reports)."""
    workflow = load_workflow("deploy.yml")
    build_job = workflow["jobs"]["build"]
    image_step = step(build_job, name="Image name and tag")
    output = tmp_path / "github_output"
    context = {"github.repository": _github_repository(identity)}
    env = {
        key: _EXPRESSION.sub(lambda match: context[match[1]], value)
        for key, value in image_step["env"].items()
    }
    script = subprocess.run(
        ["bash", "--noprofile", "--norc", "-e", "-o", "pipefail", "-c", image_step["run"]],
        env={"PATH": os.environ["PATH"], **env, "GITHUB_SHA": head, "GITHUB_OUTPUT": str(output)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert script.returncode == 0, script.stderr
    steps = {
        f"steps.{image_step['id']}.outputs.{key}": value
        for key, value in (line.split("=", 1) for line in output.read_text().splitlines())
    }
    pushed = step(build_job, uses="docker/build-push-action")
    steps[f"steps.{pushed['id']}.outputs.digest"] = DIGEST
    needs = {
        f"needs.build.outputs.{key}": _EXPRESSION.sub(lambda match: steps[match[1]], value)
        for key, value in build_job["outputs"].items()
    }
    return _EXPRESSION.sub(lambda match: needs[match[1]], _bump_step()["env"]["IMAGE_REF"])


@pytest.mark.parametrize("name", FORKS)
def test_the_bump_job_publishes_the_reference_deploy_yml_builds(
    forks: dict[str, Path], tmp_path: Path, name: str
) -> None:
    remote, ci = _ci_checkout(forks[name], tmp_path)
    image = _deploy_image_ref(load(ci), git(ci, "rev-parse", "HEAD"), tmp_path)
    program, *args = [
        image if arg == "$IMAGE_REF" else arg for arg in shlex.split(_bump_step()["run"])
    ]
    # The step's own program: the checkout's venv, as `uv sync` leaves it in the job.
    assert (ci / program).resolve() == ARGO_GITOPS.resolve()

    result = argo_gitops(ci, *args)

    assert result.returncode == 0, result.stderr
    deployed = tmp_path / "after-bump"
    git(tmp_path, "clone", "-q", str(remote), str(deployed))
    link_environments(deployed)
    assert f"image: {image}\n" in (deployed / MANIFEST).read_text()
    assert_green(run_suite(deployed, *IMAGE_CHECK))
