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


def base_image(text: str | None = None) -> str:
    """The one image the Dockerfile's stages start from, as its FROM line names it.

    A FROM that names an earlier stage (`FROM base AS builder`) is not an image; the Dockerfile
    must name exactly one other (the shared base), or this raises LookupError.
    """
    stages: set[str] = set()
    images: list[str] = []
    for instruction in instructions(text):
        if instruction.keyword != "FROM":
            continue
        words = [w for w in instruction.arguments.split() if not w.startswith("--")]
        if words[0] not in stages and words[0] != "scratch":
            images.append(words[0])
        if len(words) == 3 and words[1].upper() == "AS":
            stages.add(words[2])
    if len(set(images)) != 1:
        raise LookupError(f"the Dockerfile must start from one base image, not {images}")
    return images[0]


def qualified(reference: str) -> str:
    """`reference` in full, as engines store it: Docker Hub and `library/` made explicit."""
    first, _, rest = reference.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        return reference
    return f"docker.io/{reference}" if rest else f"docker.io/library/{reference}"
