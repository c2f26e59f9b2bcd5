"""A repository's own review rules: YAML files in ``.codex-review/rules/`` of the checkout.

Each file holds one rule, or several as YAML documents separated by ``---``, in the shape of
ast-grep's rule files with a tree-sitter query as the matcher::

    id: no-todo-macro
    language: rust
    severity: warning
    message: todo!() panics at run time
    query: |
      (macro_invocation macro: (identifier) @match (#eq? @match "todo"))

A bad file or rule becomes a one-line problem naming the file and the field; the other rules,
built-in and from other files, are enforced all the same.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from codex_review.languages import BY_NAME, Language
from codex_review.models import Severity
from codex_review.rules import BEST, BUGS, SECURITY, Rule, all_rules
from codex_review.syntax import QueryCheck
from codex_review.worker import run_bounded

RULES_DIR = ".codex-review/rules"
MAX_RULE_FILE_BYTES = 256 * 1024
_ID = re.compile(r"^[a-z][a-z0-9]*(?:[-_.][a-z0-9]+)*$")
_REQUIRED = ("id", "language", "message", "query")
_OPTIONAL = ("severity", "category", "note", "enabled", "mentions", "unless", "needles", "names")
_CATEGORIES = (BUGS, SECURITY, BEST)
# ast-grep's severities, as the bot grades them; "off" disables the rule.
_SEVERITY_WORDS: Mapping[str, Severity | None] = {
    "error": Severity.ERROR,
    "warning": Severity.WARNING,
    "info": Severity.INFO,
    "hint": Severity.INFO,
    "off": None,
}


@dataclass(frozen=True)
class RuleFiles:
    """The rules read from the folder, and one line per problem that kept a rule out."""

    rules: tuple[Rule, ...] = ()
    problems: tuple[str, ...] = ()


class _BadRuleError(ValueError):
    pass


def _text(document: Mapping[str, object], key: str, *, required: bool = True) -> str | None:
    value = document.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise _BadRuleError(f"field '{key}': expected a non-empty string")
    return value


def _strings(document: Mapping[str, object], key: str) -> tuple[str, ...]:
    value = document.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise _BadRuleError(f"field '{key}': expected a list of non-empty strings")
    return tuple(value)


def _grading(document: Mapping[str, object]) -> tuple[Severity | None, str]:
    """The rule's severity (None for ``off``) and category."""
    severity_word = str(document.get("severity", "warning")).strip().lower()
    if severity_word not in _SEVERITY_WORDS:
        raise _BadRuleError(
            f"field 'severity': {severity_word!r} is not one of {', '.join(_SEVERITY_WORDS)}"
        )
    category = str(document.get("category", BEST))
    if category not in _CATEGORIES:
        raise _BadRuleError(f"field 'category': {category!r} is not one of "
                            f"{', '.join(_CATEGORIES)}")  # fmt: skip
    return _SEVERITY_WORDS[severity_word], category


def _queries(document: Mapping[str, object], language: Language) -> tuple[str, str | None]:
    """The rule's query and unless-query, each checked against the language's grammar in the
    worker process, within its time bound: a query can take seconds to compile."""
    query = _text(document, "query") or ""
    unless = _text(document, "unless", required=False)
    fields = [(key, source) for key, source in (("query", query), ("unless", unless)) if source]
    outcomes = run_bounded([QueryCheck(language.name, source) for _, source in fields])
    for (key, _), outcome in zip(fields, outcomes, strict=True):
        problem = outcome.reason if outcome.results is None else outcome.results
        if problem:
            raise _BadRuleError(f"field '{key}': {problem}")
    return query, unless


def _rule(document: object, origin: str, taken: set[str]) -> Rule:
    if not isinstance(document, Mapping):
        raise _BadRuleError("expected a mapping with id, language, message and query")
    unknown = sorted(str(key) for key in document if key not in (*_REQUIRED, *_OPTIONAL))
    if unknown:
        raise _BadRuleError(f"field '{unknown[0]}': unknown (expected {', '.join(_REQUIRED)} "
                            f"and optionally {', '.join(_OPTIONAL)})")  # fmt: skip
    missing = [key for key in _REQUIRED if key not in document]
    if missing:
        raise _BadRuleError(f"field '{missing[0]}': missing")
    rule_id = _text(document, "id") or ""
    if not _ID.match(rule_id):
        raise _BadRuleError(f"field 'id': {rule_id!r} is not lower-case words joined by '-'")
    if rule_id in taken:
        raise _BadRuleError(f"field 'id': {rule_id!r} is already a rule")
    name = _text(document, "language") or ""
    language = BY_NAME.get(name.strip().lower())
    if language is None:
        raise _BadRuleError(f"field 'language': {name!r} is not one of {', '.join(BY_NAME)}")
    severity, category = _grading(document)
    enabled = document.get("enabled", True)
    if not isinstance(enabled, bool):
        raise _BadRuleError("field 'enabled': expected true or false")
    query, unless = _queries(document, language)
    mentions = _text(document, "mentions", required=False)
    if mentions is not None:
        try:
            re.compile(mentions)
        except re.error as error:
            raise _BadRuleError(f"field 'mentions': not a regular expression: {error}") from None
    return Rule(
        rule_id,
        category,
        severity or Severity.INFO,
        (_text(document, "message") or "").strip(),
        {language.name: query},
        _strings(document, "needles"),
        names=_strings(document, "names"),
        mentions=mentions,
        unless={language.name: unless} if unless else {},
        enabled=enabled and severity is not None,
        origin=origin,
    )


def parse_rule_file(origin: str, text: str, taken: Iterable[str] = ()) -> RuleFiles:
    """The rules of one rule file's text; ``taken`` are ids already in use."""
    ids = {rule.id for rule in all_rules()} | set(taken)
    try:
        documents = [d for d in YAML(typ="safe").load_all(text) if d is not None]
    except YAMLError as error:
        where = getattr(error, "problem_mark", None)
        line = f" line {where.line + 1}" if where is not None else ""
        reason = getattr(error, "problem", None) or str(error).splitlines()[0]
        return RuleFiles(problems=(f"{origin}:{line.strip() or '1'}: not YAML: {reason}",))
    rules: list[Rule] = []
    problems: list[str] = []
    for number, document in enumerate(documents, start=1):
        label = f"{origin} (rule {number})" if len(documents) > 1 else origin
        try:
            rule = _rule(document, origin, ids)
        except _BadRuleError as error:
            problems.append(f"{label}: {error}; rule not loaded")
            continue
        ids.add(rule.id)
        rules.append(rule)
    return RuleFiles(tuple(rules), tuple(problems))


def _read_rule_file(path: Path, root: Path) -> str:
    """The text of one rule file, which the pull request controls: only a regular file inside
    the checkout (a symlink may point anywhere, such as /dev/zero or a file of the runner), read
    up to the size limit whatever its size says. Raises _BadRuleError saying why not."""
    resolved = path.resolve()
    if not resolved.is_relative_to(root):
        raise _BadRuleError("a link to outside the checkout; not read")
    if not resolved.is_file():
        raise _BadRuleError("not a regular file; not read")
    try:
        with resolved.open("rb") as file:
            data = file.read(MAX_RULE_FILE_BYTES + 1)
    except OSError as error:
        raise _BadRuleError(f"cannot read: {error.strerror or error}") from None
    if len(data) > MAX_RULE_FILE_BYTES:
        raise _BadRuleError(f"larger than {MAX_RULE_FILE_BYTES // 1024} KiB")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise _BadRuleError(f"not UTF-8 (byte {error.start})") from None
    if not text.strip():
        raise _BadRuleError("empty: no rule in it")
    return text


def load_rule_files(checkout: Path) -> RuleFiles:
    """Every rule under ``checkout/.codex-review/rules`` (``*.yml``, ``*.yaml``), in name order."""
    root = checkout.resolve()
    folder = checkout / RULES_DIR
    if not folder.is_dir():
        return RuleFiles()
    if not folder.resolve().is_relative_to(root):
        return RuleFiles(problems=(f"{RULES_DIR}: a link to outside the checkout; not read",))
    rules: list[Rule] = []
    problems: list[str] = []
    for path in sorted(p for p in folder.iterdir() if p.suffix in {".yml", ".yaml"}):
        origin = f"{RULES_DIR}/{path.name}"
        try:
            text = _read_rule_file(path, root)
        except _BadRuleError as error:
            problems.append(f"{origin}: {error}")
            continue
        loaded = parse_rule_file(origin, text, (rule.id for rule in rules))
        rules.extend(loaded.rules)
        problems.extend(loaded.problems)
    return RuleFiles(tuple(rules), tuple(problems))
