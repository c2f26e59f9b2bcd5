"""Read the repository's Dockerfile as instructions, for the values the tests compare against."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO / "Dockerfile"
_CONTINUATION = re.compile(r"\\\n")


@dataclass(frozen=True, slots=True)
class Instruction:
    keyword: str  # upper case: FROM, ARG, RUN, ...
    arguments: str


def instructions(text: str | None = None) -> list[Instruction]:
    """The Dockerfile's instructions in order, continuation lines joined, comments dropped."""
    source = DOCKERFILE.read_text() if text is None else text
    lines = [line for line in source.splitlines() if not line.lstrip().startswith("#")]
    joined = _CONTINUATION.sub(" ", "\n".join(lines))
    result = []
    for line in joined.splitlines():
        keyword, _, arguments = line.strip().partition(" ")
        if keyword:
            result.append(Instruction(keyword.upper(), " ".join(arguments.split())))
    return result


def arg_default(name: str, text: str | None = None) -> str:
    """The default value of `ARG name=value` (the first declaration)."""
    for instruction in instructions(text):
        key, _, value = instruction.arguments.partition("=")
        if instruction.keyword == "ARG" and key == name and value:
            return value
    raise LookupError(f"the Dockerfile declares no default for ARG {name}")
