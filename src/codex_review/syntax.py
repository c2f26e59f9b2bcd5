"""The tree-sitter side of a review: parse a text once, within bounds, and match rules on it.

A text is parsed only when it is at most ``MAX_PARSE_BYTES`` long, and parsing stops after
``PARSE_SECONDS`` of work (tree-sitter's progress callback cancels it): a minified bundle or a
pathological file costs a bounded time and the review goes on without syntax rules for it.
Regions the grammar cannot parse become ERROR nodes; tree-sitter still builds every node it can
around and inside them, and rules match those nodes like any other (see docs/review-rules.md).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from tree_sitter import Node, Parser, Point, Query, QueryCursor, QueryError, Tree

from codex_review.languages import Language
from codex_review.rules import Rule

MAX_PARSE_BYTES = 2 * 1024 * 1024
PARSE_SECONDS = 2.0
_MATCH = "match"
_ARGS = "args"


class RuleQueryError(ValueError):
    """A rule's tree-sitter query does not compile for a language."""


@dataclass(frozen=True)
class Parsed:
    """A parse tree, or why there is none (``tree`` None and ``reason`` set)."""

    tree: Tree | None
    reason: str = ""


def parse(data: bytes, language: Language, seconds: float = PARSE_SECONDS) -> Parsed:
    """Parse ``data`` (UTF-8) with the language's grammar, within the size and time bounds."""
    if len(data) > MAX_PARSE_BYTES:
        return Parsed(None, f"larger than {MAX_PARSE_BYTES // (1024 * 1024)} MiB, not parsed")
    view = memoryview(data)
    deadline = time.monotonic() + seconds

    def read(offset: int, _point: Point) -> bytes | memoryview:
        return view[offset:]

    def cancel(_offset: int, _has_error: bool) -> bool:
        return time.monotonic() > deadline

    parser = _parser(language)
    try:
        tree: Tree | None = parser.parse(read, progress_callback=cancel)
    except ValueError:  # what py-tree-sitter raises when the callback cancels the parse
        tree = None
    if tree is None:
        parser.reset()  # a cancelled parse would otherwise be resumed by the next one
        return Parsed(None, f"parsing took longer than {seconds:g} s, stopped")
    # Only the progress callback can stop a parse, and only a callback-read parse has one; the
    # tree then holds no text, which query predicates need. Parsing the bytes again with the
    # finished tree as the old tree reuses all of it (about 5% of the first parse).
    return Parsed(parser.parse(data, old_tree=tree))


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


def parse_fragment(text: str, language: Language) -> Fragment:
    """Parse a hunk's post-image lines as they are or inside a wrapper, whichever parses best."""
    variants = [("", ""), *_WRAPPERS.get(language.name, ())]
    if language.name == "php" and "<?" not in text:
        # Without an opening tag PHP text is inline HTML, which always parses cleanly.
        variants = variants[1:]
    best: tuple[tuple[int, int], Fragment] | None = None
    for prefix, suffix in variants:
        parsed = parse(f"{prefix}{text}{suffix}".encode("utf-8", "surrogatepass"), language)
        if parsed.tree is None:
            return Fragment(parsed)  # too large or too slow: a wrapper would not help
        # A tree can have errors (missing tokens) without ERROR nodes: count both.
        score = (error_rows(parsed.tree, language), int(parsed.tree.root_node.has_error))
        if best is None or score < best[0]:
            best = (score, Fragment(parsed, prefix.count("\n")))
        if score == (0, 0):
            break
    return best[1] if best is not None else Fragment(Parsed(None, "no parse"))


def check_query(language: Language, query: str) -> None:
    """Raise RuleQueryError unless ``query`` compiles and every pattern captures ``@match``."""
    try:
        compiled = Query(language.grammar, query)
    except QueryError as error:
        raise RuleQueryError(f"query does not compile for {language.name}: {error}") from None
    names = {compiled.capture_name(index) for index in range(compiled.capture_count)}
    if compiled.pattern_count == 0 or _MATCH not in names:
        raise RuleQueryError(f"query for {language.name} captures no @{_MATCH} node")


@dataclass(frozen=True)
class _Compiled:
    query: Query
    unless: Query | None


@lru_cache(maxsize=512)
def _compiled(language: Language, rule: Rule) -> _Compiled:
    """A rule's queries for a language, compiled the first time a file needs them: compiling
    takes 3-200 ms a rule, and most reviews need few of the rules."""
    unless = rule.unless.get(language.name)
    return _Compiled(
        Query(language.grammar, rule.queries[language.name]),
        Query(language.grammar, unless) if unless else None,
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


# Rows of one rule at most this far apart are matched by one query walk over the rows between
# (and filtered): a walk costs about as much as descending to a row from the root some 20 times.
_GAP = 16


def _spans(rows: Sequence[int]) -> list[tuple[int, int]]:
    """Sorted rows as inclusive spans, joining rows at most ``_GAP`` apart."""
    spans: list[tuple[int, int]] = []
    for row in rows:
        if spans and row - spans[-1][1] <= _GAP:
            spans[-1] = (spans[-1][0], row)
        else:
            spans.append((row, row))
    return spans


def match_rules(
    tree: Tree,
    language: Language,
    wanted: Sequence[tuple[Rule, Sequence[int]]],
) -> list[tuple[int, Rule]]:
    """(0-based row, rule) for every match of a rule whose ``@match`` node starts on one of that
    rule's (sorted) rows; each row and rule once, in row and then ``wanted`` order."""
    found: dict[tuple[int, int], None] = {}
    for index, (rule, rows) in enumerate(wanted):
        compiled = _compiled(language, rule)
        cursor = QueryCursor(compiled.query)
        allowed = frozenset(rows)
        for first, last in _spans(rows):
            cursor.set_point_range((first, 0), (last + 1, 0))
            for node, captures in _matched_nodes(cursor, tree, with_args=rule.mentions is not None):
                row = node.start_point.row
                if (
                    row in allowed
                    and (row, index) not in found
                    and _holds(
                        rule, compiled, tree=tree, language=language, node=node, captures=captures
                    )
                ):
                    found[(row, index)] = None
    return [(row, wanted[index][0]) for row, index in sorted(found)]


def _matched_nodes(
    cursor: QueryCursor, tree: Tree, *, with_args: bool
) -> list[tuple[Node, dict[str, list[Node]]]]:
    """Every ``@match`` node of the cursor's walk, with the captures of its match when the rule
    needs its ``@args``; otherwise from one captures() call, which builds far fewer objects."""
    if with_args:
        return [
            (node, captures)
            for _, captures in cursor.matches(tree.root_node)
            for node in captures.get(_MATCH, ())
        ]
    return [(node, {}) for node in cursor.captures(tree.root_node).get(_MATCH, ())]


def _holds(
    rule: Rule,
    compiled: _Compiled,
    *,
    tree: Tree,
    language: Language,
    node: Node,
    captures: dict[str, list[Node]],
) -> bool:
    """Whether a match of the rule's query is a finding: its ``mentions`` and ``unless``."""
    if rule.mentions_regex is not None:
        arguments = captures.get(_ARGS, [node])
        text = " ".join(_text_without_comments(a, language.comments) for a in arguments)
        if not rule.mentions_regex.search(text):
            return False
    return compiled.unless is None or not _silenced_by_unless(compiled.unless, tree, node)


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
