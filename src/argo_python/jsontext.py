"""Compact JSON text, exactly as `json.dumps(value, separators=(",", ":"))` writes it, without
importing the `json` package for the flat objects the service writes at start-up and in every
log line.

The `json` package (its decoder, scanner and encoder modules) is about 2 ms of every start
(bench/RESULTS.md, "Start-up imports"); strings go through `_json.encode_basestring_ascii`, the
C function json.dumps itself uses for them, and numbers through the same `int.__repr__` and
`float.__repr__`. Anything else (nested values, NaN, subclasses, a `default` to call) is handed
to json.dumps, imported then: the text is the same either way, which the tests check.
"""

from __future__ import annotations

from _json import encode_basestring_ascii

TYPE_CHECKING = False  # typing only for the type checker: it is not imported at start-up
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

_INFINITY = float("inf")


def dumps(value: Any, default: Callable[[Any], Any] | None = None) -> str:
    """`value` as compact JSON; `default` as in json.dumps, for values JSON cannot hold."""
    if type(value) is dict:
        members = []
        for key, item in value.items():
            text = _scalar(item)
            if text is None or type(key) is not str:
                return _dumps(value, default)
            members.append(f"{encode_basestring_ascii(key)}:{text}")
        return "{" + ",".join(members) + "}"
    text = _scalar(value)
    return _dumps(value, default) if text is None else text


def _scalar(value: object) -> str | None:
    """The JSON text of a str, int, float, bool or None (exact types only), else None."""
    if type(value) is str:
        return encode_basestring_ascii(value)
    if type(value) is int:
        return int.__repr__(value)
    if type(value) is float and -_INFINITY < value < _INFINITY:  # NaN and infinities: json's
        return float.__repr__(value)
    if type(value) is bool:
        return "true" if value else "false"
    if value is None:
        return "null"
    return None


def _dumps(value: Any, default: Callable[[Any], Any] | None) -> str:
    import json  # noqa: PLC0415 - only for values the fast path does not write

    return json.dumps(value, default=default, separators=(",", ":"))
