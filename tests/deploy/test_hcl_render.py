"""The renderer the ownership tests rely on: evaluates what tofu/ uses, refuses the rest."""

from __future__ import annotations

from typing import Any

import hcl2
import pytest

from .hcl_render import UnsupportedExpressionError, evaluate, render_block
from .support import HCL_OPTIONS

SCOPE: dict[str, Any] = {
    "each": {"key": "svc", "value": {"port": 8080, "on": True, "none": None, "env": {"B": "2"}}},
    "local": {"labels": {"svc": {"app": "svc"}}},
}

EVALUATED = [
    ("each.key", "svc"),
    ("each.value.port", 8080),
    ("local.labels[each.key]", {"app": "svc"}),
    ('local.labels["svc"].app', "svc"),
    ("[each.value.port]", [8080]),
    ("[]", []),
    ("each.value.on ? [1] : []", [1]),
    ("each.value.none != null ? [each.value.none] : []", []),
    ("each.value.none == null ? 1 : 2", 1),
]


@pytest.mark.parametrize(("expression", "expected"), EVALUATED, ids=[e for e, _ in EVALUATED])
def test_expression_used_by_tofu_is_evaluated(expression: str, expected: object) -> None:
    assert evaluate(expression, SCOPE) == expected


@pytest.mark.parametrize(
    "expression",
    [
        "coalesce(each.value.none, 1)",
        "each.value.port + 1",
        "var.services",
        "each.value.port ? [1] : []",
        "[for k, v in each.value.env : k]",
    ],
    ids=["function", "arithmetic", "unknown-root", "non-bool-condition", "for-expression"],
)
def test_expression_outside_the_supported_forms_is_refused(expression: str) -> None:
    with pytest.raises(UnsupportedExpressionError):
        evaluate(expression, SCOPE)


def _block(text: str) -> dict[str, Any]:
    parsed: dict[str, Any] = hcl2.loads(text, serialization_options=HCL_OPTIONS)
    return parsed


def test_blocks_become_api_fields_and_dynamic_maps_iterate_in_key_order() -> None:
    body = _block(
        """
        container {
          name = each.key
          dynamic "env" {
            for_each = { Z = "1", A = "2" }
            content {
              name  = env.key
              value = env.value
            }
          }
          http_get {
            port = "8080"
          }
        }
        """
    )
    assert render_block(body, SCOPE) == {
        "containers": [
            {
                "name": "svc",
                "env": [{"name": "A", "value": "2"}, {"name": "Z", "value": "1"}],
                "httpGet": {"port": 8080},
            }
        ]
    }


def test_string_template_is_refused() -> None:
    body = _block('metadata {\n  name = "prefix-${each.key}"\n}\n')
    with pytest.raises(UnsupportedExpressionError):
        render_block(body, SCOPE)


def test_a_block_the_api_holds_once_written_twice_is_refused() -> None:
    body = _block('metadata {\n  name = "a"\n}\nmetadata {\n  name = "b"\n}\n')
    with pytest.raises(UnsupportedExpressionError, match="metadata block repeated"):
        render_block(body, SCOPE)
