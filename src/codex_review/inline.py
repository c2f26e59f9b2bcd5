"""The inline review: which findings get a comment on their changed line, which of the bot's
earlier comments are now fixed or moved, and what the review says.

Pure: GitHub's answers (the pull request's patches, the bot's earlier review comments) come in
as data. A comment goes only on a right-side line inside a hunk of GitHub's own diff, the only
lines GitHub accepts; anything else stays in the summary. Each comment carries a hidden key made
of the rule, the path and the line's code (not its number), so a finding is commented once
across pushes, and a finding whose line moved is recognised and follows it.
"""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from unidiff import PatchSet  # type: ignore[import-untyped]  # unidiff ships no type hints
from unidiff.errors import UnidiffParseError  # type: ignore[import-untyped]

from codex_review.comment import ICONS, code_span, escape_text
from codex_review.github import ReviewComment
from codex_review.models import Finding, Severity

REVIEW_MARKER = "<!-- codex-review:review -->"
_FINDING_MARKER = re.compile(r"<!-- codex-review:finding (?P<key>[0-9a-f]{16}) (?P<state>\w+) -->")
OPEN, FIXED, MOVED = "open", "fixed", "moved"


def commentable_lines(patch: str | None) -> frozenset[int]:
    """Right-side line numbers inside the hunks of one file's patch (as GitHub lists it)."""
    if not patch:
        return frozenset()
    try:
        parsed = PatchSet(io.StringIO(f"--- a/f\n+++ b/f\n{patch}\n"))
    except UnidiffParseError:
        return frozenset()
    return frozenset(
        line.target_line_no
        for entry in parsed
        for hunk in entry
        for line in hunk
        if not line.is_removed and line.target_line_no is not None
    )


def finding_key(finding: Finding, occurrence: int) -> str:
    """What identifies a finding across pushes: rule, path, the line's code, and which
    occurrence of that code it is - not the line number, which moves."""
    code = " ".join(finding.code.split())
    text = f"{finding.rule}\0{finding.file}\0{code}\0{occurrence}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def keyed(findings: Iterable[Finding]) -> list[tuple[Finding, str]]:
    seen: dict[tuple[str, str, str], int] = {}
    result: list[tuple[Finding, str]] = []
    for finding in sorted(findings, key=lambda f: (f.file, f.line, f.rule)):
        identity = (finding.rule, finding.file, " ".join(finding.code.split()))
        occurrence = seen.get(identity, 0)
        seen[identity] = occurrence + 1
        result.append((finding, finding_key(finding, occurrence)))
    return result


def marker(key: str, state: str) -> str:
    return f"<!-- codex-review:finding {key} {state} -->"


def parse_marker(body: str) -> tuple[str, str] | None:
    """(key, state) of a comment the bot wrote, or None."""
    found = _FINDING_MARKER.search(body)
    return (found.group("key"), found.group("state")) if found else None


def comment_body(finding: Finding, key: str) -> str:
    """A review comment: severity, rule, message, code, and how to silence it."""
    lines = [
        f"{ICONS[finding.severity]} **{finding.severity.label.capitalize()}** · "
        f"{escape_text(finding.category)} · `{finding.rule}`",
        "",
        escape_text(finding.message),
    ]
    if finding.code:
        lines += ["", code_span(finding.code)]
    lines += [
        "",
        f"<sub>codex-review · silence with `codex-review: ignore[{finding.rule}]`</sub>",
        marker(key, OPEN),
    ]
    return "\n".join(lines)


def _strip_marker(body: str) -> str:
    return _FINDING_MARKER.sub("", body).strip()


def fixed_body(earlier: ReviewComment, key: str, head_sha: str) -> str:
    return (
        f"✅ **Fixed** in `{head_sha[:12]}`: codex-review no longer finds this.\n\n"
        f"<details><summary>Earlier comment</summary>\n\n{_strip_marker(earlier.body)}\n\n"
        f"</details>\n{marker(key, FIXED)}"
    )


def moved_body(earlier: ReviewComment, key: str, line: int) -> str:
    return (
        f"↪️ **Moved** to line {line}; the comment there replaces this one.\n\n"
        f"<details><summary>Earlier comment</summary>\n\n{_strip_marker(earlier.body)}\n\n"
        f"</details>\n{marker(key, MOVED)}"
    )


@dataclass(frozen=True)
class Plan:
    """What one push does to the inline review."""

    new: tuple[tuple[Finding, str], ...] = ()
    kept: int = 0
    outside: tuple[Finding, ...] = ()
    over_cap: tuple[Finding, ...] = ()
    fixed: tuple[tuple[ReviewComment, str], ...] = ()
    moved: tuple[tuple[ReviewComment, str, int], ...] = ()
    cap: int = 0
    errors: bool = field(default=False)

    @property
    def inline(self) -> int:
        """Findings that are (now or already) commented on their line."""
        return len(self.new) + self.kept

    def notes(self) -> list[str]:
        """Lines for the summary comment about what is not inline."""
        notes = []
        if self.inline:
            notes.append(f"💬 {self.inline} shown as review comments on their changed lines.")
        if self.outside:
            notes.append(
                f"📍 {len(self.outside)} on lines outside the pull request's diff: listed here "
                "and in the check run, not as review comments."
            )
        if self.over_cap:
            notes.append(
                f"✂️ {len(self.over_cap)} more not commented inline (at most {self.cap} per "
                "review): listed here and in the check run."
            )
        return notes

    def comments(self) -> list[dict[str, Any]]:
        """The review's ``comments``: line and side only, never the deprecated position."""
        return [
            {"path": f.file, "line": f.line, "side": "RIGHT", "body": comment_body(f, key)}
            for f, key in self.new
        ]

    def review_body(self, head_sha: str) -> str:
        count = len(self.new)
        lines = [
            REVIEW_MARKER,
            f"**🔍 Codex Code Review** — {count} new finding{'s' if count != 1 else ''} on the "
            f"changed lines of `{head_sha[:12]}`.",
        ]
        rest = len(self.outside) + len(self.over_cap)
        if rest:
            lines += ["", f"{rest} more are listed in the summary comment and the check run."]
        return "\n".join(lines)

    def event(self, request_changes: bool) -> str:
        return "REQUEST_CHANGES" if request_changes and self.errors else "COMMENT"


def plan_review(
    findings: Sequence[Finding],
    commentable: Mapping[str, frozenset[int]],
    earlier: Sequence[ReviewComment],
    cap: int,
) -> Plan:
    """Decide the push's inline comments from the findings, GitHub's commentable lines and the
    bot's earlier comments (already filtered to the bot's own)."""
    open_by_key: dict[str, list[ReviewComment]] = {}
    for comment in earlier:
        parsed = parse_marker(comment.body)
        if parsed is not None and parsed[1] == OPEN:
            open_by_key.setdefault(parsed[0], []).append(comment)
    current = keyed(findings)
    ordered = sorted(current, key=lambda item: (-item[0].severity, item[0].file, item[0].line))
    new: list[tuple[Finding, str]] = []
    moved: list[tuple[ReviewComment, str, int]] = []
    outside: list[Finding] = []
    over_cap: list[Finding] = []
    kept = 0
    for finding, key in ordered:
        if finding.line not in commentable.get(finding.file, frozenset()):
            outside.append(finding)
            continue
        comments = open_by_key.get(key, [])
        if any(c.path == finding.file and c.line == finding.line for c in comments):
            kept += 1
            continue
        if len(new) >= cap:
            over_cap.append(finding)
            continue
        new.append((finding, key))
        moved.extend((comment, key, finding.line) for comment in comments)
    current_keys = {key for _, key in current}
    fixed = tuple(
        (comment, key)
        for key, comments in open_by_key.items()
        if key not in current_keys
        for comment in comments
    )
    return Plan(
        tuple(new),
        kept,
        tuple(outside),
        tuple(over_cap),
        fixed,
        tuple(moved),
        cap,
        any(finding.severity is Severity.ERROR for finding in findings),
    )
