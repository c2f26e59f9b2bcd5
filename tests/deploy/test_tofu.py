"""tofu/: parses, is formatted, rejects bad sizing at plan time, and reports the endpoints."""

from __future__ import annotations

import copy
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from .support import APP, TOFU_DIR, load_hcl, tfvars, tofu_binary, tool_env
from .tofu_eval import Workspace

HCL_FILES = [*sorted(TOFU_DIR.glob("*.tf")), TOFU_DIR / "terraform.tfvars"]


@pytest.mark.parametrize("path", HCL_FILES, ids=lambda path: path.name)
def test_file_parses_with_python_hcl2(path: Path) -> None:
    assert load_hcl(path)


def test_files_are_formatted_canonically(tmp_path: Path) -> None:
    result = subprocess.run(
        [tofu_binary(), "fmt", "-check", "-recursive", "-diff", "-no-color", str(TOFU_DIR)],
        env=tool_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, f"run `tofu fmt -recursive tofu`:\n{result.stdout}"


def test_state_and_provider_cache_stay_out_of_git() -> None:
    ignored = (TOFU_DIR / ".gitignore").read_text().split()
    assert {"*.tfstate", "*.tfstate.*", ".terraform/"} <= set(ignored)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    return Workspace(tofu_binary(), tmp_path_factory.mktemp("tofu"))


Mutation = Callable[[dict[str, Any]], None]


def _service(**changes: Any) -> Mutation:
    """Change fields of the service's entry; a dotted name reaches into nested objects."""

    def mutate(variables: dict[str, Any]) -> None:
        for dotted, value in changes.items():
            *parents, last = dotted.split("__")
            node = variables["services"][APP]
            for parent in parents:
                node = node[parent]
            node[last] = value

    return mutate


def _rename_service(name: str) -> Mutation:
    def mutate(variables: dict[str, Any]) -> None:
        variables["services"][name] = variables["services"].pop(APP)

    return mutate


def _second_service(**changes: Any) -> Mutation:
    def mutate(variables: dict[str, Any]) -> None:
        other = copy.deepcopy(variables["services"][APP])
        other.update(image="ghcr.io/example/other:1.0", **changes)
        variables["services"]["other"] = other

    return mutate


def _node_address(value: str) -> Mutation:
    def mutate(variables: dict[str, Any]) -> None:
        variables["node_address"] = value

    return mutate


def free_node_port() -> int:
    """A NodePort no service of terraform.tfvars uses."""
    used = {service["node_port"] for service in tfvars()["services"].values()}
    return next(port for port in range(30000, 32768) if port not in used)


REJECTED = [
    pytest.param(
        _service(replicas=0),
        f"replicas must be a whole number of at least 1; invalid for: {APP} (0)",
        id="zero-replicas",
    ),
    pytest.param(
        _service(replicas=1.5),
        "replicas must be a whole number of at least 1",
        id="fractional-replicas",
    ),
    pytest.param(
        _service(node_port=80),
        f"NodePort range 30000-32767; invalid for: {APP} (80)",
        id="node-port-below-range",
    ),
    pytest.param(
        _service(node_port=32768),
        f"NodePort range 30000-32767; invalid for: {APP} (32768)",
        id="node-port-above-range",
    ),
    pytest.param(
        _service(port=0),
        f"port must be a whole number from 1 to 65535; invalid for: {APP} (0)",
        id="port-zero",
    ),
    pytest.param(
        _service(resources__requests__cpu="50 m"),
        "CPU quantities must be millicores",
        id="cpu-with-space",
    ),
    pytest.param(
        _service(resources__limits__cpu="200mc"),
        "CPU quantities must be millicores",
        id="cpu-unit-unknown",
    ),
    pytest.param(
        _service(resources__limits__memory="64MB"),
        "Memory quantities must be a number with an optional unit",
        id="memory-unit-unknown",
    ),
    pytest.param(
        _service(resources__requests__memory="Mi"),
        "Memory quantities must be a number",
        id="memory-no-number",
    ),
    pytest.param(
        _service(resources__requests__cpu="1", resources__limits__cpu="500m"),
        "A CPU request must not exceed its limit",
        id="cpu-request-over-limit",
    ),
    pytest.param(
        _service(resources__requests__memory="128Mi", resources__limits__memory="64Mi"),
        "A memory request must not exceed its limit",
        id="memory-request-over-limit",
    ),
    pytest.param(
        _service(hostname="Not_A_Host"),
        "hostname must be a lowercase DNS name with at least one dot",
        id="hostname-not-dns",
    ),
    pytest.param(
        _service(hostname="localhost"),
        "hostname must be a lowercase DNS name",
        id="hostname-single-label",
    ),
    pytest.param(
        _service(hostname="https://api.example.org"),
        "hostname must be a lowercase DNS name",
        id="hostname-url",
    ),
    pytest.param(
        _service(namespace="Argo"), "namespace must be a DNS label", id="namespace-uppercase"
    ),
    pytest.param(
        _rename_service(f"{APP}_2"),
        "Service names must be DNS labels",
        id="service-name-underscore",
    ),
    pytest.param(
        _second_service(), "Each service needs a node_port of its own", id="shared-node-port"
    ),
    pytest.param(
        _service(probes__liveness_path="healthz"),
        "Probe paths must start with '/'",
        id="probe-path-relative",
    ),
    pytest.param(
        _service(run_as_user=0), "run_as_user and run_as_group must be non-root IDs", id="root-user"
    ),
    pytest.param(
        _service(env={"1BAD": "x"}),
        "env names must be letters, digits and '_'",
        id="env-name-invalid",
    ),
    pytest.param(
        _node_address("not an address"),
        "node_address must be an IPv4 address or a DNS name",
        id="node-address-invalid",
    ),
]


def _variables(mutate: Mutation | None = None) -> dict[str, Any]:
    variables = copy.deepcopy(tfvars())
    if mutate:
        mutate(variables)
    return variables


@pytest.mark.parametrize(("mutate", "message"), REJECTED)
def test_plan_rejects_bad_input_naming_the_rule(
    workspace: Workspace, mutate: Mutation, message: str
) -> None:
    result = workspace.plan(workspace.write_vars(_variables(mutate)))
    assert result.returncode != 0
    assert message in result.message


ACCEPTED = [
    pytest.param(None, id="repository-tfvars"),
    pytest.param(
        _service(
            resources__requests__cpu="0.5",
            resources__limits__cpu="1",
            resources__requests__memory="0.5Gi",
            resources__limits__memory="1Gi",
        ),
        id="cores-and-gibibytes",
    ),
    pytest.param(
        _service(
            resources__requests__cpu="200m",
            resources__limits__cpu="200m",
            resources__requests__memory="64Mi",
            resources__limits__memory="64Mi",
        ),
        id="request-equals-limit",
    ),
    pytest.param(_service(hostname=f"{APP}.example.org"), id="with-hostname"),
    pytest.param(
        _second_service(node_port=free_node_port(), namespace="other"), id="second-service"
    ),
    pytest.param(_node_address("k8plus.lan"), id="node-address-dns-name"),
]


@pytest.mark.parametrize("mutate", ACCEPTED)
def test_plan_accepts_valid_input(workspace: Workspace, mutate: Mutation | None) -> None:
    result = workspace.plan(workspace.write_vars(_variables(mutate)))
    assert result.returncode == 0, result.message


def test_repository_tfvars_file_itself_plans(workspace: Workspace) -> None:
    result = workspace.plan(TOFU_DIR / "terraform.tfvars")
    assert result.returncode == 0, result.message


ENDPOINTS = [
    pytest.param(None, id="node-port"),
    pytest.param(_service(hostname=f"{APP}.example.org"), id="hostname"),
    pytest.param(_node_address("k8plus.lan"), id="node-name"),
]


@pytest.mark.parametrize("mutate", ENDPOINTS)
def test_output_reports_sizing_and_the_endpoint(
    workspace: Workspace, mutate: Mutation | None
) -> None:
    variables = _variables(mutate)
    outputs = workspace.apply(workspace.write_vars(variables))
    service = variables["services"][APP]
    hostname = service.get("hostname")
    endpoint = (
        f"https://{hostname}"
        if hostname
        else f"http://{variables['node_address']}:{service['node_port']}"
    )
    assert outputs["services"][APP] == {
        "namespace": service["namespace"],
        "replicas": service["replicas"],
        "resources": service["resources"],
        "endpoint": endpoint,
    }
