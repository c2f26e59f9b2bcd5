"""Read a unified diff (as `git diff` writes it) into the post-image view the rules need.

Parsing is unidiff's; this module only decides what a review looks at: the full new path of
each file, its hunks as runs of post-image lines, and which of those lines were added.
Deleted, binary, mode-only and pure-rename entries have nothing to review and are dropped.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from typing import Any

from unidiff import PatchSet  # type: ignore[import-untyped]  # unidiff ships no type hints
from unidiff.errors import UnidiffParseError  # type: ignore[import-untyped]

_ADDED = "+"
_CONTEXT = " "
_POST_IMAGE = (_ADDED, _CONTEXT)
_OCTAL_ESCAPE = re.compile(rb"\\([0-7]{3}|.)")
_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"')
_SIMPLE_ESCAPES = {b"n": b"\n", b"t": b"\t", b'"': b'"', b"\\": b"\\", b"a": b"\a", b"b": b"\b"}


class DiffError(ValueError):
    """The input cannot be read as a unified diff."""


@dataclass(frozen=True, slots=True)
class Hunk:
    """A contiguous run of post-image lines (context and added), starting at line ``start``."""

    start: int
    lines: tuple[str, ...]
    added: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class ChangedFile:
    """A file with added lines: its repository-relative path after the change, and its hunks."""

    path: str
    hunks: tuple[Hunk, ...]

    def added_lines(self) -> dict[int, str]:
        """Post-image line number -> text of every added line."""
        found: dict[int, str] = {}
        for hunk in self.hunks:
            for number in hunk.added:
                found[number] = hunk.lines[number - hunk.start]
        return found


def _unescape(match: re.Match[bytes]) -> bytes:
    escape = match.group(1)
    if len(escape) == 3:
        return bytes([int(escape, 8)])
    return _SIMPLE_ESCAPES.get(escape, escape)


def _unquote(quoted: re.Match[str]) -> str:
    raw = _OCTAL_ESCAPE.sub(_unescape, quoted.group(1).encode("utf-8", "surrogateescape"))
    return raw.decode("utf-8", errors="replace")


def _unquote_headers(text: str) -> str:
    """Rewrite git's C-quoted file names (``"b/donn\\303\\251es.py"``) in file headers.

    git quotes names with non-ASCII bytes, quotes or control characters; unidiff does not read
    that form. Only header lines (between ``diff --git`` and the first ``@@``) are touched, so
    hunk content is never altered.
    """
    if '"' not in text:
        return text
    lines = text.split("\n")
    in_header = False
    for index, line in enumerate(lines):
        if line.startswith("diff --git "):
            in_header = True
        elif line.startswith("@@"):
            in_header = False
        if in_header and '"' in line:
            lines[index] = _QUOTED.sub(_unquote, line)
    return "\n".join(lines)


def _clean_path(name: str) -> str:
    """``b/src/main.rs`` -> ``src/main.rs``."""
    return name[2:] if name.startswith(("b/", "a/")) else name


def _hunk(source: Any) -> Hunk | None:
    # Comprehensions rather than one loop: this runs once per diff line and dominates parsing.
    post = [line for line in source if line.line_type in _POST_IMAGE]
    start: int = source.target_start
    added = tuple(start + index for index, line in enumerate(post) if line.line_type == _ADDED)
    if not added:
        return None
    values: list[str] = [line.value for line in post]
    lines = tuple(value[:-1] if value[-1:] == "\n" else value for value in values)
    return Hunk(start, lines, added)


def as_text(data: bytes) -> str | None:
    """Bytes as text: invalid UTF-8 becomes U+FFFD, CRLF becomes LF; None for binary (NUL)."""
    if b"\x00" in data:
        return None
    return data.decode("utf-8", errors="replace").replace("\r\n", "\n")


def decode(data: bytes) -> str:
    """Diff bytes as text (see as_text); binary is refused."""
    text = as_text(data)
    if text is None:
        raise DiffError("input contains NUL bytes: it is binary, not a unified diff")
    return text


def parse_diff(data: bytes) -> list[ChangedFile]:
    """The files of a unified diff that have added lines; an empty input is an empty list."""
    text = decode(data)
    if not text.strip():
        return []
    if 'diff --git "' in text or '\n+++ "' in text:
        text = _unquote_headers(text)
    try:
        patch = PatchSet(io.StringIO(text))
    except UnidiffParseError as error:
        raise DiffError(f"malformed unified diff: {error}") from error
    if not patch:
        raise DiffError("input is not a unified diff (no file header such as '--- a/x' found)")
    files: list[ChangedFile] = []
    for entry in patch:
        if entry.is_binary_file or entry.target_file in (None, "/dev/null"):
            continue
        hunks = tuple(h for h in (_hunk(hunk) for hunk in entry) if h is not None)
        if hunks:
            files.append(ChangedFile(_clean_path(entry.target_file), hunks))
    return files
