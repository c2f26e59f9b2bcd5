"""infra/setup.sh, run for real against a stand-in `microk8s` (no cluster exists here).

The stand-in records each call (arguments and standard input) and succeeds, except for the
calls a test tells it to fail; everything else (bash, sed, base64, git) is the real thing, run
on a copy of the repository.
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from .support import (
    ARGOCD_DIR,
    INFRA_DIR,
    K8S_DIR,
    KUBERNETES_VERSIONS,
    ROOT,
    argocd_schema_errors,
)

SHELLCHECK = ROOT / ".venv" / "bin" / "shellcheck"
RELEASED_IMAGE = "ghcr.io/someone/argo-python:sha-1a2b3c4@sha256:" + "ab" * 32
STAND_IN = """#!{python}
import json, os, sys
args = sys.argv[1:]
stdin = sys.stdin.read()
with open(os.environ["STAND_IN_LOG"], "a") as log:
    log.write(json.dumps({{"args": args, "stdin": stdin}}) + "\\n")
if args[:2] == ["kubectl", "create"]:
    print("kind: Secret  # as rendered by kubectl --dry-run")
failing = os.environ.get("STAND_IN_FAIL")
sys.exit(1 if failing and " ".join(args).startswith(failing) else 0)
"""


@dataclass
class Run:
    returncode: int
    stderr: str
    calls: list[dict[str, Any]]

    def call(self, *prefix: str) -> dict[str, Any]:
        (found,) = [c for c in self.calls if c["args"][: len(prefix)] == list(prefix)]
        return found


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A copy of what the script reads, as a git clone of a fork."""
    root = tmp_path / "repo"
    for directory in (INFRA_DIR, K8S_DIR, ARGOCD_DIR):
        shutil.copytree(directory, root / directory.name)
    deployment = root / "k8s" / "deployment.yaml"
    text = deployment.read_text()
    placeholder = yaml.safe_load(text)["spec"]["template"]["spec"]["containers"][0]["image"]
    deployment.write_text(text.replace(placeholder, RELEASED_IMAGE))
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    subprocess.run(
        [
            "git",
            "-C",
            str(root),
            "remote",
            "add",
            "origin",
            "git@github.com:Someone/argo-python.git",
        ],
        check=True,
    )
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    stand_in = bin_dir / "microk8s"
    stand_in.write_text(STAND_IN.format(python=sys.executable))
    stand_in.chmod(0o755)
    return root


def run(repo: Path, *args: str, fail: str = "", **env: str) -> Run:
    log = repo.parent / "calls.jsonl"
    log.unlink(missing_ok=True)
    log.touch()
    path = f"{repo.parent / 'bin'}:/usr/bin:/bin"
    result = subprocess.run(
        ["bash", str(repo / "infra" / "setup.sh"), *args],
        env={"PATH": path, "STAND_IN_LOG": str(log), "STAND_IN_FAIL": fail, **env},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    calls = [json.loads(line) for line in log.read_text().splitlines()]
    return Run(result.returncode, result.stderr, calls)


def test_script_passes_shellcheck() -> None:
    result = subprocess.run(
        [str(SHELLCHECK), str(INFRA_DIR / "setup.sh")], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout


@pytest.mark.parametrize(
    ("env", "pool", "vip"),
    [
        ({}, "192.168.1.200-192.168.1.210", "192.168.1.200"),
        ({"METALLB_RANGE": "10.0.0.0/24", "INGRESS_VIP": "10.0.0.7"}, "10.0.0.0/24", "10.0.0.7"),
    ],
    ids=["seed-defaults", "own-network"],
)
def test_gateway_enables_metallb_and_ingress_and_applies_the_lb_on_the_vip(
    repo: Path, env: dict[str, str], pool: str, vip: str
) -> None:
    result = run(repo, "gateway", **env)
    assert result.returncode == 0, result.stderr
    assert [c["args"] for c in result.calls] == [
        ["enable", f"metallb:{pool}"],
        ["enable", "ingress"],
        ["kubectl", "apply", "-f", "-"],
    ]
    service = yaml.safe_load(result.calls[2]["stdin"])
    assert service["metadata"]["annotations"] == {"metallb.universe.tf/loadBalancerIPs": vip}
    for version in KUBERNETES_VERSIONS:
        kubernetes_validate.validate(service, version, strict=True)


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["gateway"], {"INGRESS_VIP": "192.168.1"}, "INGRESS_VIP=192.168.1 is not an IPv4 address"),
        (["gateway"], {"METALLB_RANGE": "192.168.1.200"}, "METALLB_RANGE=192.168.1.200 is not"),
        (["pull-secret"], {"GHCR_USER": "someone"}, "pull-secret needs GHCR_USER and GHCR_TOKEN"),
        (
            ["pull-secret"],
            {"GHCR_USER": "u", "GHCR_TOKEN": "t", "NAMESPACE": "My_NS"},
            "NAMESPACE=My_NS is not a namespace name",
        ),
        (["argocd"], {"REPO_URL": "ftp://example.org/x"}, "is not an https URL"),
        (
            ["argocd"],
            {"REPO_URL": "https://github.com/your-github-user/argo-python.git"},
            "REPO_URL is the placeholder",
        ),
        (["deploy"], {}, "usage: infra/setup.sh [gateway|pull-secret|argocd|all]"),
    ],
    ids=[
        "bad-vip",
        "bad-range",
        "no-token",
        "bad-namespace",
        "not-https",
        "placeholder-repo",
        "unknown-step",
    ],
)
def test_bad_setting_exits_2_with_one_line_and_touches_nothing(
    repo: Path, args: list[str], env: dict[str, str], message: str
) -> None:
    result = run(repo, *args, **env)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert message in result.stderr
    assert result.calls == []


def test_pull_secret_is_built_from_stdin_without_the_token_on_a_command_line(repo: Path) -> None:
    token = "ghp_not-a-real-token-0123456789"  # noqa: S105 - a made-up value for the stand-in
    result = run(repo, "pull-secret", GHCR_USER="someone", GHCR_TOKEN=token)
    assert result.returncode == 0, result.stderr
    create = result.call("kubectl", "create")
    assert create["args"][2:] == [
        "secret",
        "generic",
        "ghcr-secret",
        "--namespace",
        "argo-python",
        "--type=kubernetes.io/dockerconfigjson",
        "--from-file=.dockerconfigjson=/dev/stdin",
        "--dry-run=client",
        "--output=yaml",
    ]
    auth = json.loads(create["stdin"])["auths"]["ghcr.io"]["auth"]
    assert base64.b64decode(auth).decode() == f"someone:{token}"
    assert result.calls[-1] == {
        "args": ["kubectl", "apply", "-f", "-"],
        "stdin": "kind: Secret  # as rendered by kubectl --dry-run\n",
    }
    assert not any(token in " ".join(call["args"]) for call in result.calls)


def test_pull_secret_goes_to_another_services_namespace_only_if_it_exists(repo: Path) -> None:
    env = {"GHCR_USER": "someone", "GHCR_TOKEN": "t0ken-value", "NAMESPACE": "my-service"}
    present = run(repo, "pull-secret", **env)
    assert present.returncode == 0, present.stderr
    assert "--namespace" in (args := present.call("kubectl", "create")["args"])
    assert args[args.index("--namespace") + 1] == "my-service"
    missing = run(repo, "pull-secret", fail="kubectl get namespace my-service", **env)
    assert missing.returncode == 2
    assert "namespace my-service does not exist; create it first (tofu apply)" in missing.stderr
    assert [c["args"][:2] for c in missing.calls] == [["kubectl", "get"]]


def test_pull_secret_creates_the_namespace_only_when_missing(repo: Path) -> None:
    env = {"GHCR_USER": "someone", "GHCR_TOKEN": "t0ken-value"}
    present = run(repo, "pull-secret", **env)
    missing = run(repo, "pull-secret", fail="kubectl get namespace argo-python", **env)
    namespace_apply = ["kubectl", "apply", "-f", "k8s/namespace.yaml"]
    assert namespace_apply not in [c["args"] for c in present.calls]
    assert namespace_apply in [c["args"] for c in missing.calls]


@pytest.mark.parametrize(
    ("env", "repo_url"),
    [
        ({}, "https://github.com/Someone/argo-python.git"),
        ({"REPO_URL": "https://github.com/other/fork"}, "https://github.com/other/fork.git"),
    ],
    ids=["from-origin", "from-setting"],
)
def test_argocd_applies_project_then_application_for_this_repository(
    repo: Path, env: dict[str, str], repo_url: str
) -> None:
    result = run(repo, "argocd", **env)
    assert result.returncode == 0, result.stderr
    applied = [yaml.safe_load(c["stdin"]) for c in result.calls if c["args"][1:2] == ["apply"]]
    assert [doc["kind"] for doc in applied] == ["AppProject", "Application"]
    project, application = applied
    assert project["spec"]["sourceRepos"] == [repo_url]
    assert application["spec"]["source"]["repoURL"] == repo_url
    assert argocd_schema_errors(project) == argocd_schema_errors(application) == []


def test_argocd_waits_for_the_first_ci_image(repo: Path) -> None:
    shutil.copy(K8S_DIR / "deployment.yaml", repo / "k8s" / "deployment.yaml")
    result = run(repo, "argocd")
    assert result.returncode == 2
    assert "still names the placeholder image: push to main first" in result.stderr
    assert result.calls == []


def test_argocd_needs_argocd_installed(repo: Path) -> None:
    result = run(repo, "argocd", fail="kubectl get namespace argocd")
    assert result.returncode == 2
    assert "ArgoCD is not installed" in result.stderr


def test_all_runs_every_step_and_skips_the_secret_without_a_token(repo: Path) -> None:
    result = run(repo, "all")
    assert result.returncode == 0, result.stderr
    assert "pull secret skipped" in result.stderr
    assert [c["args"][:2] for c in result.calls] == [
        ["enable", "metallb:192.168.1.200-192.168.1.210"],
        ["enable", "ingress"],
        ["kubectl", "apply"],
        ["kubectl", "get"],
        ["kubectl", "apply"],
        ["kubectl", "apply"],
    ]


def test_failing_cluster_command_stops_the_script_with_its_status(repo: Path) -> None:
    result = run(repo, "gateway", fail="enable ingress")
    assert result.returncode == 1
    assert [c["args"] for c in result.calls][-1] == ["enable", "ingress"]
