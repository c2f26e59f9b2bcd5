"""Blank comments and string literals while keeping every offset and line number in place.

A rule pattern runs over the *code* view, where comments and literals are spaces, so `unwrap()`
in a doc comment or `"eval("` in a message never fires. Rules that need the text of a literal
(a password in a format string) ask for a line with only its comments blanked. Every view has
exactly the length of the source, so a position means the same in all of them.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass

from legacy_review.languages import Language

_NOT_NEWLINE = re.compile(r"[^\n]")


def _blank(token: str) -> str:
    # Multi-line tokens keep their newlines so line numbers do not move.
    if "\n" not in token:
        return " " * len(token)
    return _NOT_NEWLINE.sub(" ", token)


@dataclass(frozen=True, slots=True)
class Views:
    """A text as written, its code-only view, and where its comments are."""

    source: str
    code: str
    comments: tuple[tuple[int, int], ...] = ()
    comment_starts: tuple[int, ...] = ()

    def _first_comment_after(self, position: int) -> int:
        return bisect_right(self.comment_starts, position)

    def in_comment(self, position: int) -> bool:
        """Whether the character at ``position`` belongs to a comment."""
        index = self._first_comment_after(position) - 1
        return index >= 0 and position < self.comments[index][1]

    def uncommented(self, start: int, end: int) -> str:
        """``source[start:end]`` with comments blanked and string literals kept."""
        text = self.source[start:end]
        if not self.comments:
            return text
        index = max(self._first_comment_after(start) - 1, 0)
        for comment_start, comment_end in self.comments[index:]:
            if comment_start >= end:
                break
            if comment_end <= start:
                continue
            left, right = max(comment_start, start) - start, min(comment_end, end) - start
            text = text[:left] + _blank(text[left:right]) + text[right:]
        return text


def scan(text: str, language: Language | None) -> Views:
    """The views of ``text``; without a language nothing is blanked."""
    if language is None:
        return Views(text, text)
    comments: list[tuple[int, int]] = []
    comment_starts = language.comment_starts

    def blank(token: re.Match[str]) -> str:
        value = token.group()
        if value.startswith(comment_starts):
            comments.append(token.span())
        return _blank(value)

    code = language.tokens.sub(blank, text)
    return Views(text, code, tuple(comments), tuple(start for start, _ in comments))
