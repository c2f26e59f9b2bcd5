"""`argo-gitops fork` (`make fork`) on copies of this repository: bad input changes nothing, a
second run changes nothing, renames are consistent, and a fork keeps passing the deploy tests
through its own deploys (the bot's bump) and through every customisation the docs invite."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import hcl2
import pytest
import yaml

from argo_gitops.identity import load

from .forks import (
    argo_gitops,
    assert_green,
    copy_repository,
    fork,
    git,
    link_environments,
    run_suite,
)
from .support import IDENTITY, ROOT
from .test_infra_setup import install_stand_in


def _other(preferred: str, fallback: str, current: str) -> str:
    """`preferred`, unless this repository already has it: forking must really rename, also in
    a fork that took the docs' example names."""
    return fallback if preferred == current else preferred


# The fork of the "done when": another owner, name, NodePort and a public hostname.
WEATHER = {
    "owner": _other("example-org", "example-two", IDENTITY.owner),
    "name": _other("weather-api", "forecast-api", IDENTITY.name),
    "node-port": _other("30900", "31900", str(IDENTITY.node_port)),
    "hostname": _other("weather.example.org", "weather.example.net", IDENTITY.hostname),
}
WEATHER_ARGS = [f"--{key}={value}" for key, value in WEATHER.items()]
# Without --repo, the first fork names the repository after the service; a fork keeps its own.
WEATHER_REPOSITORY = IDENTITY.repository if IDENTITY.forked else WEATHER["name"]
WEATHER_ORIGIN = f"https://github.com/{WEATHER['owner']}/{WEATHER_REPOSITORY}.git"
DIGEST = "sha256:" + "4f" * 32
DEPLOY_TESTS = (
    "tests/deploy",
    "tests/argo_python/test_config.py",
    "--deselect=tests/deploy/test_checkov.py",
)
# The tests that read the image CI writes.
IMAGE_TESTS = (
    "tests/deploy/test_k8s_manifests.py",
    "tests/deploy/test_ownership.py",
    "tests/deploy/test_infra_setup.py",
    "tests/deploy/test_argocd.py",
)
# Where a fork must not mention the template's name any more.
DEPLOY_DIRS = ("k8s", "argocd", "tofu", "infra", ".github")


def _tree(root: Path) -> dict[str, bytes]:
    return {
        name: (root / name).read_bytes()
        for name in git(root, "ls-files", "-z").split("\0")
        if name and (root / name).is_file()
    }


@pytest.fixture
def clone(tmp_path: Path) -> Path:
    return copy_repository(tmp_path / "clone", origin=WEATHER_ORIGIN)


BAD_INPUT = [
    pytest.param(["--owner=-org", "--name=api"], "OWNER='-org' is invalid", id="owner-hyphen"),
    pytest.param(["--owner=a b", "--name=api"], "OWNER='a b' is invalid", id="owner-space"),
    pytest.param(["--owner=org", "--name=Weather"], "NAME='Weather' is invalid", id="name-upper"),
    pytest.param(["--owner=org", "--name=9api"], "NAME='9api' is invalid", id="name-digit-first"),
    pytest.param(["--owner=org", "--name=" + "a" * 64], "NAME=", id="name-too-long"),
    pytest.param(["--owner=org", "--name=api", "--repo=a..b"], "REPO='a..b'", id="repo-dots"),
    pytest.param(["--owner=org", "--name=api", "--node-port=80"], "NODE_PORT='80'", id="port-low"),
    pytest.param(
        ["--owner=org", "--name=api", "--node-port=32768"], "NODE_PORT='32768'", id="port-high"
    ),
    pytest.param(
        ["--owner=org", "--name=api", "--node-port=3o900"], "NODE_PORT='3o900'", id="port-text"
    ),
    pytest.param(
        ["--owner=org", "--name=api", "--hostname=localhost"],
        "HOSTNAME='localhost' is invalid",
        id="hostname-one-label",
    ),
    pytest.param(
        ["--owner=org", "--name=api", "--hostname=https://a.example.org"],
        "HOSTNAME=",
        id="hostname-url",
    ),
    pytest.param(["--name=api"], "OWNER is required: make fork OWNER=", id="no-owner"),
    pytest.param(["--owner=org"], "NAME is required: make fork OWNER=", id="no-name"),
    pytest.param([], "OWNER and NAME are required", id="no-owner-no-name"),
    pytest.param(["--owner=org", "--name=api-"], "ending with a letter or digit", id="name-hyphen"),
]


@pytest.mark.parametrize(("args", "message"), BAD_INPUT)
def test_bad_input_exits_2_with_one_line_and_changes_nothing(
    clone: Path, args: list[str], message: str
) -> None:
    before = _tree(clone)
    result = argo_gitops(clone, "fork", *args)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.count("\n") == 1
    assert message in result.stderr
    assert _tree(clone) == before


# Namespaces Kubernetes itself creates.
KUBERNETES_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")


def _set_up_namespaces() -> list[str]:
    """The namespaces docs/cluster.md says the set-up installs into (its components table and
    its commands' `-n`), and those of the objects infra/ and argocd/ apply."""
    docs = (ROOT / "docs" / "cluster.md").read_text()
    table = re.findall(r"^\|[^|\n]*\|[^|\n]*\| `([a-z0-9-]+)` \|", docs, re.MULTILINE)
    flags = re.findall(r"(?:-n|--namespace|create namespace) ([a-z0-9-]+)", docs)
    objects = [
        document["metadata"]["namespace"]
        for directory in ("infra", "argocd")
        for path in sorted((ROOT / directory).glob("*.yaml"))
        for document in yaml.safe_load_all(path.read_text())
        if document and "namespace" in document.get("metadata", {})
    ]
    return sorted({*table, *flags, *objects})


RESERVED = sorted({*KUBERNETES_NAMESPACES, *_set_up_namespaces()})


def test_docs_name_the_namespace_of_every_add_on_the_set_up_enables() -> None:
    # The add-ons' namespaces are in no file of the repository but the docs' table: a row per
    # add-on keeps RESERVED complete.
    script = (ROOT / "infra" / "setup.sh").read_text()
    addons = re.findall(r'^\s*microk8s enable "?([a-z0-9-]+)', script, re.MULTILINE)
    docs = (ROOT / "docs" / "cluster.md").read_text()
    rows = re.findall(r"^\|.*\| `[a-z0-9-]+` \|.*$", docs, re.MULTILINE)
    assert addons
    assert [a for a in addons if not any(f"`microk8s enable {a}" in row for row in rows)] == []


@pytest.mark.parametrize("namespace", RESERVED)
def test_a_name_the_cluster_already_uses_as_a_namespace_is_refused(
    clone: Path, namespace: str
) -> None:
    before = _tree(clone)
    result = argo_gitops(clone, "fork", "--owner=org", f"--name={namespace}")
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.count("\n") == 1
    assert f"NAME={namespace!r} is a namespace the cluster already has" in result.stderr
    assert _tree(clone) == before


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("name", '"Bad_Name"'),
        ("owner", '"-org"'),
        ("repository", '"a..b"'),
        ("node_port", "80"),
        ("hostname", '"localhost"'),
        ("image_budget_mb", "0"),
    ],
)
def test_a_bad_value_in_fork_toml_is_reported_as_fork_tomls(
    clone: Path, key: str, value: str
) -> None:
    path = clone / "fork.toml"
    text, count = re.subn(rf"(?m)^{key} = .*$", f"{key} = {value}", path.read_text())
    assert count == 1
    path.write_text(text)
    before = _tree(clone)
    result = argo_gitops(clone, "fork", *WEATHER_ARGS)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.count("\n") == 1
    assert f"fork.toml: {key} = {value.replace(chr(34), chr(39))} is invalid" in result.stderr
    assert _tree(clone) == before


@pytest.mark.parametrize(
    "args",
    [WEATHER_ARGS, [f"--owner={WEATHER['owner']}", f"--name={WEATHER['name']}"]],
    ids=["new-node-port", "node-port-kept"],
)
def test_a_renamed_tfvars_entry_stops_the_fork_with_a_line_naming_it(
    clone: Path, args: list[str]
) -> None:
    tfvars = clone / "tofu" / "terraform.tfvars"
    renamed = f"{IDENTITY.name}-renamed"
    tfvars.write_text(tfvars.read_text().replace(f'"{IDENTITY.name}" = {{', f'"{renamed}" = {{'))
    before = _tree(clone)
    result = argo_gitops(clone, "fork", *args)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.count("\n") == 1
    assert f"tofu/terraform.tfvars: services has no entry {IDENTITY.name!r}" in result.stderr
    assert "NODE_PORT" not in result.stderr
    assert _tree(clone) == before


@pytest.mark.parametrize("clash", ["name", "node-port"])
def test_a_name_or_node_port_of_another_service_is_refused_and_changes_nothing(
    clone: Path, clash: str
) -> None:
    _second_service(clone)
    tfvars = (clone / "tofu" / "terraform.tfvars").read_text()
    options = hcl2.SerializationOptions(strip_string_quotes=True)
    services = hcl2.loads(tfvars, serialization_options=options)["services"]
    (other,) = [name for name in services if name != IDENTITY.name]
    taken = {"name": other, "node-port": str(services[other]["node_port"])}
    before = _tree(clone)
    result = argo_gitops(clone, "fork", *WEATHER_ARGS, f"--{clash}={taken[clash]}")
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.count("\n") == 1
    assert f"{clash.upper().replace('-', '_')}=" in result.stderr
    assert other in result.stderr or taken[clash] in result.stderr
    assert _tree(clone) == before


def test_second_run_with_the_same_inputs_changes_nothing(clone: Path) -> None:
    first = fork(clone, *WEATHER_ARGS)
    assert "updated fork.toml" in first
    after_first = _tree(clone)
    assert fork(clone, *WEATHER_ARGS).strip() == "unchanged: every file already has this identity"
    assert _tree(clone) == after_first


def test_fork_keeps_the_comments_a_user_added_to_fork_toml(clone: Path) -> None:
    path = clone / "fork.toml"
    above, beside, below = "# ours: the team's service", "# agreed with ops", "# the end"
    text = re.sub(r"(?m)^(owner = .*)$", rf"{above}\n\1", path.read_text())
    text = re.sub(r"(?m)^(node_port = .*)$", rf"\1  {beside}", text)
    path.write_text(f"{text}{below}\n")
    fork(clone, *WEATHER_ARGS)
    after = path.read_text()
    assert [comment for comment in (above, below) if comment not in after] == []
    identity = load(clone)
    assert (identity.owner, identity.name, str(identity.node_port)) == (
        WEATHER["owner"],
        WEATHER["name"],
        WEATHER["node-port"],
    )
    assert f"node_port = {identity.node_port}  {beside}" in after


def test_renaming_a_fork_again_gives_what_forking_the_template_to_that_name_gives(
    tmp_path: Path, clone: Path
) -> None:
    direct = copy_repository(tmp_path / "direct")
    final = ["--owner=acme", "--name=forecast", "--repo=Forecast.Service", "--node-port=31000"]
    fork(clone, *WEATHER_ARGS)
    fork(clone, *final, "--hostname=")
    fork(direct, *final, "--hostname=")
    assert _tree(clone) == _tree(direct)


def test_fork_records_the_identity_and_rewrites_every_deploy_name(clone: Path) -> None:
    fork(clone, *WEATHER_ARGS)
    identity = load(clone)
    assert (identity.owner, identity.name, identity.repository) == (
        WEATHER["owner"],
        WEATHER["name"],
        WEATHER_REPOSITORY,
    )
    assert (identity.node_port, identity.hostname) == (
        int(WEATHER["node-port"]),
        WEATHER["hostname"],
    )
    template_name = re.compile(rf"(?<![-\w.]){re.escape(IDENTITY.name)}(?![-\w])")
    leftovers = [
        f"{path.relative_to(clone)}:{number}"
        for directory in DEPLOY_DIRS
        for path in sorted((clone / directory).rglob("*"))
        if path.is_file()
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if template_name.search(line)
    ]
    assert leftovers == []


def _deployed_image(root: Path) -> str:
    deployment = yaml.safe_load((root / "k8s" / "deployment.yaml").read_text())
    return str(deployment["spec"]["template"]["spec"]["containers"][0]["image"])


def _argocd_repo_urls(root: Path) -> set[str]:
    application = yaml.safe_load((root / "argocd" / "application.yaml").read_text())
    project = yaml.safe_load((root / "argocd" / "project.yaml").read_text())
    return {application["spec"]["source"]["repoURL"], *project["spec"]["sourceRepos"]}


def _ci_image(root: Path) -> str:
    """The image deploy.yml would push for HEAD of `root`."""
    return f"{load(root).image}:sha-{git(root, 'rev-parse', 'HEAD')[:7]}@{DIGEST}"


def test_a_re_run_without_repo_keeps_the_repository_and_the_deployed_image(clone: Path) -> None:
    owner, name = WEATHER["owner"], WEATHER["name"]
    repository = _other(f"{name}-service", f"{name}-svc", IDENTITY.repository)
    fork(clone, f"--owner={owner}", f"--name={name}", f"--repo={repository}")
    git(clone, "commit", "-q", "-am", "make fork")
    deployed = _ci_image(clone)
    bump = argo_gitops(clone, "set-image", "k8s/deployment.yaml", deployed)
    assert bump.returncode == 0, bump.stderr
    git(clone, "commit", "-q", "-am", "deploy: bump the image")

    new_port = _other("31000", "31001", str(load(clone).node_port))
    fork(clone, f"--owner={owner}", f"--name={name}", f"--node-port={new_port}")

    identity = load(clone)
    assert (identity.repository, identity.node_port) == (repository, int(new_port))
    assert _argocd_repo_urls(clone) == {identity.repo_url}
    assert _deployed_image(clone) == deployed
    git(clone, "commit", "-q", "-am", "new port")
    next_bump = argo_gitops(clone, "set-image", "k8s/deployment.yaml", _ci_image(clone))
    assert next_bump.returncode == 0, next_bump.stderr


@pytest.mark.parametrize("moved", ["owner", "repo"])
def test_a_re_run_that_moves_the_package_points_at_its_placeholder(clone: Path, moved: str) -> None:
    first = {"owner": WEATHER["owner"], "name": WEATHER["name"], "repo": WEATHER["name"]}
    fork(clone, *(f"--{key}={value}" for key, value in first.items()))
    git(clone, "commit", "-q", "-am", "make fork")
    bump = argo_gitops(clone, "set-image", "k8s/deployment.yaml", _ci_image(clone))
    assert bump.returncode == 0, bump.stderr

    fork(clone, *(f"--{key}={value}" for key, value in {**first, moved: "moved-on"}.items()))
    assert _deployed_image(clone) == load(clone).placeholder_image


def _publish(clone: Path, tmp_path: Path, image: str) -> Path:
    """What deploy.yml's bump job does: `argo-gitops publish` from a fresh checkout of the
    repository's main, pushing to its remote; returns the next push's checkout."""
    remote = tmp_path / "remote.git"
    git(tmp_path, "clone", "-q", "--bare", str(clone), str(remote))
    ci = tmp_path / "ci"
    git(tmp_path, "clone", "-q", str(remote), str(ci))
    result = argo_gitops(ci, "publish", "k8s/deployment.yaml", image)
    assert result.returncode == 0, result.stderr
    assert git(ci, "log", "-1", "--format=%an") == "github-actions[bot]"
    after = tmp_path / "after-bump"
    git(tmp_path, "clone", "-q", str(remote), str(after))
    link_environments(after)
    return after


def _setup_sh(root: Path, tmp_path: Path, step: str, **env: str) -> list[dict[str, Any]]:
    """Run infra/setup.sh `step` in `root` against a stand-in microk8s; its calls."""
    log = tmp_path / "calls.jsonl"
    bin_dir = install_stand_in(tmp_path / "bin")
    result = subprocess.run(
        ["bash", "infra/setup.sh", step],
        cwd=root,
        env={"PATH": f"{bin_dir}:/usr/bin:/bin", "STAND_IN_LOG": str(log), **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in log.read_text().splitlines()]


def test_forked_repository_passes_the_deploy_tests_before_and_after_its_first_deploy(
    clone: Path, tmp_path: Path
) -> None:
    fork(clone, *WEATHER_ARGS)
    git(clone, "commit", "-q", "-am", "make fork")
    # The deploy tests (checkov and the workflow linters, which no rename touches, run once,
    # after the bump below).
    assert_green(run_suite(clone, *DEPLOY_TESTS))

    deployed = _publish(clone, tmp_path, _ci_image(clone))
    assert_green(run_suite(deployed))

    # infra/setup.sh argocd, from a clone whose origin is the fork on GitHub.
    git(deployed, "remote", "set-url", "origin", WEATHER_ORIGIN)
    applied = _setup_sh(deployed, tmp_path, "argocd")
    documents = [yaml.safe_load(call["stdin"]) for call in applied if call["args"][1] == "apply"]
    application = next(doc for doc in documents if doc["kind"] == "Application")
    assert application["spec"]["source"]["repoURL"] == WEATHER_ORIGIN
    assert application["spec"]["destination"]["namespace"] == WEATHER["name"]


def test_this_repository_as_it_is_passes_the_deploy_tests_after_a_deploy(
    clone: Path, tmp_path: Path
) -> None:
    # Unforked, it stands for a fork on GitHub that never ran make fork: CI names the image
    # after that repository. Forked, CI pushes the image fork.toml names.
    head = git(clone, "rev-parse", "HEAD")
    unforked = f"ghcr.io/someone/{IDENTITY.repository.lower()}-fork"
    image = f"{IDENTITY.image if IDENTITY.forked else unforked}:sha-{head[:7]}@{DIGEST}"
    assert_green(run_suite(_publish(clone, tmp_path, image), *IMAGE_TESTS))


# --- customisations the docs invite, each on a fork ------------------------------------------

Customise = Callable[[Path], None]


def _tfvars_edit(pattern: str, replacement: str) -> Customise:
    def edit(root: Path) -> None:
        path = root / "tofu" / "terraform.tfvars"
        text, count = re.subn(pattern, replacement, path.read_text(), flags=re.MULTILINE)
        assert count >= 1, f"{pattern!r} is not in terraform.tfvars"
        path.write_text(text)

    return edit


def _fork_with(*args: str) -> Customise:
    def edit(root: Path) -> None:
        fork(root, *args)

    return edit


def _second_service(root: Path) -> None:
    """docs/fork.md's second service, pasted as written at the end of the services map."""
    docs = (ROOT / "docs" / "fork.md").read_text()
    section = docs.split("## A second service", 1)[1]
    block = re.search(r"```hcl\n(.*?)```", section, re.DOTALL)
    assert block, "docs/fork.md shows the second service in a ```hcl block"
    # The page shows the entry inside `services = { ... }`; the entry is what gets pasted.
    lines = block[1].splitlines(keepends=True)
    assert (lines[0], lines[-1]) == ("services = {\n", "}\n")
    path = root / "tofu" / "terraform.tfvars"
    text = path.read_text()
    assert text.endswith("  }\n}\n")
    path.write_text(text[: -len("}\n")] + "\n" + "".join(lines[1:-1]) + "}\n")


def _sizing(root: Path) -> None:
    _tfvars_edit(r"^(    replicas\s+=) \d+$", r"\1 3")(root)
    _tfvars_edit(
        r'requests = \{ cpu = "[^"]+", memory = "[^"]+" \}',
        'requests = { cpu = "100m", memory = "48Mi" }',
    )(root)
    _tfvars_edit(
        r'limits   = \{ cpu = "[^"]+", memory = "[^"]+" \}',
        'limits   = { cpu = "500m", memory = "128Mi" }',
    )(root)


CUSTOMISATIONS = [
    pytest.param([_fork_with(*WEATHER_ARGS)], id="hostname-on"),
    pytest.param([_fork_with(*WEATHER_ARGS), _fork_with(*WEATHER_ARGS, "--hostname=")], id="off"),
    pytest.param([_fork_with(*WEATHER_ARGS, "--node-port=32767")], id="node-port"),
    pytest.param(
        [
            _fork_with(*WEATHER_ARGS),
            _tfvars_edit(r'^node_address = ".*"$', 'node_address = "k8s-1.lan"'),
        ],
        id="node-address",
    ),
    pytest.param([_fork_with(*WEATHER_ARGS), _sizing], id="sizing-in-tfvars-only"),
    pytest.param([_fork_with(*WEATHER_ARGS), _second_service], id="second-service"),
]
CUSTOMISATION_TESTS = (
    "tests/deploy/test_consistency.py",
    "tests/deploy/test_ownership.py",
    "tests/deploy/test_tofu.py",
    "tests/deploy/test_k8s_manifests.py",
    "tests/deploy/test_argocd.py",
)


@pytest.mark.parametrize("steps", CUSTOMISATIONS)
def test_customised_fork_passes_the_deploy_tests(clone: Path, steps: list[Customise]) -> None:
    for step in steps:
        step(clone)
    assert_green(run_suite(clone, *CUSTOMISATION_TESTS))


@pytest.mark.parametrize(
    ("metallb_range", "vip"),
    [("10.20.0.100-10.20.0.120", "10.20.0.110"), ("172.30.8.0/28", "172.30.8.1")],
    ids=["range", "cidr"],
)
def test_fork_gateway_uses_the_lan_addresses_it_is_given(
    clone: Path, tmp_path: Path, metallb_range: str, vip: str
) -> None:
    fork(clone, *WEATHER_ARGS)
    calls = _setup_sh(clone, tmp_path, "gateway", METALLB_RANGE=metallb_range, INGRESS_VIP=vip)
    assert calls[0]["args"] == ["enable", f"metallb:{metallb_range}"]
    service = yaml.safe_load(calls[-1]["stdin"])
    assert service["metadata"]["annotations"]["metallb.universe.tf/loadBalancerIPs"] == vip
