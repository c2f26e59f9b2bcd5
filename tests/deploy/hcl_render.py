"""Render a kubernetes-provider resource block of tofu/ into the object the provider sends.

OpenTofu cannot plan a kubernetes resource offline (the provider is not installable here), so
the tests turn the parsed HCL (python-hcl2) into the Kubernetes API object themselves: provider
block names become API field names (`container` -> `containers`, `http_get` -> `httpGet`) and
every `${...}` expression is evaluated against `each`, `var`, `local` and dynamic-block
iterators, whose values come from OpenTofu itself (see tofu_eval.py).

Only the expression forms tofu/ uses are understood: references such as
`each.value.probes.timeout` or `local.labels[each.key]`, a one-element tuple of a reference,
`[]`, and `COND ? A : B` whose condition is a reference or `REF != null`. Anything else raises
UnsupportedExpressionError, so that a change to tofu/ beyond this fails loudly instead of rendering
wrongly.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

# Provider blocks that are lists in the API, under the API's (plural) name.
LIST_BLOCKS = {
    "container": "containers",
    "port": "ports",
    "env": "env",
    "volume": "volumes",
    "volume_mount": "volumeMounts",
    "image_pull_secrets": "imagePullSecrets",
    "preferred_during_scheduling_ignored_during_execution": (
        "preferredDuringSchedulingIgnoredDuringExecution"
    ),
    "toleration": "tolerations",
    "topology_spread_constraint": "topologySpreadConstraints",
    "rule": "rules",
    "path": "paths",
}
# Blocks whose meaning depends on the enclosing block: (parent, block) -> a single object.
SINGLE_IN_PARENT = {("service", "port")}
# API fields typed IntOrString, which the provider takes as strings ("0", "8080").
INT_OR_STRING = {"maxSurge", "maxUnavailable", "port", "targetPort"}
# Arguments of the resource that configure the provider, not the object.
RESOURCE_ARGUMENTS = {"for_each", "depends_on", "wait_for_rollout", "lifecycle", "timeouts"}

_WHOLE_EXPRESSION = re.compile(r"\$\{(?P<expr>.*)\}", re.DOTALL)
_CONDITIONAL = re.compile(r"(?P<cond>[^?:]+?)\s*\?\s*(?P<then>[^?:]+?)\s*:\s*(?P<else>[^?:]+)")
_NULL_TEST = re.compile(r"(?P<ref>.+?)\s*(?P<op>!=|==)\s*null")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


class UnsupportedExpressionError(ValueError):
    """An expression in tofu/ outside the forms this renderer evaluates."""


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def evaluate(expression: str, scope: Mapping[str, Any]) -> Any:
    """Evaluate one HCL expression (the text inside `${}`) in `scope`."""
    text = expression.strip()
    conditional = _CONDITIONAL.fullmatch(text)
    if conditional:
        branch = "then" if _condition(conditional["cond"], scope) else "else"
        return evaluate(conditional[branch], scope)
    if text.startswith("[") and text.endswith("]"):
        inner = text[1:-1].strip()
        return [evaluate(inner, scope)] if inner else []
    literal = _literal(text)
    return _reference(text, scope) if literal is _NOT_A_LITERAL else literal


_NOT_A_LITERAL = object()
_KEYWORDS: dict[str, Any] = {"true": True, "false": False, "null": None}


def _literal(text: str) -> Any:
    if re.fullmatch(r"-?[0-9]+", text):
        return int(text)
    if text in _KEYWORDS:
        return _KEYWORDS[text]
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return text[1:-1]
    return _NOT_A_LITERAL


def _condition(text: str, scope: Mapping[str, Any]) -> bool:
    null_test = _NULL_TEST.fullmatch(text.strip())
    if null_test:
        is_null = evaluate(null_test["ref"], scope) is None
        return is_null if null_test["op"] == "==" else not is_null
    value = evaluate(text, scope)
    if not isinstance(value, bool):
        raise UnsupportedExpressionError(f"condition {text!r} is not a bool: {value!r}")
    return value


def _reference(text: str, scope: Mapping[str, Any]) -> Any:
    root = _IDENTIFIER.match(text)
    if root is None or root[0] not in scope:
        raise UnsupportedExpressionError(f"cannot evaluate {text!r}")
    value: Any = scope[root[0]]
    rest = text[root.end() :]
    while rest:
        if rest.startswith("."):
            name = _IDENTIFIER.match(rest, 1)
            if name is None:
                raise UnsupportedExpressionError(f"cannot evaluate {text!r}")
            value = value[name[0]]
            rest = rest[name.end() :]
        elif rest.startswith("["):
            end = _matching_bracket(rest)
            index = evaluate(rest[1:end], scope)
            value = value[index]
            rest = rest[end + 1 :]
        else:
            raise UnsupportedExpressionError(f"cannot evaluate {text!r}")
    return value


def _matching_bracket(text: str) -> int:
    depth = 0
    for position, char in enumerate(text):
        depth += {"[": 1, "]": -1}.get(char, 0)
        if depth == 0:
            return position
    raise UnsupportedExpressionError(f"unbalanced brackets in {text!r}")


def value_of(raw: Any, scope: Mapping[str, Any]) -> Any:
    """An attribute's value: literals as they are, `${...}` evaluated, maps and lists deeply."""
    if isinstance(raw, str):
        whole = _WHOLE_EXPRESSION.fullmatch(raw)
        if whole:
            return evaluate(whole["expr"], scope)
        if "${" in raw:
            raise UnsupportedExpressionError(f"string templates are not rendered: {raw!r}")
        return raw
    if isinstance(raw, list):
        return [value_of(item, scope) for item in raw]
    if isinstance(raw, dict):
        return {key: value_of(item, scope) for key, item in raw.items()}
    return raw


def render_block(
    block: Mapping[str, Any], scope: Mapping[str, Any], parent: str = ""
) -> dict[str, Any]:
    """Turn one provider block (python-hcl2 form) into the API object it stands for."""
    rendered: dict[str, Any] = {}
    expanded = dict(block)
    for dynamic in expanded.pop("dynamic", []):
        for name, spec in dynamic.items():
            blocks = _expand_dynamic(name, spec, scope)
            if blocks:  # no instance: the block is absent, as OpenTofu leaves it
                expanded[name] = [*expanded.get(name, []), *blocks]
    for name, raw in expanded.items():
        if name.startswith("__") or name in RESOURCE_ARGUMENTS:
            continue
        if _is_block_list(raw):
            blocks = [item if "__scope__" in item else {**item, "__scope__": scope} for item in raw]
            objects = [render_block(item, item["__scope__"], name) for item in blocks]
            if name in LIST_BLOCKS and (parent, name) not in SINGLE_IN_PARENT:
                rendered[LIST_BLOCKS[name]] = objects
            elif len(objects) > 1:
                # A block the API holds once, written twice: rendering one would hide the other.
                raise UnsupportedExpressionError(f"{name} block repeated in {parent or 'resource'}")
            elif objects:
                rendered[camel(name)] = objects[0]
            continue
        key = camel(name)
        value = value_of(raw, scope)
        if key in INT_OR_STRING and isinstance(value, str) and value.isdigit():
            value = int(value)
        rendered[key] = value
    return rendered


def _is_block_list(raw: Any) -> bool:
    return (
        isinstance(raw, list)
        and bool(raw)
        and all(isinstance(item, dict) and item.get("__is_block__") for item in raw)
    )


def _expand_dynamic(
    name: str, spec: Mapping[str, Any], scope: Mapping[str, Any]
) -> list[dict[str, Any]]:
    if "iterator" in spec:
        raise UnsupportedExpressionError(f"dynamic {name!r}: `iterator` is not rendered")
    items = value_of(spec["for_each"], scope)
    # OpenTofu iterates a map in lexical order of its keys, a list in its order.
    pairs = sorted(items.items()) if isinstance(items, dict) else list(enumerate(items))
    (content,) = spec["content"]
    return [
        {**content, "__scope__": {**scope, name: {"key": key, "value": value}}}
        for key, value in pairs
    ]


def render_resource(
    resource: Mapping[str, Any], scope: Mapping[str, Any], api_version: str, kind: str
) -> dict[str, Any]:
    """The Kubernetes object a `kubernetes_*_v1` resource creates for one `each` instance."""
    return {"apiVersion": api_version, "kind": kind, **render_block(resource, scope)}
