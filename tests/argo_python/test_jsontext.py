"""The service's compact JSON writer says exactly what json.dumps says, for every kind of value."""

from __future__ import annotations

import enum
import json
import subprocess
import sys

import pytest

from argo_python.jsontext import dumps


class Level(enum.IntEnum):
    HIGH = 3


class Text(str):
    pass


VALUES = [
    pytest.param({}, id="empty-object"),
    pytest.param({"message": "Hello from argo-python!"}, id="greeting"),
    pytest.param({"a": 'quote " backslash \\ newline \n tab \t'}, id="escapes"),
    pytest.param({"ünïcode": "日本 \u2028 \U0001f600 \x00 \x7f"}, id="non-ascii"),
    pytest.param(
        {"i": 0, "neg": -7, "big": 10**40, "b": True, "f": False, "n": None}, id="scalars"
    ),
    pytest.param({"f": 0.1, "e": 1e-7, "g": 1e22, "neg": -0.0, "third": 1 / 3}, id="floats"),
    pytest.param({"nan": float("nan")}, id="nan"),
    pytest.param({"inf": float("inf"), "ninf": float("-inf")}, id="infinities"),
    pytest.param({"nested": {"a": [1, 2, {"b": None}]}}, id="nested"),
    pytest.param({"enum": Level.HIGH, "sub": Text("x")}, id="subclasses"),
    pytest.param({1: "int key"}, id="non-string-key"),
    pytest.param("a string", id="bare-string"),
    pytest.param(12.5, id="bare-float"),
    pytest.param([1, "two"], id="list"),
]


@pytest.mark.parametrize("value", VALUES)
def test_text_is_what_json_dumps_writes(value: object) -> None:
    assert dumps(value) == json.dumps(value, separators=(",", ":"))


@pytest.mark.parametrize(
    "value",
    [
        pytest.param({"path": b"/x", "when": object}, id="unserialisable-in-object"),
        pytest.param({"set": {1}}, id="set"),
        pytest.param(b"bytes", id="bare-bytes"),
    ],
)
def test_a_default_is_applied_as_json_dumps_applies_it(value: object) -> None:
    assert dumps(value, default=str) == json.dumps(value, default=str, separators=(",", ":"))


def test_a_value_json_cannot_hold_fails_as_in_json_dumps() -> None:
    with pytest.raises(TypeError):
        json.dumps({"b": b"x"})
    with pytest.raises(TypeError):
        dumps({"b": b"x"})


def test_the_service_starts_without_importing_the_json_package() -> None:
    code = (
        "import sys, argo_python.__main__, argo_python.server, argo_python.app; "
        "from argo_python import logs, app; from argo_python.config import Settings; "
        "logs.configure('info'); app.App(Settings()); "
        "print(sorted(m for m in sys.modules if m == 'json' or m.startswith('json.')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
