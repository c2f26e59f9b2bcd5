"""argocd/: the Application and AppProject are well-formed and confine ArgoCD to k8s/."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from typing import Any

import pytest

from argo_gitops.identity import PLACEHOLDER_OWNER, PLACEHOLDER_TAG

from .support import (
    ARGOCD_DIR,
    IDENTITY,
    INFRA_DIR,
    K8S_DIR,
    ROOT,
    application,
    argocd_schema_errors,
    deployment,
    ignore_differences,
    k8s_manifests,
    resolve_pointer,
)
from .support import load_manifest as load

IN_CLUSTER = "https://kubernetes.default.svc"


def project() -> dict[str, Any]:
    return load(ARGOCD_DIR / "project.yaml")


@pytest.mark.parametrize("document", [application, project], ids=["application", "project"])
def test_argocd_manifest_matches_the_schema_of_the_fields_it_uses(
    document: Callable[[], dict[str, Any]],
) -> None:
    assert argocd_schema_errors(document()) == []


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(document: dict[str, Any]) -> None:
        *parents, last = path.split("/")
        node: Any = document
        for step in parents:
            node = node[int(step)] if isinstance(node, list) else node[step]
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value

    return mutate


def _delete(path: str) -> Callable[[dict[str, Any]], None]:
    def mutate(document: dict[str, Any]) -> None:
        *parents, last = path.split("/")
        node: Any = document
        for step in parents:
            node = node[int(step)] if isinstance(node, list) else node[step]
        del node[last]

    return mutate


# Mistakes ArgoCD would accept silently or report only at sync time; the schema must catch each.
BROKEN = [
    pytest.param(
        application, _set("spec/syncPolicy/automated/selfheal", True), id="misspelt-selfheal"
    ),
    pytest.param(
        application,
        _set("spec/syncPolicy/syncOptions/1", "RespectIgnoreDifference=true"),
        id="unknown-sync-option",
    ),
    pytest.param(
        application, _delete("spec/ignoreDifferences/0/kind"), id="ignore-entry-without-kind"
    ),
    pytest.param(
        application,
        _set("spec/ignoreDifferences/0/jsonPointers/0", "spec/replicas"),
        id="pointer-without-slash",
    ),
    pytest.param(application, _set("spec/syncPolicy/automated/prune", "true"), id="string-prune"),
    pytest.param(application, _delete("spec/destination"), id="no-destination"),
    pytest.param(
        application, _set("spec/syncPolicy/retry/backoff/duration", "5 secs"), id="bad-backoff"
    ),
    pytest.param(project, _set("spec/sourceRepo", ["x"]), id="unknown-field"),
    pytest.param(
        project, _delete("spec/namespaceResourceWhitelist/0/group"), id="kind-without-group"
    ),
    pytest.param(
        project, _set("spec/clusterResourceWhitelist/0/kind", "namespace"), id="lowercase-kind"
    ),
]


@pytest.mark.parametrize(("document", "mutate"), BROKEN)
def test_schema_rejects_a_broken_manifest(
    document: Callable[[], dict[str, Any]], mutate: Callable[[dict[str, Any]], None]
) -> None:
    broken = copy.deepcopy(document())
    mutate(broken)
    assert argocd_schema_errors(broken)


def test_application_syncs_k8s_from_main_into_its_namespace_of_this_cluster() -> None:
    spec = application()["spec"]
    assert spec["source"]["path"] == K8S_DIR.relative_to(ROOT).as_posix()
    assert spec["source"]["targetRevision"] == "main"
    namespace = IDENTITY.namespace
    assert spec["destination"] == {"server": IN_CLUSTER, "namespace": namespace}
    namespaces = {obj["metadata"].get("namespace", namespace) for obj in k8s_manifests().values()}
    assert namespaces == {namespace}


def test_application_syncs_automatically_pruning_and_healing() -> None:
    policy = application()["spec"]["syncPolicy"]
    assert policy["automated"] == {"prune": True, "selfHeal": True}
    assert {"CreateNamespace=true", "RespectIgnoreDifferences=true"} <= set(policy["syncOptions"])


def test_application_belongs_to_the_project_that_allows_its_source_and_destination() -> None:
    app, proj = application(), project()
    assert app["spec"]["project"] == proj["metadata"]["name"] != "default"
    assert app["metadata"]["namespace"] == proj["metadata"]["namespace"] == "argocd"
    assert proj["spec"]["sourceRepos"] == [app["spec"]["source"]["repoURL"]]
    assert proj["spec"]["destinations"] == [app["spec"]["destination"]]


def _group(api_version: str) -> str:
    return api_version.rpartition("/")[0]


def test_project_allows_exactly_the_kinds_in_k8s() -> None:
    spec = project()["spec"]
    kinds = {(_group(obj["apiVersion"]), obj["kind"]) for obj in k8s_manifests().values()}
    cluster_scoped = {("", "Namespace")}
    allowed_cluster = {(item["group"], item["kind"]) for item in spec["clusterResourceWhitelist"]}
    allowed_namespaced = {
        (item["group"], item["kind"]) for item in spec["namespaceResourceWhitelist"]
    }
    assert allowed_cluster == cluster_scoped
    assert allowed_namespaced == kinds - cluster_scoped


def test_manifests_name_the_forks_repository_and_service() -> None:
    app, proj = application(), project()
    assert app["spec"]["source"]["repoURL"] == IDENTITY.repo_url
    assert proj["spec"]["sourceRepos"] == [IDENTITY.repo_url]
    assert app["metadata"]["name"] == proj["metadata"]["name"] == IDENTITY.name


@pytest.mark.parametrize(
    ("variable", "value"),
    [("PLACEHOLDER_OWNER", PLACEHOLDER_OWNER), ("PLACEHOLDER_TAG", PLACEHOLDER_TAG)],
)
def test_setup_script_knows_the_templates_placeholders(variable: str, value: str) -> None:
    script = (INFRA_DIR / "setup.sh").read_text()
    assert re.search(rf"^{variable}=(\S+)$", script, re.MULTILINE)[1] == value  # type: ignore[index]


@pytest.mark.parametrize("index", range(len(ignore_differences())))
def test_ignore_entry_names_group_kind_and_object_of_k8s(index: int) -> None:
    entry = ignore_differences()[index]
    target = k8s_manifests()[entry["kind"]]
    assert entry["group"] == _group(target["apiVersion"])
    assert entry["name"] == target["metadata"]["name"]
    assert entry.get("namespace", IDENTITY.namespace) == target["metadata"]["namespace"]


@pytest.mark.parametrize(
    "pointer", [p for entry in ignore_differences() for p in entry["jsonPointers"]]
)
def test_ignored_pointer_resolves_in_the_deployment(pointer: str) -> None:
    assert resolve_pointer(deployment(), pointer) is not None


def test_resolve_pointer_fails_on_a_missing_field() -> None:
    with pytest.raises(KeyError):
        resolve_pointer(deployment(), "/spec/template/spec/containers/0/resoures")
