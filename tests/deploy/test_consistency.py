"""Values that the service, k8s/, tofu/ and the Dockerfile must agree on, read from each source."""

from __future__ import annotations

from typing import Any

import pytest

from argo_python.app import route_templates
from argo_python.config import Settings

from .support import (
    APP,
    IDENTITY,
    container,
    container_env,
    deployment,
    dockerfile_ids,
    k8s_manifests,
    tfvars,
)

PROBES = ("startupProbe", "livenessProbe", "readinessProbe")


def _settings() -> Settings:
    """The service's settings as the pod's environment makes them (and valid, or this raises)."""
    return Settings.from_env(container_env())


def _service_tfvars() -> dict[str, Any]:
    """The entry of the service deployed from k8s/ in tofu/terraform.tfvars."""
    service: dict[str, Any] = tfvars()["services"][APP]
    return service


def test_container_port_is_the_port_the_service_listens_on() -> None:
    (port,) = container()["ports"]
    assert port["containerPort"] == _settings().port == Settings().port


def test_service_targets_the_container_port() -> None:
    (service_port,) = k8s_manifests()["Service"]["spec"]["ports"]
    (port,) = container()["ports"]
    assert service_port["targetPort"] in (port["containerPort"], port["name"])


def test_tofu_port_and_node_port_match_the_manifests() -> None:
    (service_port,) = k8s_manifests()["Service"]["spec"]["ports"]
    service = _service_tfvars()
    assert (service["port"], service["node_port"]) == (_settings().port, service_port["nodePort"])
    assert service["namespace"] == k8s_manifests()["Namespace"]["metadata"]["name"]


def test_tofu_hostname_is_the_forks_hostname() -> None:
    assert _service_tfvars().get("hostname", "") == IDENTITY.hostname


def test_greeting_names_the_service_by_default() -> None:
    assert Settings().service_name == IDENTITY.name


@pytest.mark.parametrize("probe", PROBES)
def test_probe_asks_a_route_the_service_serves_on_its_port(probe: str) -> None:
    http_get = container()[probe]["httpGet"]
    assert http_get["path"] in route_templates()
    assert http_get["port"] == _settings().port


@pytest.mark.parametrize(
    ("probe", "path"),
    [("startupProbe", "/healthz"), ("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")],
)
def test_probe_uses_the_dedicated_endpoint(probe: str, path: str) -> None:
    assert container()[probe]["httpGet"]["path"] == path


def test_tofu_probe_paths_match_the_manifest() -> None:
    probes = _service_tfvars()["probes"]
    assert probes["liveness_path"] == container()["livenessProbe"]["httpGet"]["path"]
    assert probes["readiness_path"] == container()["readinessProbe"]["httpGet"]["path"]


def _pod_labels() -> dict[str, str]:
    labels: dict[str, str] = deployment()["spec"]["template"]["metadata"]["labels"]
    return labels


SELECTORS = {
    "deployment": lambda objs: objs["Deployment"]["spec"]["selector"]["matchLabels"],
    "service": lambda objs: objs["Service"]["spec"]["selector"],
    "disruption-budget": lambda objs: objs["PodDisruptionBudget"]["spec"]["selector"][
        "matchLabels"
    ],
    "network-policy": lambda objs: objs["NetworkPolicy"]["spec"]["podSelector"]["matchLabels"],
    "anti-affinity": lambda objs: objs["Deployment"]["spec"]["template"]["spec"]["affinity"][
        "podAntiAffinity"
    ]["preferredDuringSchedulingIgnoredDuringExecution"][0]["podAffinityTerm"]["labelSelector"][
        "matchLabels"
    ],
}


@pytest.mark.parametrize("selector", SELECTORS.values(), ids=SELECTORS.keys())
def test_selector_is_the_app_name_label_of_the_pods(selector: Any) -> None:
    matched = selector(k8s_manifests())
    assert matched == {"app.kubernetes.io/name": APP}
    assert matched.items() <= _pod_labels().items()


@pytest.mark.parametrize("kind", ["Deployment", "Service", "PodDisruptionBudget", "NetworkPolicy"])
def test_object_carries_the_recommended_labels_of_its_pods(kind: str) -> None:
    assert k8s_manifests()[kind]["metadata"]["labels"] == _pod_labels()
    assert _pod_labels() == {
        "app.kubernetes.io/name": APP,
        "app.kubernetes.io/component": "api",
        "app.kubernetes.io/part-of": APP,
    }


def test_pod_runs_as_the_images_user_and_group() -> None:
    security = deployment()["spec"]["template"]["spec"]["securityContext"]
    assert (security["runAsUser"], security["runAsGroup"]) == dockerfile_ids()


def test_manifest_sizing_is_a_valid_starting_point_for_tofu_to_resize() -> None:
    # k8s/ sizes the Deployment only when ArgoCD creates it; from then on terraform.tfvars does
    # (argocd/application.yaml ignores both fields), so the two may differ, but each must be one
    # Kubernetes accepts and pods fit: requests within limits.
    resources = container()["resources"]
    assert deployment()["spec"]["replicas"] >= 1
    assert set(resources) == {"requests", "limits"}
    assert set(resources["requests"]) == set(resources["limits"]) == {"cpu", "memory"}
    for kind in ("cpu", "memory"):
        assert _quantity(resources["requests"][kind]) <= _quantity(resources["limits"][kind])


_SUFFIXES = {"m": 1e-3, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "k": 1e3, "M": 1e6, "G": 1e9}


def _quantity(text: str) -> float:
    for suffix, factor in sorted(_SUFFIXES.items(), key=lambda item: -len(item[0])):
        if text.endswith(suffix):
            return float(text.removesuffix(suffix)) * factor
    return float(text)


def test_environment_is_valid_for_the_service_and_leaves_access_log_at_its_default() -> None:
    assert "ACCESS_LOG" not in container_env()
    assert _settings().access_log is False


def test_tofu_sets_the_same_environment() -> None:
    assert _service_tfvars()["env"] == container_env()


def test_pod_drains_before_its_endpoint_goes_and_exits_before_the_kill() -> None:
    settings = _settings()
    pod = deployment()["spec"]["template"]["spec"]
    pre_stop = container().get("lifecycle", {}).get("preStop", {})
    pre_stop_sleep = pre_stop.get("sleep", {}).get("seconds", 0)
    # Endpoint removal reaches kube-proxy and nginx within a few seconds; the service keeps
    # serving that long after SIGTERM (plus any preStop sleep, which delays the SIGTERM).
    assert pre_stop_sleep + settings.shutdown_drain_seconds >= 3
    # The kubelet sends SIGKILL at the grace period, counted from the start of preStop: the
    # process must have exited (by SHUTDOWN_TIMEOUT_SECONDS) with time to spare.
    assert (
        pod["terminationGracePeriodSeconds"]
        >= pre_stop_sleep + settings.shutdown_timeout_seconds + 2
    )
    assert (
        _service_tfvars()["termination_grace_period_seconds"]
        == pod["terminationGracePeriodSeconds"]
    )
