"""The workflows, read as YAML, keep the pipeline's contract: what triggers them, the order of the
jobs, least-privilege permissions per job, how the image is named and tagged, that the bump goes
through `argo-gitops publish`, and which files the review looks at."""

from __future__ import annotations

import re
import shlex
import tomllib
from pathlib import Path
from typing import Any

import pytest
from tests.workflows.workflow_files import ROOT, load, step, step_index, workflow_paths

from argo_gitops.cli import build_parser

REVIEWED_EXTENSIONS = [
    ".rs",
    ".go",
    ".js",
    ".ts",
    ".py",
    ".java",
    ".cpp",
    ".c",
    ".cs",
    ".rb",
    ".php",
]
PINNED_USES = re.compile(r"^[\w.-]+/[\w.-]+(/[\w./-]+)?@[0-9a-f]{40}$")
USES_LINE = re.compile(r"^\s*(?:-\s+)?uses:\s*(\S+)[ \t]*(?:#[ \t]*(\S*))?", re.MULTILINE)
VERSION_COMMENT = re.compile(r"^v\d+\.\d+\.\d+$")


def _needs(job: dict[str, Any]) -> list[str]:
    needs = job.get("needs", [])
    return [needs] if isinstance(needs, str) else list(needs)


def _uv_version() -> str:
    text = (ROOT / "tools" / "bootstrap_uv.py").read_text()
    match = re.search(r'^UV_VERSION = "([^"]+)"', text, re.MULTILINE)
    assert match is not None
    return match.group(1)


def _python_version() -> str:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return str(project["project"]["requires-python"]).removeprefix(">=")


@pytest.fixture(scope="module")
def ci() -> dict[str, Any]:
    return load("ci.yml")


@pytest.fixture(scope="module")
def deploy() -> dict[str, Any]:
    return load("deploy.yml")


@pytest.fixture(scope="module")
def review() -> dict[str, Any]:
    return load("codex-review.yml")


# --- ci.yml ---------------------------------------------------------------------------------


def test_ci_runs_on_pull_requests_pushes_and_as_the_deploy_gate(ci: dict[str, Any]) -> None:
    assert set(ci["on"]) == {"pull_request", "push", "workflow_call"}
    # main is tested by deploy.yml calling this workflow, not a second time.
    assert ci["on"]["push"] == {"branches-ignore": ["main"]}


def test_ci_runs_make_test_with_the_locked_toolchain_and_a_cache(ci: dict[str, Any]) -> None:
    job = ci["jobs"]["test"]
    assert job["runs-on"] == "ubuntu-latest"
    assert job["permissions"] == {"contents": "read"}
    assert step(job, name="make test")["run"] == "make test"
    assert step(job, uses="actions/setup-python")["with"] == {"python-version": _python_version()}
    uv = step(job, uses="astral-sh/setup-uv")["with"]
    # The same uv as the Makefile's bootstrap, its cache keyed on the lock file.
    assert uv == {
        "version": _uv_version(),
        "enable-cache": True,
        "cache-dependency-glob": "uv.lock",
    }


@pytest.mark.parametrize("path", workflow_paths(), ids=lambda path: path.name)
def test_every_workflow_sets_up_the_makefiles_uv_and_the_projects_python(path: Path) -> None:
    pins = {
        "astral-sh/setup-uv": ("version", _uv_version()),
        "actions/setup-python": ("python-version", _python_version()),
    }
    steps = [s for job in load(path.name)["jobs"].values() for s in job.get("steps", [])]
    found = [
        (action, s["with"][key], wanted)
        for s in steps
        for action, (key, wanted) in pins.items()
        if str(s.get("uses", "")).split("@")[0] == action
    ]
    assert [(action, got) for action, got, wanted in found if got != wanted] == []


def test_ci_installs_opentofu_before_make_test(ci: dict[str, Any]) -> None:
    # tests/deploy runs tofu (or terraform); GitHub's runner images ship neither, and with
    # CI=true the tests' skip would fail the run.
    job = ci["jobs"]["test"]
    tofu = step(job, uses="opentofu/setup-opentofu")
    assert step_index(job, tofu) < step_index(job, step(job, name="make test"))
    assert tofu["with"]["tofu_wrapper"] is False  # plain stdout for the tests to parse


# --- deploy.yml -----------------------------------------------------------------------------


def test_deploy_runs_on_push_to_main_except_manifest_only_pushes_and_by_hand(
    deploy: dict[str, Any],
) -> None:
    assert deploy["on"] == {
        "push": {"branches": ["main"], "paths-ignore": ["k8s/**"]},
        "workflow_dispatch": None,
    }


def test_a_run_by_hand_builds_and_deploys_only_the_branch_the_bump_publishes_to(
    deploy: dict[str, Any],
) -> None:
    (branch,) = deploy["on"]["push"]["branches"]
    assert deploy["jobs"]["build"]["if"] == f"github.ref == 'refs/heads/{branch}'"
    # The bump needs the build, so a skipped build skips it too.
    assert _needs(deploy["jobs"]["bump"]) == ["build"]


def test_deploys_queue_instead_of_racing(deploy: dict[str, Any]) -> None:
    assert "deploy" in deploy["concurrency"]["group"]
    assert deploy["concurrency"]["cancel-in-progress"] is False


def test_tests_gate_the_build_and_the_build_gates_the_bump(deploy: dict[str, Any]) -> None:
    jobs = deploy["jobs"]
    assert list(jobs) == ["test", "build", "bump"]
    assert jobs["test"]["uses"] == "$/.github/workflows/ci.yml"
    assert _needs(jobs["test"]) == []
    assert _needs(jobs["build"]) == ["test"]
    assert _needs(jobs["bump"]) == ["build"]


def test_deploy_permissions_are_least_privilege_per_job(deploy: dict[str, Any]) -> None:
    jobs = deploy["jobs"]
    assert deploy["permissions"] == {}
    assert jobs["test"]["permissions"] == {"contents": "read"}
    assert jobs["build"]["permissions"] == {"contents": "read", "packages": "write"}
    assert jobs["bump"]["permissions"] == {"contents": "write"}


def test_image_name_is_the_lower_cased_repository_on_ghcr_and_tag_is_sha7(
    deploy: dict[str, Any],
) -> None:
    image = step(deploy["jobs"]["build"], name="Image name and tag")
    assert image["env"] == {"REPOSITORY": "${{ github.repository }}"}
    assert 'echo "name=ghcr.io/${REPOSITORY,,}" >> "$GITHUB_OUTPUT"' in image["run"]
    assert 'echo "tag=sha-${GITHUB_SHA::7}" >> "$GITHUB_OUTPUT"' in image["run"]


def test_build_pushes_a_multi_arch_image_with_cache_provenance_and_sbom(
    deploy: dict[str, Any],
) -> None:
    job = deploy["jobs"]["build"]
    build = step(job, uses="docker/build-push-action")
    assert build["with"]["platforms"] == "linux/amd64,linux/arm64"
    assert build["with"]["push"] is True
    assert build["with"]["cache-from"] == "type=gha"
    assert build["with"]["cache-to"] == "type=gha,mode=max"
    assert build["with"]["provenance"] == "mode=max"
    assert build["with"]["sbom"] is True
    meta = step(job, uses="docker/metadata-action")
    assert meta["with"]["images"] == "${{ steps.image.outputs.name }}"
    assert meta["with"]["tags"] == "type=raw,value=${{ steps.image.outputs.tag }}"
    assert build["with"]["tags"] == "${{ steps.meta.outputs.tags }}"
    login = step(job, uses="docker/login-action")["with"]
    assert login == {
        "registry": "ghcr.io",
        "username": "${{ github.actor }}",
        "password": "${{ secrets.GITHUB_TOKEN }}",
    }
    order = [
        step_index(job, step(job, uses=action))
        for action in (
            "actions/checkout",
            "docker/metadata-action",
            "docker/setup-qemu-action",
            "docker/setup-buildx-action",
            "docker/login-action",
            "docker/build-push-action",
        )
    ]
    assert order == sorted(order)
    assert job["outputs"] == {
        "image": "${{ steps.image.outputs.name }}",
        "tag": "${{ steps.image.outputs.tag }}",
        "digest": "${{ steps.build.outputs.digest }}",
    }


def test_bump_publishes_the_pushed_tag_and_digest_with_argo_gitops(deploy: dict[str, Any]) -> None:
    job = deploy["jobs"]["bump"]
    checkout = step(job, uses="actions/checkout")["with"]
    assert checkout == {"fetch-depth": 0, "persist-credentials": True}
    install = step(job, name="Install argo-gitops")["run"]
    assert install == "uv sync --locked --extra gitops --no-default-groups"
    publish = step(job, name="Commit and push the new image")
    assert publish["env"] == {
        "IMAGE_REF": "${{ needs.build.outputs.image }}:${{ needs.build.outputs.tag }}"
        "@${{ needs.build.outputs.digest }}"
    }
    argv = shlex.split(publish["run"])
    assert argv[:4] == [".venv/bin/argo-gitops", "publish", "k8s/deployment.yaml", "$IMAGE_REF"]
    # The command line is one the CLI accepts, and it pushes where deploy.yml runs from.
    args = build_parser().parse_args(argv[1:])
    assert (args.command, args.remote, args.branch) == ("publish", "origin", "main")
    assert deploy["on"]["push"]["branches"] == [args.branch]


# --- codex-review.yml -----------------------------------------------------------------------


def test_review_runs_on_pull_request_updates_against_the_main_branches(
    review: dict[str, Any],
) -> None:
    assert review["on"] == {
        "pull_request": {
            "types": ["opened", "synchronize", "reopened"],
            "branches": ["main", "master", "develop"],
        }
    }


def test_review_permissions_are_exactly_read_code_write_comment_checks_and_status(
    review: dict[str, Any],
) -> None:
    assert review["permissions"] == {}
    (job,) = review["jobs"].values()
    assert job["permissions"] == {
        "contents": "read",
        "pull-requests": "write",
        "checks": "write",
        "statuses": "write",
        "security-events": "write",
    }


def test_review_checks_out_the_pr_head_with_full_history(review: dict[str, Any]) -> None:
    (job,) = review["jobs"].values()
    assert step(job, uses="actions/checkout")["with"] == {
        "ref": "${{ github.event.pull_request.head.sha }}",
        "fetch-depth": 0,
        "persist-credentials": False,
    }


def test_review_diffs_only_the_reviewed_extensions_against_the_base(
    review: dict[str, Any],
) -> None:
    (job,) = review["jobs"].values()
    assert job["env"]["REVIEW_EXTENSIONS"].split() == REVIEWED_EXTENSIONS
    diff = step(job, name="Diff of the changed source files")
    assert diff["env"] == {
        "BASE_REF": "${{ github.base_ref }}",
        "HEAD_SHA": "${{ github.event.pull_request.head.sha }}",
    }
    assert 'range="origin/${BASE_REF}...${HEAD_SHA}"' in diff["run"]


def test_review_bot_comments_and_sets_the_status_itself(review: dict[str, Any]) -> None:
    (job,) = review["jobs"].values()
    assert "uv sync --locked --extra review" in step(job, name="Install the review bot")["run"]
    bot = step(job, name="Review, comment and set the codex-review status")
    assert bot["env"] == {"GITHUB_TOKEN": "${{ secrets.GITHUB_TOKEN }}"}
    argv = shlex.split(bot["run"])
    assert argv[1] == ".github/scripts/codex-review.py"
    assert argv[argv.index("--diff") + 1] == "pr_diff.txt"
    assert "--github" in argv
    # The bot posts the comment; a second poster would duplicate it.
    assert all("github-script" not in str(s.get("uses", "")) for s in job["steps"])


# --- every workflow -------------------------------------------------------------------------


@pytest.mark.parametrize("path", workflow_paths(), ids=lambda path: path.name)
def test_no_expression_is_spliced_into_a_run_script(path: Any) -> None:
    for job in load(path.name)["jobs"].values():
        for s in job.get("steps", []):
            assert "${{" not in s.get("run", ""), f"{path.name}: pass it through env: {s}"


@pytest.mark.parametrize("path", workflow_paths(), ids=lambda path: path.name)
def test_every_job_declares_its_own_permissions_under_an_empty_default(path: Any) -> None:
    workflow = load(path.name)
    assert workflow["permissions"] == {}
    for name, job in workflow["jobs"].items():
        assert "permissions" in job, f"{path.name}: job {name} has no permissions"
        assert "write-all" not in str(job["permissions"])
        if "steps" in job:
            assert "timeout-minutes" in job, f"{path.name}: job {name} has no timeout"


@pytest.mark.parametrize("path", workflow_paths(), ids=lambda path: path.name)
def test_checkout_keeps_no_credentials_unless_the_job_pushes(path: Any) -> None:
    for name, job in load(path.name)["jobs"].items():
        pushes = job.get("permissions", {}).get("contents") == "write"
        for s in job.get("steps", []):
            if str(s.get("uses", "")).startswith("actions/checkout@"):
                assert s["with"]["persist-credentials"] is pushes, f"{path.name}: job {name}"


@pytest.mark.parametrize("path", workflow_paths(), ids=lambda path: path.name)
def test_actions_are_pinned_to_a_commit_with_the_version_in_a_comment(path: Any) -> None:
    uses = USES_LINE.findall(path.read_text())
    assert uses
    for reference, comment in uses:
        if reference.startswith(("$/", "./")):
            continue  # this repository, at the commit being run
        assert PINNED_USES.match(reference), f"{path.name}: {reference}"
        assert VERSION_COMMENT.match(comment), f"{path.name}: {reference} # {comment}"


def test_each_action_is_pinned_to_one_commit_across_workflows() -> None:
    pins: dict[str, set[str]] = {}
    for path in workflow_paths():
        for match in re.finditer(r"uses: ([\w.-]+/[\w./-]+)@([0-9a-f]{40})", path.read_text()):
            pins.setdefault(match.group(1), set()).add(match.group(2))
    assert pins
    assert {action: shas for action, shas in pins.items() if len(shas) > 1} == {}
