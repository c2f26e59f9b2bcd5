"""Container image references (`[registry/]path[:tag][@digest]`), validated before they reach a
manifest.

The grammar is the one of the distribution project's `reference` package, which container
runtimes and registries share; a reference that breaks it would only fail later, on the cluster,
as an ImagePullBackOff.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from argo_gitops.errors import InputError

# distribution/reference: path components are lower-case, joined by `.`, `_`, `__` or dashes.
_PATH_COMPONENT = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*")
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = re.compile(
    rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?"
)
_TAG = re.compile(r"[\w][\w.-]{0,127}", re.ASCII)
_DIGEST_ALGORITHM = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*")
# The OCI image spec fixes the encoding of its registered algorithms; others need >= 128 bits.
_DIGEST_HEX = {"sha256": re.compile(r"[a-f0-9]{64}"), "sha512": re.compile(r"[a-f0-9]{128}")}
_ANY_DIGEST_HEX = re.compile(r"[a-fA-F0-9]{32,}")
_NAME_MAX = 255
# The tag deploy.yml gives every build: `sha-` and the (abbreviated) commit it was built from.
_SOURCE_TAG = re.compile(r"sha-([0-9a-f]{7,40})")
_UNPINNED = "it needs a tag or a digest (a bare name means the mutable :latest)"


@dataclass(frozen=True)
class ImageRef:
    """A parsed image reference; at least one of `tag` and `digest` is set."""

    name: str
    tag: str | None
    digest: str | None

    def __str__(self) -> str:
        text = self.name
        if self.tag is not None:
            text += f":{self.tag}"
        if self.digest is not None:
            text += f"@{self.digest}"
        return text

    @property
    def label(self) -> str:
        """What a person calls this build: its tag, or its digest when it has no tag."""
        return self.tag if self.tag is not None else str(self.digest)

    @property
    def source_commit(self) -> str | None:
        """The commit (hex prefix) named by a `sha-<hex>` tag, or None for any other tag."""
        match = _SOURCE_TAG.fullmatch(self.tag or "")
        return match.group(1) if match else None


def parse_image_ref(text: str) -> ImageRef:
    """Parse and validate `text`; raise InputError naming what is wrong with it."""
    remainder, _, digest = text.partition("@")
    slash = remainder.rfind("/")
    colon = remainder.rfind(":")
    # A colon before the last slash belongs to a registry port, not to a tag.
    if colon > slash:
        name, tag = remainder[:colon], remainder[colon + 1 :]
    else:
        name, tag = remainder, None
    has_digest = "@" in text
    problems = [
        _name_problem(name),
        _tag_problem(tag) if tag is not None else "",
        _digest_problem(digest) if has_digest else "",
        "" if tag is not None or has_digest else _UNPINNED,
    ]
    problem = next((problem for problem in problems if problem), None)
    if problem:
        raise InputError(f"malformed image reference {text!r}: {problem}")
    return ImageRef(name=name, tag=tag, digest=digest if has_digest else None)


def _name_problem(name: str) -> str:
    if not name:
        return "the repository name is empty"
    if len(name) > _NAME_MAX:
        return f"the repository name is longer than {_NAME_MAX} characters"
    components = name.split("/")
    # As in `docker pull`: the first component is a registry only if it looks like a host.
    first = components[0]
    if len(components) > 1 and ("." in first or ":" in first or first == "localhost"):
        if not _DOMAIN.fullmatch(first):
            return f"{first!r} is not a valid registry host[:port]"
        components = components[1:]
    for component in components:
        if not _PATH_COMPONENT.fullmatch(component):
            return (
                f"repository path component {component!r} must be lower-case letters and digits, "
                "separated by '.', '_', '__' or '-'"
            )
    return ""


def _tag_problem(tag: str) -> str:
    if _TAG.fullmatch(tag):
        return ""
    return f"tag {tag!r} must be 1-128 of [A-Za-z0-9_.-], not starting with '.' or '-'"


def _digest_problem(digest: str) -> str:
    algorithm, colon, hex_part = digest.partition(":")
    if not colon or not _DIGEST_ALGORITHM.fullmatch(algorithm):
        return f"digest {digest!r} must look like sha256:<64 hex digits>"
    pattern = _DIGEST_HEX.get(algorithm, _ANY_DIGEST_HEX)
    if not pattern.fullmatch(hex_part):
        return f"digest {digest!r} has a malformed {algorithm} value"
    return ""
