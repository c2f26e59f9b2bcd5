"""The rule engine: from parsed diff files (and, when available, their post-image text) to findings.

Pure: it reads nothing itself. The caller passes the post-image text of each file (or None),
the AGENTS.md guidance and any rules of the repository's own; the engine parses each text once
with tree-sitter (``syntax.py``), matches the rules on the syntax tree, and reports only added
lines. What it could not do (a file too large to parse, a file known only from the diff) is said
in ``Review.notes``.
"""

from __future__ import annotations

import re
import string
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from itertools import accumulate

from codex_review.diff import ChangedFile
from codex_review.guidelines import DEFAULT_POLICY, FilePolicy, Guidance, Guidelines
from codex_review.languages import Language, language_for
from codex_review.models import Finding, Severity
from codex_review.rules import RULES_BY_LANGUAGE, SECRETS, Rule
from codex_review.syntax import FileJob, Matcher, SegmentJob, SegmentResult
from codex_review.worker import Outcome, run_bounded

MAX_CODE_CHARS = 300
REDACTED = "[REDACTED]"
_SUPPRESS = re.compile(r"codex-review:[ \t]*ignore(?:\[(?P<ids>[^\]\n]*)\])?", re.IGNORECASE)
_ALL_RULES: frozenset[str] = frozenset({"*"})
# ASCII only, unlike str.lower(), which can lengthen a string ("İ" becomes two characters) and
# so shift every later offset; the rules' needles are ASCII.
_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)
# Every secret rule's needles, lower-cased, searched in the text as _fold() folds it (ASCII
# letters lower-cased): one search finds every line that can hold a secret (and a few more, as
# "AKIA" is found in any case there; each rule then checks its own needle and pattern), about
# four times faster than a case-insensitive search and half the work of two searches.
_SECRET_NEEDLE = re.compile(
    "|".join(sorted({re.escape(needle.lower()) for rule in SECRETS for needle in rule.needles}))
)


def _fold(text: str) -> str:
    """`text` with ASCII letters lower-cased and every offset unchanged, to look for the rules'
    ASCII needles in any case. str.lower() is 15 times faster than str.translate() on text that
    is not pure ASCII; where it keeps the length it maps each character to one, and the few
    non-ASCII letters it lowers into ASCII (the Kelvin sign) can only add a candidate."""
    lowered = text.lower()
    return lowered if len(lowered) == len(text) else text.translate(_ASCII_LOWER)


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
    notes: tuple[str, ...] = ()

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


def _segments(
    changed: ChangedFile, source: str | None
) -> tuple[list[tuple[str, list[str], int]], bool]:
    """Texts to analyse, each with its lines and the line number of its first line, and whether
    they are the whole post-image file.

    The whole file when it is given and agrees with every hunk (so a block comment opened above
    a hunk is known); otherwise each hunk's post-image lines, parsed on their own.
    """
    if source is not None:
        lines = source.split("\n")
        if all(
            lines[hunk.start - 1 : hunk.start - 1 + len(hunk.lines)] == list(hunk.lines)
            for hunk in changed.hunks
        ):
            return [(source, lines, 1)], True
    texts = [("\n".join(hunk.lines), hunk.start) for hunk in changed.hunks]
    return [(text, text.split("\n"), start) for text, start in texts], False


@dataclass(frozen=True)
class _Added:
    """The added lines of one text joined by newlines, so that one regular-expression search
    looks at all of them: ``rows`` are their rows in the text, ``starts`` their offsets here."""

    rows: list[int]
    text: str
    starts: list[int]

    @classmethod
    def of(cls, lines: Sequence[str], rows: list[int]) -> _Added:
        added = [lines[row] for row in rows]
        starts = list(accumulate([len(line) + 1 for line in added], initial=0))
        return cls(rows, "\n".join(added), starts[:-1])

    @cached_property
    def folded(self) -> str:
        return _fold(self.text)

    def rows_where(self, regex: re.Pattern[str], *, folded: bool = False) -> list[int]:
        """The rows on which a match of ``regex`` ends, each once, in order; with ``folded``, a
        match in the text as _fold() folds it."""
        found: dict[int, None] = {}
        rows, starts = self.rows, self.starts
        for match in regex.finditer(self.folded if folded else self.text):
            start, end = match.span()
            found[rows[bisect_right(starts, end - 1 if end > start else start) - 1]] = None
        return list(found)


def _has_needle(rule: Rule, text: str, folded: str) -> bool:
    if not rule.needles:
        return True
    haystack = folded if rule.ignore_case else text
    return any(needle in haystack for needle in rule.needles)


def candidate_rows(rule: Rule, text: str, folded: str, added: _Added) -> list[int]:
    """The added rows on which the rule can have a finding: none without a needle in the text,
    else those whose line matches the rule's ``line`` (all of them without one). A finding is
    never on another row (see rules.py); the tests check it against the full engine."""
    if not _has_needle(rule, text, folded):
        return []
    if rule.line_regex is None:
        return added.rows
    return added.rows_where(rule.line_regex)


# What may stand before a marker on its line when the comment is the line's only content: the
# comment openers of the reviewed languages, and the ` * ` of a block comment's inner lines.
_COMMENT_OPENERS = " \t#/*-;!<"


def _markers(text: str) -> list[tuple[int, int, frozenset[str], int]]:
    """(row, byte column, rule ids, row silenced) of every ``codex-review: ignore[...]`` marker
    in the text (``*`` for all rules): a trailing comment silences its own row, a comment on a
    line of its own the next. Whether each lies in a comment is the tree's to say."""
    markers: list[tuple[int, int, frozenset[str], int]] = []
    for match in _SUPPRESS.finditer(text):
        row = text.count("\n", 0, match.start())
        line_start = text.rfind("\n", 0, match.start()) + 1
        before = text[line_start : match.start()]
        column = len(before.encode("utf-8", "surrogatepass"))
        ids = match.group("ids")
        rules = (
            frozenset(part.strip() for part in ids.split(",") if part.strip())
            if ids is not None
            else _ALL_RULES
        )
        markers.append((row, column, rules, row + 1 if not before.strip(_COMMENT_OPENERS) else row))
    return markers


def _suppressions(
    markers: Sequence[tuple[int, int, frozenset[str], int]], in_comment: Sequence[bool] | None
) -> dict[int, frozenset[str]]:
    """Row -> rule ids silenced by the markers that lie in a comment; without a tree (no
    language, or the file could not be parsed) every marker counts."""
    silenced: dict[int, frozenset[str]] = {}
    for index, (_row, _column, rules, target) in enumerate(markers):
        if in_comment is not None and not in_comment[index]:
            continue
        silenced[target] = silenced.get(target, frozenset()) | rules
    return silenced


def _is_silenced(silenced: Mapping[int, frozenset[str]], row: int, rule: str) -> bool:
    ids = silenced.get(row)
    return ids is not None and ("*" in ids or rule in ids)


def redact(line: str) -> str:
    """The line with every secret value any secret rule finds replaced by ``[REDACTED]``."""
    for rule in SECRETS:
        if rule.regex is None:
            continue
        spans = [
            m.span("secret")
            for m in rule.regex.finditer(line)
            if m.end("secret") > m.start("secret")
        ]
        for start, end in reversed(spans):
            line = f"{line[:start]}{REDACTED}{line[end:]}"
    return line


def _might_hold_secret(line: str) -> bool:
    return _SECRET_NEEDLE.search(_fold(line)) is not None


def _code(line: str) -> str:
    # Every snippet is redacted, not only a secret rule's: an unwrap() on the line of a leaked
    # key must not print the key either.
    code = (redact(line) if _might_hold_secret(line) else line).strip()
    return code if len(code) <= MAX_CODE_CHARS else code[: MAX_CODE_CHARS - 1] + "\u2026"


@dataclass
class _FileReview:
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _secret_hits(
    rules: Sequence[Rule], lines: Sequence[str], added: _Added
) -> list[tuple[int, Rule]]:
    hits: list[tuple[int, Rule]] = []
    if not rules:
        return hits
    # Only rows holding a needle can hold a secret; a needle never spans a newline.
    for row in added.rows_where(_SECRET_NEEDLE, folded=True):
        line = lines[row]
        folded = _fold(line)
        for rule in rules:
            if not _has_needle(rule, line, folded):
                continue
            if rule.regex is not None and rule.regex.search(line):
                hits.append((row, rule))
    return hits


@lru_cache(maxsize=1024)
def _matcher(rule: Rule, language: str) -> Matcher:
    return Matcher(rule.queries[language], rule.unless.get(language), rule.mentions, rule.keyword)


@dataclass
class _Segment:
    """One text of a file as the review plans it: the secret hits on its added lines, the
    syntax rules that can have a finding there (with their rows), its suppression markers, and
    the job for the worker when the tree is needed."""

    text: str
    lines: list[str]
    first: int
    hits: list[tuple[int, Rule]]
    candidates: list[tuple[Rule, list[int]]]
    markers: list[tuple[int, int, frozenset[str], int]]
    job: SegmentJob | None


def _plan_segment(
    text: str,
    lines: list[str],
    first: int,
    wanted: Sequence[int],
    *,
    language: Language | None,
    rules: Sequence[Rule],
    secrets: Sequence[Rule],
    whole: bool,
) -> _Segment | None:
    """The plan for one text (``lines`` is the text split at newlines; ``wanted`` the sorted
    numbers of the added lines); None when it has no added line."""
    start, end = bisect_left(wanted, first), bisect_left(wanted, first + len(lines))
    rows = [number - first for number in wanted[start:end]]
    if not rows:
        return None
    added = _Added.of(lines, rows)
    hits = _secret_hits(secrets, lines, added)
    folded = _fold(text)
    candidates = [
        (rule, rule_rows)
        for rule in rules
        if (rule_rows := candidate_rows(rule, text, folded, added))
    ]
    markers = _markers(text) if "codex-review" in folded else []
    job = None
    if language is not None and (candidates or (hits and markers)):
        job = SegmentJob(
            text.encode("utf-8", "surrogatepass"),
            whole,
            tuple((_matcher(rule, language.name), tuple(r)) for rule, r in candidates),
            tuple((row, column) for row, column, _, _ in markers),
        )
    return _Segment(text, lines, first, hits, candidates, markers, job)


def _unsilenced(segment: _Segment, result: SegmentResult | None) -> list[tuple[int, Rule]]:
    """(row, rule) of every hit of the segment, secret and syntax, that no marker silences;
    ``result`` is the worker's for the segment (None when it was not parsed)."""
    hits = list(segment.hits)
    flags: Sequence[bool] | None = None
    if result is not None and not result.reason:
        hits.extend((row, segment.candidates[index][0]) for row, index in result.hits)
        flags = result.in_comment
    if not hits:
        return []
    silenced = _suppressions(segment.markers, flags) if segment.markers else {}
    return [(row, rule) for row, rule in hits if not _is_silenced(silenced, row, rule.id)]


def _rules_for(
    language: Language | None, policy: FilePolicy, extra: Sequence[Rule]
) -> tuple[list[Rule], list[Rule]]:
    """The enabled syntax rules for the language (built-in, then the repository's) and the
    enabled secret rules."""
    if language is None:
        syntax: list[Rule] = []
    else:
        table = (*RULES_BY_LANGUAGE.get(language.name, ()), *extra)
        syntax = [r for r in table if language.name in r.queries and policy.enabled(r)]
    return syntax, [rule for rule in SECRETS if policy.enabled(rule)]


@dataclass
class _FilePlan:
    """A file as the review plans it: its texts, the policy and rule order that grade its hits,
    the notes so far, and the job for the worker when some text needs its tree."""

    changed: ChangedFile
    policy: FilePolicy
    order: dict[str, int]
    segments: list[_Segment]
    notes: list[str]
    job: FileJob | None


def _plan_file(
    changed: ChangedFile, source: str | None, policy: FilePolicy, extra: Sequence[Rule]
) -> _FilePlan:
    language = language_for(changed.path)
    syntax, secrets = _rules_for(language, policy, extra)
    order = {rule.id: index for index, rule in enumerate((*syntax, *secrets))}
    wanted = sorted({number for hunk in changed.hunks for number in hunk.added})
    notes: list[str] = []
    texts, whole = _segments(changed, source)
    if language is not None and syntax and not whole:
        notes.append(
            f"{changed.path}: reviewed from the diff alone (no matching post-image file): "
            "each hunk was parsed on its own"
        )
    segments = [
        segment
        for text, lines, first in texts
        if (
            segment := _plan_segment(
                text, lines, first, wanted,
                language=language, rules=syntax, secrets=secrets, whole=whole,
            )
        )
        is not None
    ]  # fmt: skip
    jobs = tuple(segment.job for segment in segments if segment.job is not None)
    job = FileJob(language.name, jobs) if language is not None and jobs else None
    return _FilePlan(changed, policy, order, segments, notes, job)


def _finish(plan: _FilePlan, outcome: Outcome[tuple[SegmentResult, ...]] | None) -> _FileReview:
    """The findings and notes of a planned file, given the worker's outcome for its job."""
    result = _FileReview(notes=list(plan.notes))
    results: list[SegmentResult | None] = [None] * len(plan.segments)
    if outcome is not None and outcome.results is None:
        result.notes.append(f"{plan.changed.path}: {outcome.reason}; only secret rules ran")
    elif outcome is not None and outcome.results is not None:
        done = iter(outcome.results)
        results = [next(done) if segment.job is not None else None for segment in plan.segments]
        result.notes.extend(
            f"{plan.changed.path}: {parsed.reason}; only secret rules ran"
            for parsed in results
            if parsed is not None and parsed.reason
        )
    for segment, parsed in zip(plan.segments, results, strict=True):
        hits = sorted(_unsilenced(segment, parsed), key=lambda hit: (hit[0], plan.order[hit[1].id]))
        result.findings.extend(
            Finding(
                plan.policy.severity(rule),
                rule.category,
                rule.id,
                plan.changed.path,
                segment.first + row,
                rule.message,
                _code(segment.lines[row]),
            )
            for row, rule in hits
        )
    return result


# The files of a review are planned and their syntax jobs sent to the worker in batches of
# about this many bytes of text: one message for many files, and a bound on what is held.
_BATCH_BYTES = 16 * 1024 * 1024


def _review_all(
    files: Sequence[tuple[ChangedFile, str | None, FilePolicy]], extra: Sequence[Rule]
) -> list[_FileReview]:
    """Each file's review, in order: the syntax jobs of many files run as one batch."""
    reviews: list[_FileReview] = []
    pending: list[_FilePlan] = []
    size = 0

    def flush() -> None:
        jobs = [plan.job for plan in pending if plan.job is not None]
        outcomes = iter(run_bounded(jobs)) if jobs else iter(())
        reviews.extend(
            _finish(plan, next(outcomes) if plan.job is not None else None) for plan in pending
        )
        pending.clear()

    for changed, source, policy in files:
        plan = _plan_file(changed, source, policy, extra)
        pending.append(plan)
        if plan.job is not None:
            size += sum(len(segment.data) for segment in plan.job.segments)
        if size >= _BATCH_BYTES:
            flush()
            size = 0
    flush()
    return reviews


def review_file(
    changed: ChangedFile,
    source: str | None,
    policy: FilePolicy,
    extra_rules: Sequence[Rule] = (),
) -> list[Finding]:
    """Findings on the added lines of one file, sorted by line and then rule-table order."""
    return _review_all([(changed, source, policy)], extra_rules)[0].findings


def review(
    files: Sequence[ChangedFile],
    read_source: Callable[[str], str | None],
    guidance: Guidance,
    extra_rules: Sequence[Rule] = (),
    notes: Sequence[str] = (),
) -> Review:
    """Review every changed file; skipped files (AGENTS.md ``Skip``) are not counted.

    ``extra_rules`` are the repository's own rules; ``notes`` (problems found while loading
    them) are passed on to the report."""
    groups: dict[str, tuple[Guidelines, list[str]]] = {}
    reviewed: list[tuple[ChangedFile, str | None, FilePolicy]] = []
    for changed in files:
        guidelines = guidance.for_path(changed.path)
        policy = guidelines.policy_for(changed.path) if guidelines else DEFAULT_POLICY
        if policy.skipped:
            continue
        if guidelines is not None:
            groups.setdefault(guidelines.path, (guidelines, []))[1].append(changed.path)
        reviewed.append((changed, read_source(changed.path), policy))
    results = _review_all(reviewed, extra_rules)
    return Review(
        len(reviewed),
        tuple(finding for result in results for finding in result.findings),
        tuple(GuidelineGroup(g, tuple(paths)) for g, paths in groups.values()),
        (*notes, *(note for result in results for note in result.notes)),
    )
