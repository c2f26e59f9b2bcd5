"""Shared readers for the deployment tests: the repository's manifests, HCL files and tools."""

from __future__ import annotations

import copy
import json
import os
import shutil
from functools import cache
from pathlib import Path
from typing import Any

import hcl2
import jsonschema
import pytest
import yaml
from tests.image.dockerfile import arg_default

from argo_gitops import identity

ROOT = Path(__file__).resolve().parents[2]
K8S_DIR = ROOT / "k8s"
ARGOCD_DIR = ROOT / "argocd"
TOFU_DIR = ROOT / "tofu"
INFRA_DIR = ROOT / "infra"
# The nginx Ingress controller's settings, merged into its ConfigMap by infra/setup.sh gateway.
INGRESS_SETTINGS = INFRA_DIR / "ingress-nginx.yaml"

# Kubernetes versions whose official schemas every manifest must pass (strict: no unknown
# field). The oldest is the oldest release the manifests use a feature of (the PDB's
# unhealthyPodEvictionPolicy is GA in 1.31); the newest is the newest kubernetes-validate ships.
KUBERNETES_VERSIONS = ("1.31.0", "1.37.0")

# The fork's identity (fork.toml): every name, port and image the deploy files must carry.
IDENTITY = identity.load(ROOT)
APP = IDENTITY.name
CONTAINER = IDENTITY.name
TOFU_INSTALL_HINT = (
    "install OpenTofu (https://opentofu.org/docs/intro/install/, docs/opentofu.md) "
    "or Terraform (https://developer.hashicorp.com/terraform/install)"
)
HCL_OPTIONS = hcl2.SerializationOptions(strip_string_quotes=True, with_comments=False)


def load_manifest(path: Path) -> dict[str, Any]:
    """The one Kubernetes object a manifest file holds (one resource per file); a copy of its
    once-parsed data, which the caller may change."""
    return copy.deepcopy(_parsed_manifest(path))


@cache
def _parsed_manifest(path: Path) -> dict[str, Any]:
    documents = [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]
    assert len(documents) == 1, f"{path.name} must hold exactly one object"
    document: dict[str, Any] = documents[0]
    return document


def k8s_manifests() -> dict[str, dict[str, Any]]:
    """Every object ArgoCD syncs, by kind."""
    objects = [load_manifest(path) for path in sorted(K8S_DIR.glob("*.yaml"))]
    by_kind = {obj["kind"]: obj for obj in objects}
    assert len(by_kind) == len(objects), "k8s/ holds two objects of one kind"
    return by_kind


def deployment() -> dict[str, Any]:
    return k8s_manifests()["Deployment"]


def container() -> dict[str, Any]:
    (only,) = deployment()["spec"]["template"]["spec"]["containers"]
    assert only["name"] == CONTAINER
    result: dict[str, Any] = only
    return result


def container_env() -> dict[str, str]:
    return {item["name"]: item["value"] for item in container().get("env", [])}


def load_hcl(path: Path) -> dict[str, Any]:
    """An HCL file as data: a copy of its once-parsed form, which the caller may change."""
    return copy.deepcopy(_parsed_hcl(path))


@cache
def _parsed_hcl(path: Path) -> dict[str, Any]:
    result: dict[str, Any] = hcl2.loads(path.read_text(), serialization_options=HCL_OPTIONS)
    return result


def tfvars() -> dict[str, Any]:
    return load_hcl(TOFU_DIR / "terraform.tfvars")


def tofu_resource(kind: str) -> dict[str, Any]:
    """The body of `resource "<kind>" "service"` in tofu/microservices.tf."""
    for resource in load_hcl(TOFU_DIR / "microservices.tf")["resource"]:
        if kind in resource:
            body: dict[str, Any] = resource[kind]["service"]
            return body
    raise AssertionError(f"tofu/microservices.tf has no {kind} resource")


def dockerfile_ids() -> tuple[int, int]:
    """The image's non-root UID and GID, from the Dockerfile's ARG defaults."""
    return int(arg_default("APP_UID")), int(arg_default("APP_GID"))


def tofu_binary() -> str:
    """OpenTofu, else Terraform; skipped with an install hint outside CI when neither exists."""
    for name in ("tofu", "terraform"):
        found = shutil.which(name)
        if found:
            return found
    pytest.skip(f"neither tofu nor terraform is installed: {TOFU_INSTALL_HINT}")


def tool_env(tmp_path: Path) -> dict[str, str]:
    """Environment for OpenTofu/Terraform: no prompts, no update check, no user CLI config."""
    config = tmp_path / "tofu-cli.rc"
    config.touch()
    return {
        **os.environ,
        "TF_CLI_CONFIG_FILE": str(config),
        "TF_IN_AUTOMATION": "1",
        "TF_INPUT": "0",
        "CHECKPOINT_DISABLE": "1",
    }


def application() -> dict[str, Any]:
    return load_manifest(ARGOCD_DIR / "application.yaml")


def ignore_differences() -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = application()["spec"]["ignoreDifferences"]
    return entries


def resolve_pointer(document: Any, pointer: str) -> Any:
    """The value at an RFC 6901 JSON pointer; KeyError/IndexError when there is none."""
    node = document
    for token in pointer.split("/")[1:]:
        step = token.replace("~1", "/").replace("~0", "~")
        node = node[int(step)] if isinstance(node, list) else node[step]
    return node


ARGOCD_SCHEMAS = {
    "Application": Path(__file__).parent / "schemas" / "argocd-application.schema.json",
    "AppProject": Path(__file__).parent / "schemas" / "argocd-appproject.schema.json",
}


@cache
def _argocd_validator(kind: str) -> jsonschema.protocols.Validator:
    schema = json.loads(ARGOCD_SCHEMAS[kind].read_text())
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    validator: jsonschema.protocols.Validator = validator_class(schema)
    return validator


def argocd_schema_errors(document: dict[str, Any]) -> list[str]:
    """Where an Application or AppProject breaks the schema of the fields argo-python uses."""
    return [
        f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
        for error in _argocd_validator(document["kind"]).iter_errors(document)
    ]
