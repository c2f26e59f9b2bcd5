"""k8s/ and infra/ manifests: valid against the official Kubernetes schemas, and hardened."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest

from argo_gitops import deployimage
from argo_gitops.identity import PLACEHOLDER_TAG
from argo_python.server import HEADER_READ_TIMEOUT_MS

from .support import (
    APP,
    CONTAINER,
    IDENTITY,
    INFRA_DIR,
    INGRESS_SETTINGS,
    K8S_DIR,
    KUBERNETES_VERSIONS,
    container,
    deployment,
    k8s_manifests,
    load_manifest,
)

MANIFESTS = sorted(K8S_DIR.glob("*.yaml")) + sorted(INFRA_DIR.glob("*.yaml"))


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("path", MANIFESTS, ids=lambda path: f"{path.parent.name}/{path.name}")
def test_manifest_is_valid_for_pinned_kubernetes_strictly(path: Path, version: str) -> None:
    manifest = load_manifest(path)
    try:
        kubernetes_validate.validate(manifest, version, strict=True)
    except kubernetes_validate.ValidationError as exc:
        pytest.fail(f"{path.name} is invalid for Kubernetes {version}: {exc.message}")


def test_k8s_holds_exactly_the_objects_argocd_syncs() -> None:
    assert sorted(k8s_manifests()) == [
        "Deployment",
        "Namespace",
        "NetworkPolicy",
        "PodDisruptionBudget",
        "Service",
    ]


@pytest.mark.parametrize("kind", ["Deployment", "NetworkPolicy", "PodDisruptionBudget", "Service"])
def test_namespaced_object_is_named_for_the_app_in_its_namespace(kind: str) -> None:
    metadata = k8s_manifests()[kind]["metadata"]
    assert (metadata["name"], metadata["namespace"]) == (APP, IDENTITY.namespace)


def test_namespace_enforces_the_restricted_pod_security_standard() -> None:
    labels = k8s_manifests()["Namespace"]["metadata"]["labels"]
    for mode in ("enforce", "warn", "audit"):
        assert labels[f"pod-security.kubernetes.io/{mode}"] == "restricted"


def test_deployment_has_one_container_named_for_the_app() -> None:
    containers = deployment()["spec"]["template"]["spec"]["containers"]
    assert [c["name"] for c in containers] == [CONTAINER]


def image_problem(image: str) -> str:
    """Why `image` is neither the fork's placeholder nor an image CI pushed for it ("" if it is
    one of them): the rule argo-gitops set-image applies before it writes."""
    return deployimage.image_problem(image, IDENTITY)


def test_image_is_the_placeholder_or_a_pinned_build_of_the_forks_package() -> None:
    assert image_problem(container()["image"]) == ""


def test_image_is_the_placeholder_until_ci_pins_a_digest() -> None:
    image = container()["image"]
    assert (image == IDENTITY.placeholder_image) == image.endswith(f":{PLACEHOLDER_TAG}")


CI_WRITES = [
    pytest.param(IDENTITY.placeholder_image, id="placeholder"),
    pytest.param(f"{IDENTITY.image}:sha-1a2b3c4@sha256:" + "ab" * 32, id="pinned-by-ci"),
]
CI_NEVER_WRITES = [
    pytest.param(f"{IDENTITY.image}:latest", id="latest"),
    pytest.param(f"{IDENTITY.image}:sha-1a2b3c4", id="tag-without-digest"),
    pytest.param(f"{IDENTITY.image}:sha-1a2b3c", id="short-sha"),
    pytest.param(f"{IDENTITY.image}:sha-1a2b3c4@sha256:abc", id="short-digest"),
    pytest.param(IDENTITY.image.upper() + ":sha-1a2b3c4@sha256:" + "ab" * 32, id="uppercase"),
    pytest.param("docker.io/library/nginx:sha-1a2b3c4@sha256:" + "ab" * 32, id="other-registry"),
]


@pytest.mark.parametrize("image", CI_WRITES)
def test_image_check_accepts_both_forms_ci_writes(image: str) -> None:
    assert image_problem(image) == ""


@pytest.mark.parametrize("image", CI_NEVER_WRITES)
def test_image_check_rejects_references_ci_never_writes(image: str) -> None:
    assert image_problem(image)


def _pod_spec() -> dict[str, Any]:
    spec: dict[str, Any] = deployment()["spec"]["template"]["spec"]
    return spec


# (what, where in the pod template, expected): the "restricted" profile and the rest of the
# hardening the issue asks for.
HARDENING = [
    ("non-root", ("securityContext", "runAsNonRoot"), True),
    ("seccomp", ("securityContext", "seccompProfile", "type"), "RuntimeDefault"),
    ("no-token", ("automountServiceAccountToken",), False),
    ("no-service-links", ("enableServiceLinks",), False),
    ("pull-secret", ("imagePullSecrets",), [{"name": "ghcr-secret"}]),
    ("read-only-root", ("containers", 0, "securityContext", "readOnlyRootFilesystem"), True),
    ("no-escalation", ("containers", 0, "securityContext", "allowPrivilegeEscalation"), False),
    ("no-capabilities", ("containers", 0, "securityContext", "capabilities"), {"drop": ["ALL"]}),
]


@pytest.mark.parametrize(
    ("path", "expected"), [case[1:] for case in HARDENING], ids=[case[0] for case in HARDENING]
)
def test_pod_is_hardened(path: tuple[str | int, ...], expected: object) -> None:
    value: Any = _pod_spec()
    for step in path:
        value = value[step]
    assert value == expected


@pytest.mark.parametrize(
    "field", ["privileged", "runAsUser", "runAsGroup", "capabilities"], ids=str
)
def test_container_does_not_loosen_the_pod_security_context(field: str) -> None:
    security = container()["securityContext"]
    if field == "capabilities":
        assert "add" not in security["capabilities"]
    else:
        assert security.get(field) in (None, False)


@pytest.mark.parametrize("field", ["hostNetwork", "hostPID", "hostIPC"], ids=str)
def test_pod_shares_no_host_namespace(field: str) -> None:
    assert not _pod_spec().get(field, False)


def test_rollout_never_takes_a_ready_pod_away_first() -> None:
    strategy = deployment()["spec"]["strategy"]
    assert strategy["type"] == "RollingUpdate"
    assert strategy["rollingUpdate"]["maxUnavailable"] == 0
    assert strategy["rollingUpdate"]["maxSurge"] >= 1


def test_disruption_budget_lets_drains_proceed_one_pod_at_a_time() -> None:
    spec = k8s_manifests()["PodDisruptionBudget"]["spec"]
    assert spec == {
        "maxUnavailable": 1,
        "unhealthyPodEvictionPolicy": "AlwaysAllow",
        "selector": spec["selector"],
    }


def test_pods_prefer_distinct_nodes_without_requiring_them() -> None:
    anti_affinity = _pod_spec()["affinity"]["podAntiAffinity"]
    assert "requiredDuringSchedulingIgnoredDuringExecution" not in anti_affinity
    (term,) = anti_affinity["preferredDuringSchedulingIgnoredDuringExecution"]
    assert term["podAffinityTerm"]["topologyKey"] == "kubernetes.io/hostname"


def test_network_policy_admits_only_the_http_port_and_denies_all_egress() -> None:
    spec = k8s_manifests()["NetworkPolicy"]["spec"]
    assert spec["policyTypes"] == ["Ingress", "Egress"]
    assert spec["ingress"] == [{"ports": [{"protocol": "TCP", "port": container_port()}]}]
    assert "egress" not in spec


def container_port() -> int:
    (port,) = container()["ports"]
    value: int = port["containerPort"]
    return value


def test_service_is_a_node_port_on_80_to_the_container_port() -> None:
    spec = k8s_manifests()["Service"]["spec"]
    assert spec["type"] == "NodePort"
    (port,) = spec["ports"]
    assert (port["port"], port["targetPort"], port["nodePort"]) == (
        80,
        container_port(),
        IDENTITY.node_port,
    )


def test_ingress_lb_asks_metallb_for_the_vip_setup_sh_writes() -> None:
    service = load_manifest(INFRA_DIR / "ingress-lb.yaml")
    assert list(service["metadata"]["annotations"]) == ["metallb.universe.tf/loadBalancerIPs"]
    assert service["spec"]["type"] == "LoadBalancer"
    assert sorted(port["port"] for port in service["spec"]["ports"]) == [80, 443]


def test_ingress_settings_go_to_the_controller_behind_ingress_lb() -> None:
    settings = load_manifest(INGRESS_SETTINGS)
    lb = load_manifest(INFRA_DIR / "ingress-lb.yaml")
    assert settings["kind"] == "ConfigMap"
    assert settings["metadata"]["namespace"] == lb["metadata"]["namespace"]
    assert list(settings["metadata"]) == ["name", "namespace"]  # a merge adds no labels


def test_nginx_closes_an_idle_upstream_connection_before_the_service_does() -> None:
    """Both count from the end of a response (the service's hyper timer from when it has
    written it, nginx from when it has read it, a little later): nginx's timeout must end
    first, with a second to spare, or nginx may send a request into a closing connection."""
    nginx_ms = int(load_manifest(INGRESS_SETTINGS)["data"]["upstream-keepalive-timeout"]) * 1000
    assert 0 < nginx_ms <= HEADER_READ_TIMEOUT_MS - 1000
