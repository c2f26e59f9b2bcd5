"""Turn a clone into a fork: write the new identity to `fork.toml` and every deploy file that
carries part of it, or nothing at all.

Each file is edited where its data says, never by searching the text for the old name: YAML
through ruamel.yaml's round-trip loader and dumper (comments, order and quoting survive; the
repository's manifests dump back byte for byte), the tfvars file by splicing the spans that
python-hcl2's parse tree gives for the values, and the greeting's default by its one line. Every
new text is computed and parsed again before the first file is written, so a file that cannot be
edited stops the command with nothing changed.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import hcl2
from lark import Token, Tree
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from argo_gitops.errors import InputError
from argo_gitops.identity import IDENTITY_FILE, Identity, load, rewrite
from argo_gitops.imageref import parse_image_ref
from argo_gitops.manifest import read_manifest, write_manifest
from argo_gitops.namespaces import check_name

YAML_DIRS = ("k8s", "argocd")
TFVARS = "tofu/terraform.tfvars"
SERVICE_CONFIG = "src/argo_python/config.py"
_SERVICE_NAME_DEFAULT = re.compile(r'^(?P<head>\s*service_name: str = )"[^"\n]*"$', re.MULTILINE)

Value = Callable[[Identity], object]
# Where each kind of object keeps a part of the identity: a path of keys (an int is a list index,
# "*" every item of a list) and the value it must hold. A path that is not there is left alone.
_LABELS = ("app.kubernetes.io/name", "app.kubernetes.io/part-of")
_NAMESPACED: list[tuple[tuple[str | int, ...], Value]] = [
    (("metadata", "name"), lambda i: i.name),
    (("metadata", "namespace"), lambda i: i.namespace),
    *((("metadata", "labels", label), lambda i: i.name) for label in _LABELS),
]
_SELECTED = ("app.kubernetes.io/name",)
FIELDS: dict[str, list[tuple[tuple[str | int, ...], Value]]] = {
    "Namespace": [(("metadata", "name"), lambda i: i.namespace)],
    "Deployment": [
        *_NAMESPACED,
        (("spec", "selector", "matchLabels", *_SELECTED), lambda i: i.name),
        *(
            (("spec", "template", "metadata", "labels", label), lambda i: i.name)
            for label in _LABELS
        ),
        (
            (
                "spec",
                "template",
                "spec",
                "affinity",
                "podAntiAffinity",
                "preferredDuringSchedulingIgnoredDuringExecution",
                "*",
                "podAffinityTerm",
                "labelSelector",
                "matchLabels",
                *_SELECTED,
            ),
            lambda i: i.name,
        ),
        (("spec", "template", "spec", "containers", 0, "name"), lambda i: i.name),
    ],
    "Service": [
        *_NAMESPACED,
        (("spec", "selector", *_SELECTED), lambda i: i.name),
        (("spec", "ports", 0, "nodePort"), lambda i: i.node_port),
    ],
    "PodDisruptionBudget": [
        *_NAMESPACED,
        (("spec", "selector", "matchLabels", *_SELECTED), lambda i: i.name),
    ],
    "NetworkPolicy": [
        *_NAMESPACED,
        (("spec", "podSelector", "matchLabels", *_SELECTED), lambda i: i.name),
    ],
    "Application": [
        (("metadata", "name"), lambda i: i.name),
        (("spec", "project"), lambda i: i.name),
        (("spec", "source", "repoURL"), lambda i: i.repo_url),
        (("spec", "destination", "namespace"), lambda i: i.namespace),
        (("spec", "ignoreDifferences", "*", "name"), lambda i: i.name),
        (("spec", "ignoreDifferences", "*", "namespace"), lambda i: i.namespace),
    ],
    "AppProject": [
        (("metadata", "name"), lambda i: i.name),
        (("spec", "description"), lambda i: f"{i.name}, synced from k8s/ of its repository"),
        (("spec", "sourceRepos", 0), lambda i: i.repo_url),
        (("spec", "destinations", "*", "namespace"), lambda i: i.namespace),
    ],
}
_IMAGE = ("spec", "template", "spec", "containers", 0, "image")


@dataclass(frozen=True)
class Change:
    path: Path
    before: str
    after: str


def plan(root: Path, new: Identity) -> list[Change]:
    """Every file of the repository at `root` that differs from what `new` makes of it."""
    old = load(root)
    check_name(root, new.name)
    edits: list[tuple[Path, Callable[[str, str], str]]] = [
        (root / IDENTITY_FILE, lambda text, _source: rewrite(text, new)),
        *(
            (path, lambda text, source: rewrite_yaml(text, new, source))
            for directory in YAML_DIRS
            for path in sorted((root / directory).glob("*.yaml"))
        ),
        (root / TFVARS, lambda text, source: rewrite_tfvars(text, old.name, new, source)),
        (root / SERVICE_CONFIG, lambda text, source: rewrite_service_name(text, new, source)),
    ]
    changes = []
    for path, edit in edits:
        before = read_manifest(path)
        after = edit(before, str(path.relative_to(root)))
        if after != before:
            changes.append(Change(path, before, after))
    return changes


def apply(changes: list[Change]) -> None:
    for change in changes:
        write_manifest(change.path, change.after)


# --- YAML -----------------------------------------------------------------------------------


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 4096
    return yaml


def rewrite_yaml(text: str, identity: Identity, source: str) -> str:
    """`text` (Kubernetes or ArgoCD objects) with every identity field set from `identity`."""
    yaml = _yaml()
    try:
        documents = list(yaml.load_all(text))
    except YAMLError as error:
        raise InputError(f"{source}: not valid YAML: {str(error).splitlines()[0]}") from None
    changed = False
    for document in documents:
        if not isinstance(document, dict):
            continue
        for path, value in FIELDS.get(str(document.get("kind")), []):
            changed |= _set(document, path, value(identity))
        if document.get("kind") == "Deployment":
            changed |= _set_image(document, identity, source)
    if not changed:
        return text
    out = io.StringIO()
    yaml.dump_all(documents, out)
    return out.getvalue()


def _set(node: Any, path: tuple[str | int, ...], value: object) -> bool:
    """Set the value at `path` (every match of a "*"); whether anything changed."""
    # Every slot is assigned: a list, not a generator that any() would stop reading early.
    assigned = [_assign(parent, key, value) for parent, key in _slots(node, path)]
    return any(assigned)


def _slots(node: Any, path: tuple[str | int, ...]) -> Iterator[tuple[Any, str | int]]:
    *parents, last = path
    nodes = [node]
    for step in parents:
        nodes = [child for parent in nodes for child in _children(parent, step)]
    for parent in nodes:
        if (isinstance(parent, dict) and last in parent) or (
            isinstance(parent, list) and isinstance(last, int) and last < len(parent)
        ):
            yield parent, last


def _children(node: Any, step: str | int) -> list[Any]:
    if isinstance(node, list):
        if step == "*":
            return list(node)
        return [node[step]] if isinstance(step, int) and step < len(node) else []
    if isinstance(node, dict) and step in node:
        return [node[step]]
    return []


def _assign(parent: Any, key: str | int, value: object) -> bool:
    current = parent[key]
    if current == value:
        return False
    if isinstance(current, str) and isinstance(value, str):
        # Keep the scalar's quoting style (ruamel's string subclasses carry it).
        value = type(current)(value) if type(current) is not str else value
    parent[key] = value
    return True


def _set_image(deployment: Any, identity: Identity, source: str) -> bool:
    """Point the image at the fork's package: kept when it already is one of the fork's builds,
    else the placeholder until CI builds the first."""
    for parent, key in _slots(deployment, _IMAGE):
        current = str(parent[key])
        try:
            name = parse_image_ref(current).name
        except InputError as error:
            raise InputError(f"{source}: {error}") from None
        if name != identity.image:
            return _assign(parent, key, identity.placeholder_image)
    return False


# --- tofu/terraform.tfvars ------------------------------------------------------------------


def rewrite_tfvars(text: str, old_name: str, identity: Identity, source: str) -> str:
    """`text` with the entry of the service deployed from k8s/ renamed to the fork's name and its
    namespace, node_port and hostname set; nothing else of the file changes."""
    tree = _parse_hcl(text, source)
    current = _check_services(text, old_name, identity, source)
    entry = _service_entry(tree, current, source)
    key, body = entry.children[0], _object(entry.children[-1])
    if body is None:
        raise InputError(f"{source}: services[{current!r}] is not an object")
    elements = {_key_text(element.children[0]): element for element in _elements(body)}
    splices: list[tuple[int, int, str]] = [(*_span(key), f'"{identity.name}"')]
    for field, value in (
        ("namespace", f'"{identity.namespace}"'),
        ("node_port", str(identity.node_port)),
    ):
        if field not in elements:
            raise InputError(f"{source}: services[{current!r}] has no {field}")
        splices.append((*_span(elements[field].children[-1]), value))
    hostname = elements.get("hostname")
    if hostname is not None and identity.hostname:
        splices.append((*_span(hostname.children[-1]), f'"{identity.hostname}"'))
    elif hostname is not None:
        start, end = _span(hostname)
        splices.append((text.rindex("\n", 0, start) + 1, text.index("\n", end) + 1, ""))
    elif identity.hostname:
        indent = _column(text, _span(elements["namespace"])[0])
        closing = _span(body)[1] - 1
        at = text.rindex("\n", 0, closing) + 1
        splices.append((at, at, f'{" " * indent}hostname = "{identity.hostname}"\n'))
    result = text
    for start, end, replacement in sorted(splices, reverse=True):
        result = result[:start] + replacement + result[end:]
    _check_tfvars(text, result, current, identity, source)
    return result


def _check_services(text: str, old_name: str, identity: Identity, source: str) -> str:
    """The key of the service's entry (fork.toml's name, or the new one on a re-run). The fork's
    name and NodePort must not be another service's (a second service the user added to the
    map): Kubernetes would refuse the second NodePort, OpenTofu the second key."""
    options = hcl2.SerializationOptions(strip_string_quotes=True, with_comments=False)
    services = hcl2.loads(text, serialization_options=options).get("services", {})
    current = next((key for key in (old_name, identity.name) if key in services), None)
    if current is None:
        # Looked up first: every other check compares against the other entries.
        raise InputError(
            f"{source}: services has no entry {old_name!r}, the name in fork.toml; "
            f"if it was renamed by hand, name it {old_name!r} again"
        )
    for key, entry in services.items():
        if key == current:
            continue
        if key == identity.name:
            raise InputError(f"NAME={identity.name!r} is another service's name in {source}")
        if str(entry.get("node_port")) == str(identity.node_port):
            raise InputError(
                f"node_port {identity.node_port} is also the node_port of service {key!r} in "
                f"{source}; choose another with NODE_PORT="
            )
    return current


def _check_tfvars(before: str, after: str, current: str, identity: Identity, source: str) -> None:
    """The edit changed exactly the entry's name, namespace, node_port and hostname."""
    options = hcl2.SerializationOptions(strip_string_quotes=True, with_comments=False)
    expected = hcl2.loads(before, serialization_options=options)
    services = expected["services"]
    entry = services.pop(current)
    entry.update(namespace=identity.namespace, node_port=identity.node_port)
    entry.pop("hostname", None)
    if identity.hostname:
        entry["hostname"] = identity.hostname
    services[identity.name] = entry
    actual = hcl2.loads(after, serialization_options=options)
    if actual != expected:
        raise InputError(f"{source}: cannot rewrite the service's entry in place")


def _parse_hcl(text: str, source: str) -> Tree[Token]:
    try:
        return hcl2.parses_to_tree(text)
    except Exception as error:  # lark raises several unrelated exception types
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise InputError(f"{source}: not valid HCL: {first}") from None


def _service_entry(tree: Tree[Token], name: str, source: str) -> Tree[Token]:
    for attribute in tree.find_data("attribute"):
        identifier, *_, value = attribute.children
        if _key_text(identifier) != "services":
            continue
        services = _object(value)
        if services is None:
            break
        found = [e for e in _elements(services) if _key_text(e.children[0]) == name]
        if len(found) == 1:
            return found[0]
        raise InputError(f"{source}: services has no single entry named {name!r}")
    raise InputError(f"{source}: no services map")


def _object(node: Tree[Token] | Token) -> Tree[Token] | None:
    """The object a value expression is, if it is one."""
    while isinstance(node, Tree) and node.data == "expr_term" and len(node.children) == 1:
        node = node.children[0]
    return node if isinstance(node, Tree) and node.data == "object" else None


def _elements(obj: Tree[Token]) -> list[Tree[Token]]:
    return [c for c in obj.children if isinstance(c, Tree) and c.data == "object_elem"]


def _key_text(node: Tree[Token] | Token) -> str:
    tokens = [node] if isinstance(node, Token) else list(node.scan_values(lambda _: True))
    text = "".join(str(token) for token in tokens if token.type not in ("DBLQUOTE",))
    return text.strip('"')


def _span(node: Tree[Token] | Token) -> tuple[int, int]:
    if isinstance(node, Token):
        return int(node.start_pos or 0), int(node.end_pos or 0)
    return node.meta.start_pos, node.meta.end_pos


def _column(text: str, position: int) -> int:
    return position - (text.rindex("\n", 0, position) + 1)


# --- the greeting's default -----------------------------------------------------------------


def rewrite_service_name(text: str, identity: Identity, source: str) -> str:
    """`text` (the service's settings module) with the default SERVICE_NAME set to the name."""
    found = list(_SERVICE_NAME_DEFAULT.finditer(text))
    if len(found) != 1:
        raise InputError(f'{source}: expected one `service_name: str = "..."` default line')
    (match,) = found
    return f'{text[: match.start()]}{match["head"]}"{identity.name}"{text[match.end() :]}'
