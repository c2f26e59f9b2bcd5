"""Find and rewrite the image of one container in a Kubernetes Deployment manifest.

ruamel.yaml's round-trip composer locates the image scalar and its exact place in the text; only
that span is rewritten, so comments, key order, quoting, indentation and line endings survive and
the diff is the one image line. (Dumping the round-tripped document instead would re-indent
sequences, re-wrap long lines and re-space flow mappings of a hand-written manifest.) The result
is parsed again and must equal the original with just that image changed before it is accepted.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from argo_gitops.errors import InputError
from argo_gitops.imageref import ImageRef

# Where a Deployment keeps its containers; `--container` may also name an init container.
_POD_SPEC_PATH = ("spec", "template", "spec")
_DEFAULT_LIST = "containers"
_NAMED_LISTS = ("containers", "initContainers")


@dataclass(frozen=True)
class ImageSlot:
    """The image scalar of one container: its value and where it sits in the text."""

    container: str
    current: str
    start: int
    end: int
    style: str | None
    # Position in the parsed data: document index, container list key, index in that list.
    document: int
    list_key: str
    index: int


def find_image(text: str, container: str | None, source: str) -> ImageSlot:
    """Locate the image of `container` (default: the only container) of the Deployment in
    `text`; raise InputError saying why when there is no single such image."""
    return _locate(text, container, source)[0]


def _locate(text: str, container: str | None, source: str) -> tuple[ImageSlot, list[Any]]:
    """find_image, and the documents of `text` as plain data."""
    # Also rejects what the composer lets through (duplicate keys).
    documents = load_documents(text, source)
    index, deployment = _only_deployment(_compose(text, source), source)
    name = _deployment_name(deployment)
    pod_spec: Node | None = deployment
    for key in _POD_SPEC_PATH:
        pod_spec = _child(pod_spec, key)
    containers = {key: _containers(pod_spec, key) for key in _NAMED_LISTS}
    if not containers[_DEFAULT_LIST]:
        raise InputError(f"{source}: Deployment {name} has no spec.template.spec.containers list")
    list_key, position, node = _select(containers, container, name, source)
    container_name = _scalar(_child(node, "name")) or f"#{position}"
    image = _child(node, "image")
    if not isinstance(image, ScalarNode):
        raise InputError(f"{source}: container {container_name!r} has no image field")
    if image.value == "":
        raise InputError(f"{source}: container {container_name!r} has an empty image field")
    if image.style in ("|", ">"):
        raise InputError(
            f"{source}: the image of container {container_name!r} is a block scalar; "
            "write it on one line"
        )
    if image.anchor is not None:
        # Rewriting an anchored value would silently change every alias of it as well.
        raise InputError(
            f"{source}: the image of container {container_name!r} is a YAML anchor or alias; "
            "write the value in place"
        )
    slot = ImageSlot(
        container=container_name,
        current=str(image.value),
        start=image.start_mark.index,
        end=image.end_mark.index,
        style=image.style,
        document=index,
        list_key=list_key,
        index=position,
    )
    return slot, documents


def set_image(text: str, image: ImageRef, container: str | None, source: str) -> str:
    """Return `text` with the container's image set to `image` (the same text if it already
    is); everything outside that one scalar is kept byte for byte."""
    slot, expected = _locate(text, container, source)
    wanted = str(image)
    if slot.current == wanted:
        return text
    pod_spec = expected[slot.document]
    for key in _POD_SPEC_PATH:
        pod_spec = pod_spec[key]
    pod_spec[slot.list_key][slot.index]["image"] = wanted
    for rendering in _renderings(slot.style, wanted):
        candidate = text[: slot.start] + rendering + text[slot.end :]
        if _parses_to(candidate, expected):
            return candidate
    raise InputError(
        f"{source}: cannot rewrite the image of container {slot.container!r} in place; "
        "write it as a plain or quoted scalar on one line"
    )


def read_manifest(path: Path) -> str:
    """The manifest's text with its line endings as they are in the file."""
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            return handle.read()
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except UnicodeDecodeError as error:
        raise InputError(f"{path}: not UTF-8 text ({error.reason})") from None
    except OSError as error:
        raise InputError(f"{path}: cannot read: {error.strerror}") from None


def write_manifest(path: Path, text: str) -> None:
    """Replace the file atomically, keeping its permissions: a reader (or a crash) never sees
    half a manifest."""
    mode = path.stat().st_mode
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _compose(text: str, source: str) -> list[Node | None]:
    try:
        return list(YAML(typ="rt").compose_all(text))
    except YAMLError as error:
        raise InputError(f"{source}: not valid YAML: {_describe(error)}") from None


def load_documents(text: str, source: str) -> list[Any]:
    """The YAML documents of `text` as plain data."""
    try:
        return list(YAML(typ="safe", pure=True).load_all(text))
    except YAMLError as error:
        raise InputError(f"{source}: not valid YAML: {_describe(error)}") from None


def _parses_to(text: str, expected: list[Any]) -> bool:
    try:
        return load_documents(text, "") == expected
    except InputError:
        return False


def _describe(error: YAMLError) -> str:
    if isinstance(error, MarkedYAMLError) and error.problem_mark is not None:
        return f"{error.problem} (line {error.problem_mark.line + 1})"
    return str(error).splitlines()[0]


def _renderings(style: str | None, value: str) -> list[str]:
    """How to write `value` in place of a scalar of `style`, best first. A plain scalar stays
    plain unless the value would parse differently (e.g. `[` of an IPv6 registry)."""
    if style == "'":
        return [f"'{value}'", f'"{value}"']
    if style == '"':
        return [f'"{value}"']
    return [value, f'"{value}"']


def _only_deployment(documents: list[Node | None], source: str) -> tuple[int, MappingNode]:
    found = [
        (index, document)
        for index, document in enumerate(documents)
        if isinstance(document, MappingNode) and _scalar(_child(document, "kind")) == "Deployment"
    ]
    if len(found) == 1:
        return found[0]
    if found:
        names = ", ".join(_deployment_name(document) for _, document in found)
        raise InputError(f"{source}: holds {len(found)} Deployments ({names}); keep one per file")
    kinds = sorted(
        {
            _scalar(_child(document, "kind")) or "?"
            for document in documents
            if isinstance(document, MappingNode)
        }
    )
    found_kinds = f"found kind {', '.join(kinds)}" if kinds else "found no Kubernetes object"
    raise InputError(f"{source}: not a Deployment manifest ({found_kinds})")


def _deployment_name(deployment: Node) -> str:
    return _scalar(_child(_child(deployment, "metadata"), "name")) or "(unnamed)"


def _containers(pod_spec: Node | None, key: str) -> list[tuple[int, MappingNode]]:
    """The container mappings of list `key` with their positions in that list."""
    items = _child(pod_spec, key)
    if not isinstance(items, SequenceNode):
        return []
    return [
        (index, item) for index, item in enumerate(items.value) if isinstance(item, MappingNode)
    ]


def _select(
    containers: dict[str, list[tuple[int, MappingNode]]],
    wanted: str | None,
    deployment: str,
    source: str,
) -> tuple[str, int, MappingNode]:
    names = ", ".join(_scalar(_child(node, "name")) or "?" for _, node in containers[_DEFAULT_LIST])
    if wanted is None:
        candidates = containers[_DEFAULT_LIST]
        if len(candidates) > 1:
            raise InputError(
                f"{source}: Deployment {deployment} has {len(candidates)} containers ({names}); "
                "choose one with --container"
            )
        return (_DEFAULT_LIST, *candidates[0])
    for key, nodes in containers.items():
        for position, node in nodes:
            if _scalar(_child(node, "name")) == wanted:
                return key, position, node
    raise InputError(
        f"{source}: Deployment {deployment} has no container named {wanted!r} (containers: {names})"
    )


def _child(node: Node | None, key: str) -> Node | None:
    """The value under `key` of a mapping node, or None when there is none."""
    if not isinstance(node, MappingNode):
        return None
    for key_node, value_node in node.value:
        if isinstance(key_node, ScalarNode) and key_node.value == key:
            return value_node  # type: ignore[no-any-return]
    return None


def _scalar(node: Node | None) -> str | None:
    return str(node.value) if isinstance(node, ScalarNode) else None
