"""The three owners do not fight: OpenTofu renders the service's objects exactly as k8s/ has
them (but for the sizing it owns), ArgoCD ignores exactly the fields OpenTofu sizes, and OpenTofu
ignores the image CI sets."""

from __future__ import annotations

import copy
import re
from typing import Any

import kubernetes_validate
import pytest

from . import hcl_render
from .support import (
    APP,
    KUBERNETES_VERSIONS,
    TOFU_DIR,
    container,
    ignore_differences,
    k8s_manifests,
    load_hcl,
    resolve_pointer,
    tofu_binary,
    tofu_resource,
)
from .tofu_eval import RESOLVED_OUTPUT, Workspace

IMAGE_POINTER = "/spec/template/spec/containers/0/image"
RESOURCES = {
    "Namespace": ("kubernetes_namespace_v1", "v1"),
    "Deployment": ("kubernetes_deployment_v1", "apps/v1"),
    "Service": ("kubernetes_service_v1", "v1"),
}


@pytest.fixture(scope="module")
def resolved(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """`var.services` (defaults filled in) and the locals, as OpenTofu evaluates them."""
    workspace = Workspace(tofu_binary(), tmp_path_factory.mktemp("tofu"))
    outputs = workspace.apply(TOFU_DIR / "terraform.tfvars")
    resolved: dict[str, Any] = outputs[RESOLVED_OUTPUT]
    return resolved


def _scope(resolved: dict[str, Any], kind: str, services: dict[str, Any]) -> dict[str, Any]:
    each_value = APP if kind == "Namespace" else services[APP]
    return {
        "each": {"key": APP, "value": each_value},
        "var": {"services": services},
        "local": resolved["local"],
    }


def render(
    resolved: dict[str, Any], kind: str, services: dict[str, Any] | None = None
) -> dict[str, Any]:
    """What OpenTofu would create as argo-python's `kind`, for these services (default: tfvars)."""
    resource, api_version = RESOURCES[kind]
    services = resolved["services"] if services is None else services
    return hcl_render.render_resource(
        tofu_resource(resource), _scope(resolved, kind, services), api_version, kind
    )


def _ignored_annotation_patterns() -> list[re.Pattern[str]]:
    (provider,) = load_hcl(TOFU_DIR / "main.tf")["provider"]
    patterns: list[str] = provider["kubernetes"].get("ignore_annotations", [])
    return [re.compile(pattern) for pattern in patterns]


def comparable(obj: dict[str, Any]) -> dict[str, Any]:
    """The object without what only one owner writes: the image (CI), the sizing (OpenTofu; k8s/
    holds only the values ArgoCD creates the object with, which ArgoCD then ignores) and the
    annotations the provider is configured to leave alone."""
    result = copy.deepcopy(obj)
    metadata = result["metadata"]
    ignored = _ignored_annotation_patterns()
    annotations = {
        key: value
        for key, value in metadata.pop("annotations", {}).items()
        if not any(pattern.search(key) for pattern in ignored)
    }
    if annotations:
        metadata["annotations"] = annotations
    if result["kind"] == "Deployment":
        del result["spec"]["template"]["spec"]["containers"][0]["image"]
    for entry in ignore_differences():
        if entry["kind"] == result["kind"]:
            for pointer in entry["jsonPointers"]:
                *parents, last = pointer.split("/")
                del resolve_pointer(result, "/".join(parents))[last]
    return result


@pytest.mark.parametrize("kind", RESOURCES)
def test_tofu_renders_the_object_k8s_holds(resolved: dict[str, Any], kind: str) -> None:
    rendered, synced = comparable(render(resolved, kind)), comparable(k8s_manifests()[kind])
    differences = sorted(_differing_pointers(rendered, synced))
    assert rendered == synced, f"tofu/ and k8s/ differ at {differences}"


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("kind", RESOURCES)
def test_tofu_rendered_object_is_valid_kubernetes(
    resolved: dict[str, Any], kind: str, version: str
) -> None:
    kubernetes_validate.validate(render(resolved, kind), version, strict=True)


def test_tofu_starts_the_image_ci_wrote_and_then_ignores_it(resolved: dict[str, Any]) -> None:
    assert (
        render(resolved, "Deployment")["spec"]["template"]["spec"]["containers"][0]["image"]
        == container()["image"]
    )
    (lifecycle,) = tofu_resource("kubernetes_deployment_v1")["lifecycle"]
    assert "${spec[0].template[0].spec[0].container[0].image}" in lifecycle["ignore_changes"]


def test_only_the_checkov_annotations_are_left_to_argocd() -> None:
    annotations = k8s_manifests()["Deployment"]["metadata"]["annotations"]
    ignored = [
        key for key in annotations if any(p.search(key) for p in _ignored_annotation_patterns())
    ]
    assert ignored == list(annotations)
    assert all(key.startswith("checkov.io/skip") for key in ignored)


def _resized(services: dict[str, Any]) -> dict[str, Any]:
    """The services with every field OpenTofu owns (replicas, resources) changed."""
    changed = copy.deepcopy(services)
    service = changed[APP]
    service["replicas"] += 1
    service["resources"] = {
        "requests": {"cpu": "75m", "memory": "48Mi"},
        "limits": {"cpu": "300m", "memory": "96Mi"},
    }
    return changed


def _differing_pointers(left: Any, right: Any, pointer: str = "") -> set[str]:
    if isinstance(left, dict) and isinstance(right, dict):
        return {
            found
            for key in left.keys() | right.keys()
            for found in _differing_pointers(left.get(key), right.get(key), f"{pointer}/{key}")
        }
    if isinstance(left, list) and isinstance(right, list) and len(left) == len(right):
        return {
            found
            for index, (a, b) in enumerate(zip(left, right, strict=True))
            for found in _differing_pointers(a, b, f"{pointer}/{index}")
        }
    return set() if left == right else {pointer}


def _covered(pointer: str, ignored: set[str]) -> bool:
    return any(pointer == prefix or pointer.startswith(prefix + "/") for prefix in ignored)


def test_argocd_ignores_exactly_the_fields_tofu_sizes(resolved: dict[str, Any]) -> None:
    (entry,) = ignore_differences()
    assert (entry["group"], entry["kind"]) == ("apps", "Deployment")
    ignored = set(entry["jsonPointers"])
    before = render(resolved, "Deployment")
    after = render(resolved, "Deployment", _resized(resolved["services"]))
    sized = _differing_pointers(before, after)
    assert sized, "changing the sizing in terraform.tfvars changed nothing OpenTofu renders"
    # Every field a resize touches is ignored by ArgoCD, so a sync never reverts it ...
    assert {pointer for pointer in sized if not _covered(pointer, ignored)} == set()
    # ... and every ignored field is one a resize touches, so ArgoCD ignores nothing else.
    assert {prefix for prefix in ignored if not _covered_by_any(prefix, sized)} == set()
    for pointer in ignored:
        resolve_pointer(after, pointer)


def _covered_by_any(prefix: str, sized: set[str]) -> bool:
    return any(_covered(pointer, {prefix}) for pointer in sized)


def test_ci_owned_image_is_not_ignored_by_argocd() -> None:
    ignored = {p for entry in ignore_differences() for p in entry["jsonPointers"]}
    assert not any(_covered(IMAGE_POINTER, {prefix}) for prefix in ignored)


def test_comparison_notices_a_difference(resolved: dict[str, Any]) -> None:
    """The equality above is not vacuous: one changed tfvars value breaks it."""
    services = copy.deepcopy(resolved["services"])
    services[APP]["probes"]["liveness_path"] = "/hello"
    rendered = render(resolved, "Deployment", services)
    assert comparable(rendered) != comparable(k8s_manifests()["Deployment"])


def test_ingress_exists_only_with_a_hostname_and_is_never_pruned(resolved: dict[str, Any]) -> None:
    with_hostname = {name for name, s in resolved["services"].items() if s["hostname"] is not None}
    assert set(resolved["local"]["ingress_services"]) == with_hostname
    services = copy.deepcopy(resolved["services"])
    hostname = f"{APP}.example.org"
    services[APP]["hostname"] = hostname
    ingress = hcl_render.render_resource(
        tofu_resource("kubernetes_ingress_v1"),
        _scope(resolved, "Ingress", services),
        "networking.k8s.io/v1",
        "Ingress",
    )
    for version in KUBERNETES_VERSIONS:
        kubernetes_validate.validate(ingress, version, strict=True)
    assert ingress["metadata"]["annotations"] == {"argocd.argoproj.io/sync-options": "Prune=false"}
    assert ingress["spec"]["ingressClassName"] == "public"
    (rule,) = ingress["spec"]["rules"]
    assert rule["host"] == hostname
    (path,) = rule["http"]["paths"]
    service_ports = {p["name"] for p in k8s_manifests()["Service"]["spec"]["ports"]}
    assert path["backend"]["service"]["name"] == APP
    assert path["backend"]["service"]["port"]["name"] in service_ports
