"""infra/setup.sh, run for real against a stand-in `microk8s` (no cluster exists here).

The stand-in records each call (arguments and standard input) and succeeds, except for the
calls a test tells it to fail; everything else (bash, sed, base64, git) is the real thing, run
on a copy of the repository. Names and addresses come from fork.toml, never from this file.
"""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from argo_gitops import fork
from argo_gitops.identity import IDENTITY_FILE, PLACEHOLDER_OWNER, load, with_changes
from argo_gitops.imageref import parse_image_ref
from argo_gitops.manifest import set_image

from .support import (
    ARGOCD_DIR,
    IDENTITY,
    INFRA_DIR,
    INGRESS_SETTINGS,
    K8S_DIR,
    KUBERNETES_VERSIONS,
    ROOT,
    argocd_schema_errors,
)

SHELLCHECK = ROOT / ".venv" / "bin" / "shellcheck"
# A GitHub account of the fork's owner, spelt with capitals as GitHub allows.
OWNER = "Someone"
ORIGIN = f"git@github.com:{OWNER}/{IDENTITY.repository}.git"
ORIGIN_HTTPS = f"https://github.com/{OWNER}/{IDENTITY.repository}.git"
RELEASED_IMAGE = f"ghcr.io/{OWNER.lower()}/{IDENTITY.repository.lower()}:sha-1a2b3c4@sha256:" + (
    "ab" * 32
)
# A GitHub token as ghcr.io and git remotes take it.
TOKEN = "ghp_not-a-real-token-0123456789"  # noqa: S105 - a made-up value for the stand-in
# Addresses of the documentation range (RFC 5737): nobody's LAN.
LAN = {"METALLB_RANGE": "192.0.2.200-192.0.2.210", "INGRESS_VIP": "192.0.2.200"}
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
    stdout: str
    stderr: str
    calls: list[dict[str, Any]]

    def call(self, *prefix: str) -> dict[str, Any]:
        (found,) = [c for c in self.calls if c["args"][: len(prefix)] == list(prefix)]
        return found


def write_image(root: Path, image: str) -> None:
    """Set the Deployment's image the way the deploy workflow's bump does."""
    deployment = root / "k8s" / "deployment.yaml"
    deployment.write_text(set_image(deployment.read_text(), parse_image_ref(image), None, "k8s"))


def deployed_fork(root: Path, origin: str = ORIGIN) -> Path:
    """A copy of what the script reads at `root`, forked to OWNER (fork.toml and the files
    `make fork` rewrites), as a git clone of that fork after CI deployed it."""
    for directory in (INFRA_DIR, K8S_DIR, ARGOCD_DIR):
        shutil.copytree(directory, root / directory.name)
    for name in (IDENTITY_FILE, fork.TFVARS, fork.SERVICE_CONFIG):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, root / name)
    fork.apply(fork.plan(root, with_changes(load(root), owner=OWNER)))
    write_image(root, RELEASED_IMAGE)
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    subprocess.run(["git", "-C", str(root), "remote", "add", "origin", origin], check=True)
    return root


def install_stand_in(bin_dir: Path) -> Path:
    """`bin_dir`/microk8s: the stand-in that logs each call to $STAND_IN_LOG; `bin_dir`."""
    bin_dir.mkdir(parents=True)
    stand_in = bin_dir / "microk8s"
    stand_in.write_text(STAND_IN.format(python=sys.executable))
    stand_in.chmod(0o755)
    return bin_dir


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    install_stand_in(tmp_path / "bin")
    return deployed_fork(tmp_path / "repo")


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
    return Run(result.returncode, result.stdout, result.stderr, calls)


def test_script_passes_shellcheck() -> None:
    result = subprocess.run(
        [str(SHELLCHECK), str(INFRA_DIR / "setup.sh")], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout


def test_help_prints_the_usage_and_exits_0(repo: Path) -> None:
    for flag in ("--help", "-h"):
        result = run(repo, flag)
        assert result.returncode == 0, result.stderr
        assert "infra/setup.sh [gateway|pull-secret|argocd|all]" in result.stdout
        assert "METALLB_RANGE" in result.stdout
        assert result.calls == []


@pytest.mark.parametrize(
    ("env", "pool", "vip"),
    [
        (LAN, LAN["METALLB_RANGE"], LAN["INGRESS_VIP"]),
        ({"METALLB_RANGE": "10.0.0.0/24", "INGRESS_VIP": "10.0.0.7"}, "10.0.0.0/24", "10.0.0.7"),
        (
            {"METALLB_RANGE": "172.16.5.10-172.16.5.10", "INGRESS_VIP": "172.16.5.10"},
            "172.16.5.10-172.16.5.10",
            "172.16.5.10",
        ),
    ],
    ids=["range", "cidr", "one-address"],
)
def test_gateway_enables_metallb_and_ingress_and_applies_the_lb_on_the_vip(
    repo: Path, env: dict[str, str], pool: str, vip: str
) -> None:
    result = run(repo, "gateway", **env)
    assert result.returncode == 0, result.stderr
    settings = str(INGRESS_SETTINGS.relative_to(ROOT))
    assert [c["args"] for c in result.calls] == [
        ["enable", f"metallb:{pool}"],
        ["enable", "ingress"],
        # Merged into the addon's own ConfigMap, which names itself: the file is the patch.
        ["kubectl", "patch", "-f", settings, "--type", "merge", "--patch-file", settings],
        ["kubectl", "apply", "-f", "-"],
    ]
    service = yaml.safe_load(result.calls[3]["stdin"])
    assert service["metadata"]["annotations"] == {"metallb.universe.tf/loadBalancerIPs": vip}
    for version in KUBERNETES_VERSIONS:
        kubernetes_validate.validate(service, version, strict=True)


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["gateway"], {}, "gateway needs METALLB_RANGE and INGRESS_VIP"),
        (["gateway"], {**LAN, "INGRESS_VIP": "192.0.2"}, "INGRESS_VIP=192.0.2 is not an IPv4"),
        (["gateway"], {**LAN, "METALLB_RANGE": "192.0.2.200"}, "METALLB_RANGE=192.0.2.200 is not"),
        (
            ["gateway"],
            {**LAN, "INGRESS_VIP": "192.0.2.250"},
            "INGRESS_VIP=192.0.2.250 is outside METALLB_RANGE",
        ),
        (["gateway"], {**LAN, "METALLB_RANGE": "192.0.2.1-192.0.2.300"}, "octet above 255"),
        (["gateway"], {**LAN, "METALLB_RANGE": "192.0.2.9-192.0.2.1"}, "ends before it starts"),
        (["pull-secret"], {"GHCR_USER": "someone"}, "pull-secret needs GHCR_USER and GHCR_TOKEN"),
        (
            ["pull-secret"],
            {"GHCR_USER": "u", "GHCR_TOKEN": "t", "NAMESPACE": "My_NS"},
            "NAMESPACE=My_NS is not a namespace name",
        ),
        (["argocd"], {"REPO_URL": ORIGIN_HTTPS}, "REPO_URL is not read"),
        (["all"], {**LAN, "REPO_URL": "ftp://example.org/x"}, "REPO_URL is not read"),
        (["all"], {**LAN, "GHCR_USER": "someone"}, "pull-secret needs GHCR_USER and GHCR_TOKEN"),
        (["all"], {"INGRESS_VIP": "192.0.2.1"}, "gateway needs METALLB_RANGE and INGRESS_VIP"),
        (["deploy"], {}, "usage: infra/setup.sh [gateway|pull-secret|argocd|all]"),
    ],
    ids=[
        "no-lan-settings",
        "bad-vip",
        "bad-range",
        "vip-outside-range",
        "octet-out-of-range",
        "range-reversed",
        "no-token",
        "bad-namespace",
        "repo-url-set",
        "all-checks-argocd-before-the-gateway-runs",
        "all-checks-the-secret-before-the-gateway-runs",
        "all-needs-the-lan-settings",
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
    result = run(repo, "pull-secret", GHCR_USER="someone", GHCR_TOKEN=TOKEN)
    assert result.returncode == 0, result.stderr
    create = result.call("kubectl", "create")
    assert create["args"][2:] == [
        "secret",
        "generic",
        "ghcr-secret",
        "--namespace",
        IDENTITY.namespace,
        "--type=kubernetes.io/dockerconfigjson",
        "--from-file=.dockerconfigjson=/dev/stdin",
        "--dry-run=client",
        "--output=yaml",
    ]
    auth = json.loads(create["stdin"])["auths"]["ghcr.io"]["auth"]
    assert base64.b64decode(auth).decode() == f"someone:{TOKEN}"
    assert result.calls[-1] == {
        "args": ["kubectl", "apply", "-f", "-"],
        "stdin": "kind: Secret  # as rendered by kubectl --dry-run\n",
    }
    assert not any(TOKEN in " ".join(call["args"]) for call in result.calls)


def test_pull_secret_goes_to_another_services_namespace_only_if_it_exists(repo: Path) -> None:
    other = f"{IDENTITY.namespace}-2"
    env = {"GHCR_USER": "someone", "GHCR_TOKEN": "t0ken-value", "NAMESPACE": other}
    present = run(repo, "pull-secret", **env)
    assert present.returncode == 0, present.stderr
    assert "--namespace" in (args := present.call("kubectl", "create")["args"])
    assert args[args.index("--namespace") + 1] == other
    missing = run(repo, "pull-secret", fail=f"kubectl get namespace {other}", **env)
    assert missing.returncode == 2
    assert f"namespace {other} does not exist; create it first (tofu apply)" in missing.stderr
    assert [c["args"][:2] for c in missing.calls] == [["kubectl", "get"]]


def test_pull_secret_creates_the_namespace_only_when_missing(repo: Path) -> None:
    env = {"GHCR_USER": "someone", "GHCR_TOKEN": "t0ken-value"}
    present = run(repo, "pull-secret", **env)
    missing = run(repo, "pull-secret", fail=f"kubectl get namespace {IDENTITY.namespace}", **env)
    namespace_apply = ["kubectl", "apply", "-f", "k8s/namespace.yaml"]
    assert namespace_apply not in [c["args"] for c in present.calls]
    assert namespace_apply in [c["args"] for c in missing.calls]


def _git(cwd: Path, *args: str) -> None:
    env = {
        "GIT_CONFIG_GLOBAL": "/dev/null",
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "Dev",
        "GIT_AUTHOR_EMAIL": "dev@example.com",
        "GIT_COMMITTER_NAME": "Dev",
        "GIT_COMMITTER_EMAIL": "dev@example.com",
        "PATH": "/usr/bin:/bin",
    }
    subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True)


REPOSITORY_PATH = f"{OWNER}/{IDENTITY.repository}"


@pytest.mark.parametrize(
    "origin",
    [
        ORIGIN,
        ORIGIN_HTTPS,
        f"ssh://git@github.com/{REPOSITORY_PATH}.git",
        f"https://github.com/{REPOSITORY_PATH.lower()}",
        f"https://{OWNER}:{TOKEN}@github.com/{REPOSITORY_PATH}.git",
        f"https://{TOKEN}@github.com/{REPOSITORY_PATH}.git",
        "/srv/git/mirror.git",
        "",
    ],
    ids=[
        "ssh",
        "https",
        "ssh-url",
        "other-case-no-suffix",
        "https-with-credentials",
        "https-with-a-token",
        "not-github",
        "no-origin",
    ],
)
def test_argocd_applies_project_then_application_for_fork_tomls_repository(
    repo: Path, origin: str
) -> None:
    _git(repo, "remote", "remove", "origin")
    if origin:
        _git(repo, "remote", "add", "origin", origin)
    result = run(repo, "argocd")
    assert result.returncode == 0, result.stderr
    applied = [yaml.safe_load(c["stdin"]) for c in result.calls if c["args"][1:2] == ["apply"]]
    assert [doc["kind"] for doc in applied] == ["AppProject", "Application"]
    project, application = applied
    identity = load(repo)
    assert project["spec"]["sourceRepos"] == [identity.repo_url]
    assert application["spec"]["source"]["repoURL"] == identity.repo_url
    assert application["spec"]["destination"]["namespace"] == identity.namespace
    assert application["metadata"]["name"] == identity.name
    assert argocd_schema_errors(project) == argocd_schema_errors(application) == []
    assert TOKEN not in json.dumps(result.calls) + result.stderr


@pytest.mark.parametrize(
    "origin",
    [
        f"git@github.com:another-{OWNER}/{IDENTITY.repository}.git",
        f"https://github.com/{OWNER}/another-{IDENTITY.repository}.git",
        f"https://{OWNER}:{TOKEN}@github.com/another-{OWNER}/{IDENTITY.repository}.git",
    ],
    ids=["other-owner", "other-repository", "other-owner-with-credentials"],
)
def test_argocd_refuses_an_origin_that_is_not_fork_tomls_repository(
    repo: Path, origin: str
) -> None:
    _git(repo, "remote", "set-url", "origin", origin)
    result = run(repo, "argocd")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert f"but fork.toml names {load(repo).repo_url}" in result.stderr
    assert TOKEN not in result.stderr
    assert result.calls == []


def test_setup_reads_a_fork_toml_with_comments_and_literal_strings(repo: Path) -> None:
    path = repo / IDENTITY_FILE
    text = re.sub(
        r'(?m)^(owner|name|repository) = "(.*)"$', r"\1 = '\2'  # set by us", path.read_text()
    )
    path.write_text(text)
    result = run(repo, "argocd")
    assert result.returncode == 0, result.stderr
    application = yaml.safe_load(result.calls[-1]["stdin"])
    assert application["spec"]["source"]["repoURL"] == load(repo).repo_url


def test_setup_refuses_a_fork_toml_without_a_name(repo: Path) -> None:
    path = repo / IDENTITY_FILE
    path.write_text(re.sub(r"(?m)^name = .*$", "", path.read_text()))
    result = run(repo, "argocd")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert 'fork.toml has no name = "..." line' in result.stderr
    assert result.calls == []


def test_argocd_refuses_fork_tomls_placeholder_owner(repo: Path) -> None:
    (repo / IDENTITY_FILE).write_text(
        re.sub(
            r'(?m)^owner = ".*"$',
            f'owner = "{PLACEHOLDER_OWNER}"',
            (repo / IDENTITY_FILE).read_text(),
        )
    )
    result = run(repo, "argocd")
    assert result.returncode == 2
    assert "fork.toml still names the placeholder owner" in result.stderr
    assert result.calls == []


def test_argocd_waits_for_the_first_ci_image(repo: Path) -> None:
    write_image(repo, IDENTITY.placeholder_image)
    result = run(repo, "argocd")
    assert result.returncode == 2
    assert "still names the placeholder image: push to main first" in result.stderr
    assert result.calls == []


def test_argocd_says_to_pull_when_origin_already_holds_the_bots_bump(
    repo: Path, tmp_path: Path
) -> None:
    write_image(repo, IDENTITY.placeholder_image)
    remote = tmp_path / "origin.git"
    _git(tmp_path, "init", "-q", "--bare", "-b", "main", str(remote))
    _git(repo, "checkout", "-q", "-b", "main")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "fork")
    _git(repo, "remote", "set-url", "origin", str(remote))
    _git(repo, "push", "-q", "origin", "main")
    ci = tmp_path / "ci"
    _git(tmp_path, "clone", "-q", str(remote), str(ci))
    write_image(ci, RELEASED_IMAGE)
    _git(ci, "commit", "-q", "-am", "deploy: bump the image")
    _git(ci, "push", "-q", "origin", "main")

    result = run(repo, "argocd")
    assert result.returncode == 2
    assert f"origin/main already deploys {RELEASED_IMAGE}: run git pull" in result.stderr
    assert result.stderr.count("\n") == 1
    assert result.calls == []


def test_argocd_needs_argocd_installed(repo: Path) -> None:
    result = run(repo, "argocd", fail="kubectl get namespace argocd")
    assert result.returncode == 2
    assert "ArgoCD is not installed" in result.stderr


def test_all_runs_every_step_and_skips_the_secret_without_a_token(repo: Path) -> None:
    result = run(repo, "all", **LAN)
    assert result.returncode == 0, result.stderr
    assert "pull secret skipped" in result.stderr
    assert [c["args"][:2] for c in result.calls] == [
        ["enable", f"metallb:{LAN['METALLB_RANGE']}"],
        ["enable", "ingress"],
        ["kubectl", "patch"],
        ["kubectl", "apply"],
        ["kubectl", "get"],
        ["kubectl", "apply"],
        ["kubectl", "apply"],
    ]


def test_failing_cluster_command_stops_the_script_with_its_status(repo: Path) -> None:
    result = run(repo, "gateway", fail="enable ingress", **LAN)
    assert result.returncode == 1
    assert [c["args"] for c in result.calls][-1] == ["enable", "ingress"]
