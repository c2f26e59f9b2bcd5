"""The rule engine: from parsed diff files (and, when available, their post-image text) to findings.

Pure: it reads nothing itself. The caller passes the post-image text of each file (or None) and
the AGENTS.md guidance; the engine decides what to analyse and reports only added lines.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from codex_review.diff import ChangedFile
from codex_review.guidelines import DEFAULT_POLICY, FilePolicy, Guidance, Guidelines
from codex_review.models import Finding, Severity
from legacy_review.languages import Language, language_for
from legacy_review.lexer import Views, scan
from legacy_review.rules import RULES_BY_LANGUAGE, SECRETS, Rule

MAX_CODE_CHARS = 300
REDACTED = "[REDACTED]"
_SUPPRESS = re.compile(r"codex-review:[ \t]*ignore(?:\[(?P<ids>[^\]\n]*)\])?", re.IGNORECASE)
_ALL_RULES: frozenset[str] = frozenset({"*"})
# ASCII only, unlike str.lower(), which can lengthen a string ("İ" becomes two characters) and
# so shift every later offset; the rules' needles are ASCII.
_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)
_SECRET_NEEDLES: tuple[str, ...] = tuple(
    needle for rule in SECRETS if not rule.ignore_case for needle in rule.needles
)
_SECRET_FOLDED_NEEDLES: tuple[str, ...] = tuple(
    needle for rule in SECRETS if rule.ignore_case for needle in rule.needles
)


def _fold(text: str) -> str:
    """`text` with ASCII letters lower-cased and every offset unchanged."""
    return text.translate(_ASCII_LOWER)


@dataclass(frozen=True)
class GuidelineGroup:
    """An AGENTS.md and the reviewed files it applies to."""

    guidelines: Guidelines
    files: tuple[str, ...]


def _counted(count: int, severity: Severity) -> str:
    plural = "s" if count != 1 and severity is not Severity.INFO else ""
    return f"{count} {severity.label}{plural}"


@dataclass(frozen=True)
class Review:
    """The outcome of a review: how many files were looked at, what was found, what applies."""

    files_reviewed: int
    findings: tuple[Finding, ...]
    guidelines: tuple[GuidelineGroup, ...] = ()

    def count(self, severity: Severity) -> int:
        return sum(1 for finding in self.findings if finding.severity is severity)

    @property
    def worst(self) -> Severity | None:
        return max((finding.severity for finding in self.findings), default=None)

    @property
    def summary(self) -> str:
        total = len(self.findings)
        counts = ", ".join(_counted(self.count(s), s) for s in sorted(Severity, reverse=True))
        noun = "issue" if total == 1 else "issues"
        return f"Code review completed with {total} {noun} found ({counts})"


def _segments(changed: ChangedFile, source: str | None) -> list[tuple[str, int]]:
    """Texts to analyse with the line number of their first line.

    The whole post-image file when it is given and agrees with every hunk (so a block comment
    opened above a hunk is known); otherwise each hunk's post-image lines on their own.
    """
    if source is not None:
        lines = source.split("\n")
        if all(
            lines[hunk.start - 1 : hunk.start - 1 + len(hunk.lines)] == list(hunk.lines)
            for hunk in changed.hunks
        ):
            return [(source, 1)]
    return [("\n".join(hunk.lines), hunk.start) for hunk in changed.hunks]


def _positions(text: str, needles: tuple[str, ...]) -> list[int]:
    found: list[int] = []
    find = text.find
    for needle in needles:
        position = find(needle)
        while position >= 0:
            found.append(position)
            position = find(needle, position + len(needle))
    found.sort()
    return found


def _candidate_lines(
    text: str, positions: list[int], first: int, wanted: frozenset[int]
) -> dict[int, tuple[int, int]]:
    """Added lines holding one of ``positions`` -> (start, end) offsets of the line in ``text``."""
    found: dict[int, tuple[int, int]] = {}
    line, last, line_end = first, 0, -1
    for position in positions:
        if position <= line_end:
            continue  # another needle on a line already looked at
        line += text.count("\n", last, position)
        last = position
        end = text.find("\n", position)
        line_end = len(text) if end < 0 else end
        if line in wanted:
            found[line] = (text.rfind("\n", 0, position) + 1, line_end)
    return found


def _suppressions(
    views: Views, folded: str, first: int, language: Language | None
) -> dict[int, frozenset[str]]:
    """Line -> rule ids silenced by a ``codex-review: ignore[...]`` comment (``*`` for all);
    `folded` is the source, case-folded."""
    silenced: dict[int, frozenset[str]] = {}
    text = views.source
    if "codex-review" not in folded:
        return silenced
    for match in _SUPPRESS.finditer(text):
        if language is not None and not views.in_comment(match.start()):
            continue
        line = first + text.count("\n", 0, match.start())
        ids = match.group("ids")
        rules = (
            frozenset(part.strip() for part in ids.split(",") if part.strip())
            if ids is not None
            else _ALL_RULES
        )
        silenced[line] = silenced.get(line, frozenset()) | rules
    return silenced


def _is_silenced(silenced: dict[int, frozenset[str]], line: int, rule: str) -> bool:
    for candidate in (line, line - 1):
        ids = silenced.get(candidate)
        if ids is not None and ("*" in ids or rule in ids):
            return True
    return False


def redact(line: str) -> str:
    """The line with every secret value any secret rule finds replaced by ``[REDACTED]``."""
    for rule in SECRETS:
        spans = [
            m.span("secret")
            for m in rule.regex.finditer(line)
            if m.end("secret") > m.start("secret")
        ]
        for start, end in reversed(spans):
            line = f"{line[:start]}{REDACTED}{line[end:]}"
    return line


def _might_hold_secret(line: str) -> bool:
    if any(needle in line for needle in _SECRET_NEEDLES):
        return True
    folded = _fold(line)
    return any(needle in folded for needle in _SECRET_FOLDED_NEEDLES)


def _code(line: str) -> str:
    # Every snippet is redacted, not only a secret rule's: an unwrap() on the line of a leaked
    # key must not print the key either.
    code = (redact(line) if _might_hold_secret(line) else line).strip()
    return code if len(code) <= MAX_CODE_CHARS else code[: MAX_CODE_CHARS - 1] + "\u2026"


def review_file(changed: ChangedFile, source: str | None, policy: FilePolicy) -> list[Finding]:
    """Findings on the added lines of one file, sorted by line and then rule-table order."""
    language = language_for(changed.path)
    table = RULES_BY_LANGUAGE.get(language.name, ()) if language is not None else ()
    rules = [rule for rule in (*table, *SECRETS) if policy.enabled(rule)]
    wanted = frozenset(number for hunk in changed.hunks for number in hunk.added)
    findings: list[Finding] = []
    for text, first in _segments(changed, source):
        views = scan(text, language)
        folded = _fold(views.source)
        silenced = _suppressions(views, folded, first, language)
        hits: list[tuple[int, int, Rule, str]] = []
        for order, rule in enumerate(rules):
            view = views.source if rule.on_source else views.code
            positions = _positions(folded if rule.ignore_case else view, rule.needles)
            for line, (start, end) in _candidate_lines(view, positions, first, wanted).items():
                if not rule.regex.search(view, start, end):
                    continue
                if rule.requires_regex is not None or rule.unless_regex is not None:
                    uncommented = views.uncommented(start, end)
                    required, unless = rule.requires_regex, rule.unless_regex
                    if required is not None and not required.search(uncommented):
                        continue
                    if unless is not None and unless.search(uncommented):
                        continue
                if _is_silenced(silenced, line, rule.id):
                    continue
                hits.append((line, order, rule, views.source[start:end]))
        for line, _, rule, source_line in sorted(hits, key=lambda hit: (hit[0], hit[1])):
            findings.append(
                Finding(
                    policy.severity(rule),
                    rule.category,
                    rule.id,
                    changed.path,
                    line,
                    rule.message,
                    _code(source_line),
                )
            )
    return findings


def review(
    files: Sequence[ChangedFile],
    read_source: Callable[[str], str | None],
    guidance: Guidance,
) -> Review:
    """Review every changed file; skipped files (AGENTS.md ``Skip``) are not counted."""
    findings: list[Finding] = []
    groups: dict[str, tuple[Guidelines, list[str]]] = {}
    reviewed = 0
    for changed in files:
        guidelines = guidance.for_path(changed.path)
        policy = guidelines.policy_for(changed.path) if guidelines else DEFAULT_POLICY
        if policy.skipped:
            continue
        reviewed += 1
        if guidelines is not None:
            groups.setdefault(guidelines.path, (guidelines, []))[1].append(changed.path)
        findings.extend(review_file(changed, read_source(changed.path), policy))
    return Review(
        reviewed,
        tuple(findings),
        tuple(GuidelineGroup(g, tuple(paths)) for g, paths in groups.values()),
    )
