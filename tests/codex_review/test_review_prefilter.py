"""The prefilter (needles, and each rule's ``line`` on added lines) never drops a finding: the
engine's findings equal the full engine's, which runs every rule's query over every row of the
parsed file, on the corpus of real files and on the syntax-class cases, with every line added
and with sparse sets of added lines. The full engine runs each query as written, so a rule's
``keyword`` (its query as data) is checked against its query too."""

from __future__ import annotations

import pytest
from tests.codex_review.test_review_rules_corpus import ALL_ON, CORPUS, MANIFEST
from tests.codex_review.test_review_rules_syntax import CASES, UNSOUND

from codex_review.diff import ChangedFile, Hunk
from codex_review.languages import language_for
from codex_review.review import review_file
from codex_review.rules import all_rules
from codex_review.syntax import Matcher, match_rules, parse

# Where a line-local trigger could be wrong: the finding's line holds only part of the match.
EDGES = [
    ("mutable-default-after-an-equals-sign-on-the-line-above", "a.py",
     "def f(a=\n      [], b=  # why\n      {}, c=\\\n  list()):\n    pass"),
    ("mutable-default-in-a-lambda-and-typed", "a.py",
     "g = lambda x=set(): x\ndef h(a: dict[str, int] = {\n    'k': 1}):\n    pass"),
    ("bare-except-and-verify-split-over-lines", "a.py",
     "try:\n    x\nexcept\n:\n    pass\ntry:\n    y\nexcept  # why\n:\n    pass\n"
     "f(verify\n  =  # c\n  False)\ng(verify=\\\nFalse)\nh(verify= # c\n False, v=settings)"),
    ("constructor-default-split-over-lines", "a.py",
     "def f(a=list\n      (), b=dict  # why\n      (), c=set \\\n  ()):\n    pass"),
    ("identifier-right-after-a-number", "a.py", "x = [1for y in z]\nprint(1if a else 2)"),
    ("method-name-on-its-own-line", "a.rs",
     "fn f() {\n    let v = x\n        .\n        unwrap\n        ();\n    y.clone\n    ();\n}"),
    ("macro-name-in-a-token-tree", "a.rs", 'fn f() {\n    m!(a.unwrap() println!("password"));\n}'),
    ("log-call-split-over-lines", "a.py",
     'logger.\\\n    info(\n        "password %s", pw)\nprint\\\n(x)'),
    ("var-keyword-in-each-place", "a.js",
     "for (var k in o) {}\nfor (var i = 0; i < 1; i++) {}\nconst s = 'var x', t = `${var_} var`;"
     " // var\nvar variable = /var/; export var e = 1; var\tf, g;\nfor (var v of w) {}"),
    ("console-method-on-the-next-line", "a.js",
     "console\n  .log('password', pw);\ndocument\n  .write(x);\nvar\n  a = 1;"),
]  # fmt: skip

SOURCES = [
    *((entry["path"], entry["path"], (CORPUS / entry["path"]).read_text(encoding="utf-8"))
      for entry in MANIFEST),
    *((case[0], case[1], case[2]) for case in (*CASES, *UNSOUND)),
    *EDGES,
]  # fmt: skip


def _full_engine(path: str, text: str) -> set[tuple[int, str]]:
    """(line, rule) of every syntax rule's match on any row: no needle, no line trigger."""
    language = language_for(path)
    assert language is not None
    tree = parse(text.encode("utf-8"), language).tree
    assert tree is not None
    every_row = range(text.count("\n") + 1)
    rules = [rule for rule in all_rules() if language.name in rule.queries]
    wanted = [
        (Matcher(r.queries[language.name], r.unless.get(language.name), r.mentions), every_row)
        for r in rules
    ]
    return {(row + 1, rules[index].id) for row, index in match_rules(tree, language, wanted)}


def _engine(path: str, text: str, added: set[int]) -> set[tuple[int, str]]:
    lines = tuple(text.split("\n"))
    changed = ChangedFile(path, (Hunk(1, lines, tuple(sorted(added))),))
    return {
        (f.line, f.rule)
        for f in review_file(changed, text, ALL_ON)
        if not f.rule.startswith("secret-")
    }


@pytest.mark.parametrize(("path", "text"), [s[1:] for s in SOURCES], ids=[s[0] for s in SOURCES])
def test_the_prefilter_keeps_every_finding_of_the_full_engine(path: str, text: str) -> None:
    full = _full_engine(path, text)
    every_line = set(range(1, text.count("\n") + 2))
    assert _engine(path, text, every_line) == full
    # Sparse added lines: each rule's trigger is looked for on them only, joined together.
    for offset in range(3):
        added = {line for line in every_line if line % 3 == offset}
        assert _engine(path, text, added) == {hit for hit in full if hit[0] in added}


def test_the_edge_cases_have_findings_on_lines_that_hold_only_part_of_the_match() -> None:
    # Otherwise they would check nothing.
    for name, path, text in EDGES:
        assert _full_engine(path, text), name
