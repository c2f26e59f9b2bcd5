"""The namespaces a fork's name must not take. A fork's namespace is its name: k8s/namespace.yaml
would put the "restricted" Pod Security Standard on it and ArgoCD would own and sync it, which
breaks a namespace that Kubernetes or the cluster's set-up already uses.

Kubernetes' own namespaces are fixed by Kubernetes. The others are read from the files that
install into the cluster: the MicroK8s add-ons `infra/setup.sh` enables, and the namespaces of
the objects in `infra/` and `argocd/` (ArgoCD's own, the ingress controller's).
"""

from __future__ import annotations

import re
from pathlib import Path

from argo_gitops.errors import InputError
from argo_gitops.manifest import load_documents, read_manifest

KUBERNETES = ("default", "kube-system", "kube-public", "kube-node-lease")
SETUP_SCRIPT = "infra/setup.sh"
# The namespace each MicroK8s add-on installs into (microk8s/addons, their enable scripts).
ADDON_NAMESPACES = {"metallb": "metallb-system", "ingress": "ingress"}
_ENABLE = re.compile(r"""^\s*microk8s enable "?([a-z0-9-]+)""", re.MULTILINE)
SET_UP_DIRS = ("infra", "argocd")


def enabled_addons(root: Path) -> list[str]:
    """The MicroK8s add-ons `infra/setup.sh` enables, in its order."""
    path = root / SETUP_SCRIPT
    return _ENABLE.findall(path.read_text(encoding="utf-8")) if path.is_file() else []


def reserved(root: Path) -> dict[str, str]:
    """Every namespace of the repository at `root`'s cluster that a fork's name must not be,
    with who uses it (for the error line)."""
    found = dict.fromkeys(KUBERNETES, "Kubernetes' own")
    for addon in enabled_addons(root):
        if addon in ADDON_NAMESPACES:
            used_by = f"the MicroK8s {addon} add-on's, which {SETUP_SCRIPT} enables"
            found.setdefault(ADDON_NAMESPACES[addon], used_by)
    for directory in SET_UP_DIRS:
        for path in sorted((root / directory).glob("*.yaml")):
            source = str(path.relative_to(root))
            for document in load_documents(read_manifest(path), source):
                metadata = document.get("metadata") if isinstance(document, dict) else None
                namespace = metadata.get("namespace") if isinstance(metadata, dict) else None
                if isinstance(namespace, str):
                    found.setdefault(namespace, f"used by {source}")
    return found


def check_name(root: Path, name: str) -> None:
    """Raise InputError when the fork's `name` (so its namespace) is one the cluster uses."""
    owner = reserved(root).get(name)
    if owner is not None:
        raise InputError(
            f"NAME={name!r} is a namespace the cluster already has ({owner}): a fork's namespace "
            "is its name, and k8s/namespace.yaml would enforce the restricted Pod Security "
            "Standard on it; choose another NAME"
        )
