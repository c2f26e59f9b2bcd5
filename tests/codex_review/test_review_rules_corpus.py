"""Real files of public repositories (corpus/MANIFEST.toml): per language and rule, the bot's
findings equal what the grammar says is code, i.e. precision and recall 1.000.

The expected findings are derived without the rule engine's queries: the parse tree only says
which bytes are comments and string text (interpolations stay code); each rule's trigger is
then a plain regular expression over that code-only text, and for the password rules the
argument list (found by balancing parentheses in the code-only text) must mention a password
in the text with only comments blanked.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from tree_sitter import Node, Parser

from codex_review.diff import ChangedFile, Hunk
from codex_review.guidelines import FilePolicy
from codex_review.languages import Language, language_for
from codex_review.review import review_file
from codex_review.rules import SENSITIVE, all_rules

CORPUS = Path(__file__).parent / "corpus"
MANIFEST = tomllib.loads((CORPUS / "MANIFEST.toml").read_text(encoding="utf-8"))["file"]
ALL_ON = FilePolicy(switches={rule.id: True for rule in all_rules()})
PERMISSIVE = {"MIT", "Apache-2.0", "MIT OR Unlicense", "Zlib", "BSD-3-Clause", "BSD-2-Clause"}

_LITERAL = re.compile(r"string|heredoc|nowdoc|regex|char_literal|rune_literal|symbol|^text$|"
                      r"^uninterpreted$|preproc_arg|shell_command")  # fmt: skip
_INTERPOLATION = {"interpolation", "template_substitution"}
_CALL_ARGS = r"\s*(?P<open>[(\[{])"  # the trigger ends where its argument list opens

# rule -> trigger on the code-only text; group `m` is the reported token. `args` rules end with
# an opening bracket whose balanced argument list must mention a password.
TRIGGERS: dict[str, str] = {
    "rust-unwrap": r"\.\s*(?P<m>unwrap)\s*\(\s*\)",
    "rust-clone": r"\.\s*(?P<m>clone)\s*\(\s*\)",
    "rust-expect": r"\.\s*(?P<m>expect)\s*\(",
    "rust-println": r"(?<![\w])(?P<m>println)\s*!\s*[(\[{]",
    "rust-panic": r"(?<![\w])(?P<m>panic)\s*!\s*[(\[{]",
    "rust-vec-new-push": r"\bVec\s*::\s*new\s*\(\s*\)\s*\.\s*(?P<m>push)\s*\(",
    "rust-unsafe": r"(?<![\w])(?P<m>unsafe)(?![\w])",
    "rust-println-password": r"(?<![\w])(?P<m>e?println)\s*!" + _CALL_ARGS,
    "rust-dbg-password": r"(?<![\w])(?P<m>dbg)\s*!" + _CALL_ARGS,
    "go-fmt-print": r"\bfmt\s*\.\s*(?P<m>Print(?:f|ln)?)\s*\(",
    "go-defer-unchecked": r"\bdefer\s+[\w.]+\.\s*(?P<m>Close|Flush|Sync|Commit)\s*\(\s*\)",
    "go-password-format": r"\b(?:fmt\s*\.\s*(?P<m>Print(?:f|ln)?|[SF]print(?:f|ln)?|Errorf)"
    r"|log\s*\.\s*(?P<m2>(?:Print|Fatal|Panic)(?:f|ln)?)|slog\s*\.\s*(?P<m3>[A-Za-z]+)"
    r"|errors\s*\.\s*(?P<m4>New))" + _CALL_ARGS,
    "go-panic": r"(?<![\w.])(?P<m>panic)\s*\(",
    "go-insecure-tls": r"(?<![\w.])(?P<m>InsecureSkipVerify)\s*:\s*true\b",
    "go-blank-error": r"(?m)^[ \t]*(?P<m>_)\s*=\s*[\w.]+\(",
    "py-print": r"(?<![\w.])(?P<m>print)\s*\(",
    "py-breakpoint": r"(?<![\w.])(?P<m>breakpoint)\s*\(\s*\)|\bi?pdb\s*\.\s*(?P<m2>set_trace)\s*\(",
    "py-bare-except": r"(?m)^[ \t]*(?P<m>except)\s*:",
    "py-mutable-default": r"\bdef\s+\w+\s*\([^)]*?=\s*(?P<m>\[|\{|(?:list|dict|set)\()",
    "py-eval": r"(?<![\w.])(?P<m>eval|exec)\s*\(",
    "py-shell-true": r"\b(?P<m>shell)\s*=\s*True\b",
    "py-pickle": r"\b(?:c?[pP]ickle|dill)\s*\.\s*(?P<m>loads?)\s*\(",
    "py-yaml-load": r"\byaml\s*\.\s*(?P<m>load)\s*\((?![^)]*Loader\s*=\s*(?:yaml\.)?C?SafeLoader)",
    "py-tls-verify-off": r"\b(?P<m>verify)\s*=\s*False\b",
    "py-print-password": r"(?<![\w.])(?P<m>print)" + _CALL_ARGS + r"|\b(?:log|logger|logging)\s*\."
    r"\s*(?P<m2>debug|info|warning|error|critical|exception)(?P<open2>\()",
    "js-console-log": r"\bconsole\s*\.\s*(?P<m>log|debug|trace|dir)\s*\(",
    "js-debugger": r"(?<![\w$.])(?P<m>debugger)\s*(?:;|$)",
    "js-eval": r"(?<![\w$.])(?P<m>eval)\s*\(|\bnew\s+(?P<m2>Function)\s*\(",
    "js-inner-html": r"\.\s*(?P<m>innerHTML|outerHTML)\s*\+?=(?!=)|(?P<m2>dangerouslySetInnerHTML)"
    r"|\bdocument\s*\.\s*(?P<m3>write(?:ln)?)\s*\(",
    "js-var": r"(?<![\w$.])(?P<m>var)\s+[\w${\[]",
    "js-loose-equality": r"(?<![=!<>])(?P<m>==|!=)(?!=)",
    "js-console-password": r"\bconsole\s*\.\s*(?P<m>[\w$]+)" + _CALL_ARGS,
    "ts-any": r"(?<![\w$.])(?P<m>any)(?![\w$])(?=\s*[,;)\]>|&=]|\s*$)",
    "ts-non-null-assertion": r"[\w$)\]](?P<m>!)\.(?=[\w$])",
    "java-system-out": r"\bSystem\s*\.\s*(?:out|err)\s*\.\s*(?P<m>print\w*)\s*\(",
    "java-print-stack-trace": r"\.\s*(?P<m>printStackTrace)\s*\(\s*\)",
    "java-log-password": r"\b(?:System\s*\.\s*(?:out|err)\s*\.\s*(?P<m>print\w*)|(?:log|logger"
    r"|LOG|LOGGER)\s*\.\s*(?P<m2>\w+))" + _CALL_ARGS,
    "c-gets": r"(?<![\w.>])(?P<m>gets)\s*\(",
    "c-unbounded-copy": r"(?<![\w.>])(?P<m>strcpy|strcat|sprintf|vsprintf)\s*\(",
    "c-system": r"(?<![\w.>])(?P<m>system)\s*\(",
    "cs-console-write": r"\bConsole\s*\.\s*(?P<m>Write(?:Line)?)\s*\(",
    "cs-log-password": r"\b(?:Console\s*\.\s*(?P<m>Write(?:Line)?)"
    r"|_?[lL]ogger\s*\.\s*(?P<m2>Log\w*))" + _CALL_ARGS,
    "rb-debugger": r"\bbinding\s*\.\s*(?P<m>pry|irb)\b|(?m:^[ \t]*(?P<m2>byebug|debugger)\s*$)",
    "rb-eval": r"(?<![\w:])(?P<m>(?:instance_|class_)?eval)(?:\s*\(|[ \t]+[\w\"'(&]|\s*\{)",
    "php-debug-output": r"(?<![\w>$\\])(?P<m>var_dump|print_r)\s*\(",
    "php-eval": r"(?<![\w>$\\])(?P<m>eval)\s*\(",
}
_PASSWORD = re.compile(SENSITIVE)


def _blank(data: bytearray, start: int, end: int) -> None:
    for index in range(start, end):
        if data[index] != ord("\n"):
            data[index] = ord(" ")


def _views(node: Node, language: Language, code: bytearray, uncommented: bytearray) -> None:
    """Blank comments in both views and string text (not interpolations) in ``code``."""
    if node.type in language.comments:
        _blank(code, node.start_byte, node.end_byte)
        _blank(uncommented, node.start_byte, node.end_byte)
        return
    if _LITERAL.search(node.type) and node.is_named:
        keep = bytes(code[node.start_byte : node.end_byte])
        _blank(code, node.start_byte, node.end_byte)
        for inner in _interpolations(node):
            code[inner.start_byte : inner.end_byte] = keep[
                inner.start_byte - node.start_byte : inner.end_byte - node.start_byte
            ]
            _views(inner, language, code, uncommented)
        return
    for child in node.children:
        _views(child, language, code, uncommented)


def _interpolations(node: Node) -> list[Node]:
    found: list[Node] = []
    for child in node.children:
        if child.type in _INTERPOLATION:
            found.append(child)
        else:
            found.extend(_interpolations(child))
    return found


def _balanced_end(code: str, start: int) -> int:
    depth = 0
    for index in range(start, len(code)):
        if code[index] in "([{":
            depth += 1
        elif code[index] in ")]}":
            depth -= 1
            if depth == 0:
                return index + 1
    return len(code)


def _expected(text: str, language: Language, rule_id: str) -> set[int]:
    data = text.encode()
    tree = Parser(language.grammar).parse(data)
    code, uncommented = bytearray(data), bytearray(data)
    _views(tree.root_node, language, code, uncommented)
    code_text, plain = code.decode(), uncommented.decode()
    lines: set[int] = set()
    for match in re.finditer(TRIGGERS[rule_id], code_text):
        token = next(g for g in ("m", "m2", "m3", "m4") if match.groupdict().get(g) is not None)
        opener = next((g for g in ("open", "open2") if match.groupdict().get(g)), None)
        if opener is not None:
            span = plain[match.start(opener) : _balanced_end(code_text, match.start(opener))]
            if not _PASSWORD.search(span):
                continue
        lines.add(code_text.count("\n", 0, match.start(token)) + 1)
    return lines


CASES = [
    (entry["path"], rule.id)
    for entry in MANIFEST
    for rule in all_rules()
    if (language := language_for(entry["path"])) is not None and language.name in rule.queries
]


def test_every_corpus_file_is_listed_with_a_permissive_licence() -> None:
    listed = {entry["path"] for entry in MANIFEST}
    on_disk = {path.name for path in CORPUS.iterdir() if path.name != "MANIFEST.toml"}
    assert listed == on_disk
    assert {entry["license"] for entry in MANIFEST} <= PERMISSIVE
    assert {language_for(path).name for path in listed if language_for(path)} == {
        language.name for language in map(language_for, listed) if language
    }


def test_the_corpus_covers_every_language() -> None:
    from codex_review.languages import LANGUAGES  # noqa: PLC0415

    covered = {language.name for e in MANIFEST if (language := language_for(e["path"]))}
    assert covered == {language.name for language in LANGUAGES}


_FINDINGS: dict[str, list[tuple[int, str]]] = {}


def _findings(path: str) -> list[tuple[int, str]]:
    if path not in _FINDINGS:
        text = (CORPUS / path).read_text(encoding="utf-8")
        lines = tuple(text.split("\n"))
        changed = ChangedFile(path, (Hunk(1, lines, tuple(range(1, len(lines) + 1))),))
        _FINDINGS[path] = [(f.line, f.rule) for f in review_file(changed, text, ALL_ON)]
    return _FINDINGS[path]


@pytest.mark.parametrize(("path", "rule_id"), CASES, ids=[f"{p}-{r}" for p, r in CASES])
def test_findings_equal_what_the_grammar_says_is_code(path: str, rule_id: str) -> None:
    language = language_for(path)
    assert language is not None
    text = (CORPUS / path).read_text(encoding="utf-8")
    found = {line for line, rule in _findings(path) if rule == rule_id}

    assert found == _expected(text, language, rule_id)
