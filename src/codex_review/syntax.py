"""The tree-sitter side of a review: parse a text once and match rules on it.

A text is parsed only when it is at most ``MAX_PARSE_BYTES`` long. Nothing here bounds the time
a parse takes (py-tree-sitter holds the GIL while it parses, and on some texts a single parse
step runs for most of a minute): ``worker.py`` runs this module's ``run_job`` in a worker
process and kills it past its deadline. Everything a job takes and returns is plain, picklable
data. Regions the grammar cannot parse become ERROR nodes; tree-sitter still builds every node
it can around and inside them, and rules match those nodes like any other (see
docs/review-rules.md).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import ClassVar

from tree_sitter import Node, Parser, Query, QueryCursor, QueryError, Tree

from codex_review.languages import BY_NAME, Language
from codex_review.rules import Keyword

MAX_PARSE_BYTES = 2 * 1024 * 1024
_MATCH = "match"
_ARGS = "args"


class RuleQueryError(ValueError):
    """A rule's tree-sitter query does not compile for a language."""


@dataclass(frozen=True)
class Parsed:
    """A parse tree, or why there is none (``tree`` None and ``reason`` set)."""

    tree: Tree | None
    reason: str = ""


def parse(data: bytes, language: Language) -> Parsed:
    """Parse ``data`` (UTF-8) with the language's grammar, within the size bound."""
    if len(data) > MAX_PARSE_BYTES:
        return Parsed(None, f"larger than {MAX_PARSE_BYTES // (1024 * 1024)} MiB, not parsed")
    return Parsed(_parser(language).parse(data))


@lru_cache(maxsize=32)
def _parser(language: Language) -> Parser:
    """One parser per language for the process: a parser is reusable from one text to the next."""
    return Parser(language.grammar)


# A hunk alone is often not a whole program: Go statements outside a function, PHP without
# `<?php`, an indented Python block. Each wrapper puts the hunk where the grammar expects such
# lines; the parse with the fewest rows in ERROR nodes wins. Every prefix ends with a newline,
# so a hunk row is the parsed row minus the prefix's line count, at the same column.
_WRAPPERS: dict[str, tuple[tuple[str, str], ...]] = {
    "rust": (("fn _f() {\n", "\n}"),),
    "go": (("package p\nfunc _() {\n", "\n}"),),
    "python": (("if True:\n", ""),),
    "java": (("class _C { void _m() {\n", "\n}}"), ("class _C {\n", "\n}")),
    "csharp": (("class _C { void _M() {\n", "\n}}"), ("class _C {\n", "\n}")),
    "c": (("void _f(void) {\n", "\n}"),),
    "cpp": (("void _f() {\n", "\n}"),),
    "php": (("<?php\n", ""), ("<?php\nfunction _f() {\n", "\n}")),
    "ruby": (("def _m\n", "\nend"),),
    "javascript": (("function _f() {\n", "\n}"),),
    "typescript": (("function _f() {\n", "\n}"),),
}


@dataclass(frozen=True)
class Fragment:
    """A hunk parsed on its own: the parse, and how many rows the wrapper put before it."""

    parsed: Parsed
    shift: int = 0


def parse_fragment(data: bytes, language: Language) -> Fragment:
    """Parse a hunk's post-image lines as they are or inside a wrapper, whichever parses best."""
    variants = [("", ""), *_WRAPPERS.get(language.name, ())]
    if language.name == "php" and b"<?" not in data:
        # Without an opening tag PHP text is inline HTML, which always parses cleanly.
        variants = variants[1:]
    best: tuple[tuple[int, int], Fragment] | None = None
    for prefix, suffix in variants:
        parsed = parse(prefix.encode() + data + suffix.encode(), language)
        if parsed.tree is None:
            return Fragment(parsed)  # too large: a wrapper would not help
        # A tree can have errors (missing tokens) without ERROR nodes: count both.
        score = (error_rows(parsed.tree, language), int(parsed.tree.root_node.has_error))
        if best is None or score < best[0]:
            best = (score, Fragment(parsed, prefix.count("\n")))
        if score == (0, 0):
            break
    return best[1] if best is not None else Fragment(Parsed(None, "no parse"))


def check_query(language: Language, query: str) -> None:
    """Raise RuleQueryError unless ``query`` compiles and every pattern captures ``@match``.

    Compiling can take seconds (tree-sitter analyses each pattern against the grammar): a rule
    file's queries are checked in the worker, under its time bound, as ``QueryCheck`` jobs."""
    try:
        compiled = _query(language, query)
    except QueryError as error:
        raise RuleQueryError(f"query does not compile for {language.name}: {error}") from None
    names = {compiled.capture_name(index) for index in range(compiled.capture_count)}
    if compiled.pattern_count == 0 or _MATCH not in names:
        raise RuleQueryError(f"query for {language.name} captures no @{_MATCH} node")


@dataclass(frozen=True)
class Matcher:
    """What of a rule runs on the tree of one language, as plain data: its query, the
    ``unless`` query that silences a match, the ``mentions`` regex its ``@args`` must match
    (comments left out), and the query as a ``Keyword`` where it is one. Equal matchers share
    their compiled queries."""

    query: str
    unless: str | None = None
    mentions: str | None = None
    keyword: Keyword | None = None


@dataclass(frozen=True)
class _Compiled:
    query: Query
    unless: Query | None
    mentions: re.Pattern[str] | None


@lru_cache(maxsize=512)
def _query(language: Language, source: str) -> Query:
    """A query compiled once per process: the worker that checked a rule file's query matches
    with the same compiled query."""
    return Query(language.grammar, source)


@lru_cache(maxsize=512)
def _compiled(language: Language, matcher: Matcher) -> _Compiled:
    """A rule's queries for a language, compiled the first time a file needs them: compiling
    takes 3-200 ms a rule, and most reviews need few of the rules."""
    return _Compiled(
        _query(language, matcher.query),
        _query(language, matcher.unless) if matcher.unless else None,
        re.compile(matcher.mentions) if matcher.mentions else None,
    )


def _text_without_comments(node: Node, comments: frozenset[str]) -> str:
    """The source text of ``node`` with its comment nodes left out."""
    if node.type in comments:
        return " "
    if node.child_count == 0:
        return (node.text or b"").decode("utf-8", errors="replace")
    return " ".join(_text_without_comments(child, comments) for child in node.children)


def _silenced_by_unless(unless: Query, tree: Tree, node: Node) -> bool:
    cursor = QueryCursor(unless)
    cursor.set_byte_range(node.start_byte, node.end_byte)
    return any(node in captures.get(_MATCH, ()) for _, captures in cursor.matches(tree.root_node))


# How many matches of one span are checked against the rule's ``unless`` one by one before one
# walk over the whole span decides the rest. A walk over one node's bytes is the cheapest check
# of a few matches, but it descends through the node's ancestors, and with each ancestor that
# the pattern could start on left open it costs about the square of the node's depth: one check
# per node of a line of 500 nested ``yaml.load(..., Loader=SafeLoader)`` calls took 21 s.
_NODE_CHECKS = 8


class _Silencer:
    """Whether the ``unless`` query silences a match on the rows ``first`` to ``last``."""

    def __init__(self, unless: Query, tree: Tree, first: int, last: int) -> None:
        self.unless, self.tree, self.first, self.last = unless, tree, first, last
        self.checks = 0
        self.silenced: frozenset[int] | None = None

    def __call__(self, node: Node) -> bool:
        if self.silenced is None and self.checks < _NODE_CHECKS:
            self.checks += 1
            return _silenced_by_unless(self.unless, self.tree, node)
        if self.silenced is None:
            cursor = QueryCursor(self.unless)
            cursor.set_point_range((self.first, 0), (self.last + 1, 0))
            self.silenced = frozenset(
                match.id
                for _, captures in cursor.matches(self.tree.root_node)
                for match in captures.get(_MATCH, ())
            )
        return node.id in self.silenced


# Rows of one rule at most this far apart are matched by one query walk over the rows between
# (and filtered): a walk costs about as much as descending to a row from the root some 10 times.
_GAP = 8


def _spans(rows: Sequence[int]) -> list[tuple[int, int]]:
    """Sorted rows as inclusive spans, joining rows at most ``_GAP`` apart."""
    spans: list[tuple[int, int]] = []
    for row in rows:
        if spans and row - spans[-1][1] <= _GAP:
            spans[-1] = (spans[-1][0], row)
        else:
            spans.append((row, row))
    return spans


def _keyword_at(tree: Tree, keyword: Keyword, row: int, line: bytes) -> bool:
    """Whether the keyword's text is, somewhere on the row, the keyword token in one of its
    parents (and fields)."""
    size = len(keyword.text)
    needle = keyword.text.encode()
    column = line.find(needle)
    while column >= 0:
        node = tree.root_node.descendant_for_point_range((row, column), (row, column + size))
        parent = node.parent if node is not None and node.type == keyword.text else None
        if node is not None and parent is not None and not node.is_named:
            for kind, field_name in keyword.parents:
                if parent.type == kind and (
                    field_name is None or parent.child_by_field_name(field_name) == node
                ):
                    return True
        column = line.find(needle, column + 1)
    return False


def match_rules(
    tree: Tree,
    language: Language,
    wanted: Sequence[tuple[Matcher, Sequence[int]]],
    lines: Sequence[bytes] = (),
) -> list[tuple[int, int]]:
    """(0-based row, index into ``wanted``) for every match of a matcher whose ``@match`` node
    starts on one of its (sorted) rows; each row and matcher once, in row and then index order.
    ``lines`` are the parsed text's lines, for the matchers that are a ``Keyword`` (without
    them, every matcher runs its query)."""
    found: dict[tuple[int, int], None] = {}
    for index, (matcher, rows) in enumerate(wanted):
        keyword = matcher.keyword
        if keyword is not None and lines and matcher.unless is None and matcher.mentions is None:
            found.update(
                ((row, index), None) for row in rows if _keyword_at(tree, keyword, row, lines[row])
            )
            continue
        compiled = _compiled(language, matcher)
        cursor = QueryCursor(compiled.query)
        allowed = frozenset(rows)
        with_args = compiled.mentions is not None
        ordered = compiled.unless is not None
        for first, last in _spans(rows):
            cursor.set_point_range((first, 0), (last + 1, 0))
            silenced = (
                _Silencer(compiled.unless, tree, first, last)
                if compiled.unless is not None
                else None
            )
            for node, captures in _matched_nodes(
                cursor, tree, with_args=with_args, ordered=ordered
            ):
                row = node.start_point.row
                if (
                    row in allowed
                    and (row, index) not in found
                    and _mentioned(compiled, language=language, node=node, captures=captures)
                    and (silenced is None or not silenced(node))
                ):
                    found[(row, index)] = None
    return sorted(found)


def _matched_nodes(
    cursor: QueryCursor, tree: Tree, *, with_args: bool, ordered: bool
) -> list[tuple[Node, dict[str, list[Node]]]]:
    """Every ``@match`` node of the cursor's walk, with the captures of its match when the rule
    needs its ``@args``; otherwise from one captures() call, which builds far fewer objects.

    With ``ordered``, in document order: captures() lists a capture's nodes in an order that
    changes from one call to the next on the same tree, and the first node of a row that is a
    finding ends the work on that row. When each node costs an ``unless`` walk, whose cost grows
    with the node's depth, document order tries a row's outermost node first, so the cost no
    longer depends on the luck of the order (see docs/review-rules.md)."""
    if with_args:
        return [
            (node, captures)
            for _, captures in cursor.matches(tree.root_node)
            for node in captures.get(_MATCH, ())
        ]
    nodes = cursor.captures(tree.root_node).get(_MATCH, [])
    if ordered:
        nodes = sorted(nodes, key=_start_byte)
    return [(node, {}) for node in nodes]


def _start_byte(node: Node) -> int:
    return node.start_byte


def _mentioned(
    compiled: _Compiled, *, language: Language, node: Node, captures: dict[str, list[Node]]
) -> bool:
    """Whether the text of the match's ``@args`` (comments left out) matches the rule's
    ``mentions``; True for a rule without one."""
    if compiled.mentions is None:
        return True
    arguments = captures.get(_ARGS, [node])
    text = " ".join(_text_without_comments(a, language.comments) for a in arguments)
    return compiled.mentions.search(text) is not None


def in_comment(tree: Tree, language: Language, row: int, column: int) -> bool:
    """Whether the byte at (``row``, ``column``) lies inside a comment node."""
    node: Node | None = tree.root_node.descendant_for_point_range((row, column), (row, column + 1))
    while node is not None:
        if node.type in language.comments:
            return True
        node = node.parent
    return False


def error_rows(tree: Tree, language: Language) -> int:
    """How many rows the tree's ERROR nodes span (0 when the text parsed cleanly)."""
    if not tree.root_node.has_error:
        return 0
    cursor = QueryCursor(_error_query(language))
    rows: set[int] = set()
    for node in cursor.captures(tree.root_node).get("error", ()):
        rows.update(range(node.start_point.row, node.end_point.row + 1))
    return len(rows)


@lru_cache(maxsize=32)
def _error_query(language: Language) -> Query:
    return Query(language.grammar, "(ERROR) @error")


# --- Jobs: a file's syntax work as plain data, for the worker process ----------------------------
@dataclass(frozen=True)
class SegmentJob:
    """One text to parse (the whole post-image file, or one hunk's lines parsed on its own) with
    the matchers to run and the (sorted) rows each may report, and the (row, byte column) of
    every suppression marker whose place (in a comment or not) the review needs to know."""

    data: bytes
    whole: bool
    wanted: tuple[tuple[Matcher, tuple[int, ...]], ...]
    markers: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True)
class SegmentResult:
    """A segment's hits as (row, index into ``wanted``) and, per marker, whether it lies in a
    comment; or, when the text could not be parsed, why (``reason``)."""

    hits: tuple[tuple[int, int], ...] = ()
    in_comment: tuple[bool, ...] = ()
    reason: str = ""


@dataclass(frozen=True)
class FileJob:
    """The syntax work of one file: its language (by name) and its segments."""

    language: str
    segments: tuple[SegmentJob, ...]
    work: ClassVar[str] = "parsing"

    def run(self) -> tuple[SegmentResult, ...]:
        return run_job(self)


@dataclass(frozen=True)
class QueryCheck:
    """A rule file's query to check for a language (by name), as a job for the worker."""

    language: str
    query: str
    work: ClassVar[str] = "compiling the query"

    def run(self) -> str:
        """Why the query cannot be used, or "" when it can."""
        try:
            check_query(BY_NAME[self.language], self.query)
        except RuleQueryError as error:
            return str(error)
        return ""


def run_job(job: FileJob) -> tuple[SegmentResult, ...]:
    """Parse each segment of the job and match its rules: the results, segment by segment."""
    language = BY_NAME[job.language]
    return tuple(_run_segment(segment, language) for segment in job.segments)


def _run_segment(segment: SegmentJob, language: Language) -> SegmentResult:
    fragment = (
        Fragment(parse(segment.data, language))
        if segment.whole
        else parse_fragment(segment.data, language)
    )
    tree, shift = fragment.parsed.tree, fragment.shift
    if tree is None:
        return SegmentResult(reason=fragment.parsed.reason)
    wanted = [(matcher, [row + shift for row in rows]) for matcher, rows in segment.wanted]
    # A wrapper's prefix ends with a newline: a row of the segment keeps its columns.
    lines = (
        [b""] * shift + segment.data.split(b"\n")
        if any(matcher.keyword is not None for matcher, _ in segment.wanted)
        else []
    )
    hits = tuple((row - shift, index) for row, index in match_rules(tree, language, wanted, lines))
    flags = tuple(
        in_comment(tree, language, row + shift, column) for row, column in segment.markers
    )
    return SegmentResult(hits, flags)
