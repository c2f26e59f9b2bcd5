"""AGENTS.md review guidelines: find the closest file, read its bullets, enforce the directives.

An AGENTS.md applies to its directory and everything below it; for each changed file the
closest AGENTS.md that has a ``## Review guidelines`` section wins. Every bullet of that section
is shown to the human reviewer as a checklist item. Bullets written in one of the directive
forms below are also enforced, deterministically:

- ``Flag|Treat|Report|Mark <targets> [in <paths>] as <severity>[, not <severity>] [in <paths>]``
- ``Disable|Enable <targets> [in <paths>]`` and ``Do not flag|Don't flag <targets> [in <paths>]``
- ``Skip|Do not review <paths>``

A bullet that starts like a directive but does not parse becomes a ``Problem``, which the
comment shows as a warning instead of silently ignoring it. See the package README.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from fnmatch import fnmatchcase

from codex_review.models import Severity
from codex_review.rules import SECRETS, Rule, all_rules

FILENAME = "AGENTS.md"
MAX_DIRECTIVE_CHARS = 400

_SECTION = re.compile(r"^##[ \t]+review guidelines[ \t]*#*[ \t]*$", re.IGNORECASE)
_HEADING = re.compile(r"^#{1,2}[ \t]")
_FENCE = re.compile(r"^[ \t]*(?:```|~~~)")
_BULLET = re.compile(r"^(?P<indent>[ \t]*)(?:[-*+]|\d{1,3}[.)])[ \t]+(?P<text>\S.*)$")

_AS_SEVERITY = r"as\s+(?:an?\s+)?(?P<severity>errors?|warnings?|infos?)"
_NOT_SEVERITY = (
    r"(?:\s*[,;:\u2014-]?\s*(?:and\s+)?(?:not|instead\s+of|rather\s+than)\s+(?:an?\s+)?\w+)?"
)
_SCOPE = r"(?:\s+(?:in|under|within|for)\s+(?P<paths>.+?))?"
# Words that show a bullet meant to set a severity, even one the bot does not know.
_SEVERITY_LIKE = re.compile(
    r"^(?:flag|treat|report|mark)\b.*\bas\s+(?:an?\s+)?(?:errors?|warnings?|infos?|notes?|"
    r"critical|blockers?|blocking|fatal|high|medium|low|minor|major|notices?)\b",
    re.IGNORECASE,
)
_SEVERITY_FORM = re.compile(
    rf"^(?:flag|treat|report|mark)\s+(?P<targets>.+?){_SCOPE}\s+{_AS_SEVERITY}{_NOT_SEVERITY}"
    r"(?:\s+(?:in|under|within|for)\s+(?P<paths_after>.+?))?$",
    re.IGNORECASE,
)
_SWITCH_FORM = re.compile(
    rf"^(?P<verb>disable|enable|do\s+not\s+flag|don'?t\s+flag|never\s+flag)\s+(?P<targets>.+?)"
    rf"{_SCOPE}$",
    re.IGNORECASE,
)
_SKIP_FORM = re.compile(r"^(?:skip|do\s+not\s+review|don'?t\s+review)\s+(?P<paths>.+)$", re.I)
_SWITCH_LIKE = re.compile(r"^(?:disable|enable|do\s+not\s+flag|don'?t\s+flag|never\s+flag)\b", re.I)
_SKIP_LIKE = re.compile(r"^(?:skip|do\s+not\s+review|don'?t\s+review)\b", re.IGNORECASE)

_LIST_SPLIT = re.compile(r"\s*(?:,|;|&|\band\b|\bor\b)\s*", re.IGNORECASE)
_LEADING_WORDS = re.compile(r"^(?:all|every|any|each|the|bare|raw|direct|plain|of)\s+", re.I)
_TRAILING_NOUNS = re.compile(
    r"\s+(?:calls?|uses?|usages?|findings?|issues?|statements?|macros?|blocks?|rules?|checks?|"
    r"invocations?|expressions?|functions?|occurrences?)$",
    re.IGNORECASE,
)
# Bold around words (not the ** of a glob such as src/**/*.rs) and code-span backticks.
_EMPHASIS = re.compile(r"(?<![\w/*])(\*\*|__)(?=\S)(.+?)(?<=\S)\1(?![\w/*])")

_CATEGORY_WORDS: Mapping[str, str] = {
    "bugs": "bugs",
    "bug": "bugs",
    "security": "security",
    "best practices": "best_practices",
    "best_practices": "best_practices",
    "best-practices": "best_practices",
}


class Action(Enum):
    SEVERITY = "severity"
    DISABLE = "disable"
    ENABLE = "enable"
    SKIP = "skip"


@dataclass(frozen=True)
class Directive:
    """An enforced bullet: what it does, to which rules, where (relative to its AGENTS.md)."""

    text: str
    action: Action
    rules: frozenset[str] = frozenset()
    severity: Severity | None = None
    paths: tuple[str, ...] = ()


@dataclass(frozen=True)
class Problem:
    """A bullet that reads like a directive but could not be applied, and why."""

    text: str
    reason: str


@dataclass(frozen=True)
class FilePolicy:
    """What the guidelines change for one file: skipped or not, rule switches, severities."""

    skipped: bool = False
    switches: Mapping[str, bool] = field(default_factory=dict)
    severities: Mapping[str, Severity] = field(default_factory=dict)

    def enabled(self, rule: Rule) -> bool:
        return self.switches.get(rule.id, rule.enabled)

    def severity(self, rule: Rule) -> Severity:
        return self.severities.get(rule.id, rule.severity)


DEFAULT_POLICY = FilePolicy()


@dataclass(frozen=True)
class Guidelines:
    """The ``## Review guidelines`` section of one AGENTS.md."""

    path: str
    bullets: tuple[str, ...]
    directives: tuple[Directive, ...]
    problems: tuple[Problem, ...]

    @property
    def directory(self) -> str:
        return posixpath.dirname(self.path)

    def policy_for(self, path: str) -> FilePolicy:
        """Apply the directives, in order, that cover ``path`` (a repository-relative path)."""
        relative = posixpath.relpath(path, self.directory) if self.directory else path
        skipped = False
        switches: dict[str, bool] = {}
        severities: dict[str, Severity] = {}
        for directive in self.directives:
            if directive.paths and not any(_path_matches(relative, p) for p in directive.paths):
                continue
            if directive.action is Action.SKIP:
                skipped = True
            elif directive.action is Action.SEVERITY and directive.severity is not None:
                severities.update(dict.fromkeys(directive.rules, directive.severity))
            else:
                switches.update(dict.fromkeys(directive.rules, directive.action is Action.ENABLE))
        return FilePolicy(skipped, switches, severities)


def _path_matches(relative: str, pattern: str) -> bool:
    if any(ch in pattern for ch in "*?["):
        candidates = {pattern, pattern.replace("**/", ""), pattern.rstrip("/") + "/*"}
        return any(fnmatchcase(relative, candidate) for candidate in candidates)
    prefix = pattern.rstrip("/")
    return relative == prefix or relative.startswith(prefix + "/")


def section_bullets(markdown: str) -> list[str] | None:
    """The bullets of the ``## Review guidelines`` section, or None when there is no section."""
    in_section = False
    in_fence = False
    found = False
    bullets: list[str] = []
    bullet_indent = -1
    for line in markdown.replace("\r\n", "\n").split("\n"):
        if _FENCE.match(line):
            in_fence = not in_fence
            continue
        if in_fence:
            continue
        if _SECTION.match(line):
            in_section, found, bullet_indent = True, True, -1
            continue
        if not in_section:
            continue
        if _HEADING.match(line):
            in_section = False
            continue
        bullet = _BULLET.match(line)
        if bullet:
            bullets.append(bullet.group("text").strip())
            bullet_indent = len(bullet.group("indent"))
        elif line.strip() and bullets and len(line) - len(line.lstrip()) > bullet_indent >= 0:
            bullets[-1] = f"{bullets[-1]} {line.strip()}"  # a wrapped continuation line
        elif not line.strip():
            continue
        else:
            bullet_indent = -1
    return bullets if found else None


def _plain(text: str) -> str:
    return _EMPHASIS.sub(r"\2", text).replace("`", "").strip().rstrip(".!").strip()


class _Catalogue:
    """How bullet words name rules: ids, the rules' own names, categories, severities."""

    def __init__(self, rules: Iterable[Rule]) -> None:
        self.rules = tuple(rules)
        self.by_word: dict[str, set[str]] = {}
        for rule in self.rules:
            for word in (rule.id, *rule.names):
                self.by_word.setdefault(word.lower(), set()).add(rule.id)
        for word, category in _CATEGORY_WORDS.items():
            self.by_word.setdefault(word, set()).update(
                r.id for r in self.rules if r.category == category
            )
        for severity in Severity:
            ids = {r.id for r in self.rules if r.severity is severity}
            for word in (severity.label, severity.label + "s"):
                self.by_word.setdefault(word, set()).update(ids)
        self.by_word.setdefault("secrets", set()).update(r.id for r in SECRETS)
        self.by_word.setdefault("rules", set()).update(r.id for r in self.rules)

    def resolve(self, targets: str) -> frozenset[str] | str:
        """Rule ids named by a target list, or the reason it could not be resolved."""
        ids: set[str] = set()
        for raw in _LIST_SPLIT.split(targets):
            word = raw.strip().strip("'\"").strip()
            previous = None
            while word != previous:
                previous = word
                word = _TRAILING_NOUNS.sub("", _LEADING_WORDS.sub("", word)).strip()
            if not word:
                continue
            found = self.by_word.get(word.lower())
            if not found:
                return f"unknown rule or category {word!r} (see the rule tables)"
            ids.update(found)
        return frozenset(ids) if ids else "no rule named"


_CATALOGUE = _Catalogue(all_rules())


def _paths(text: str | None) -> tuple[str, ...] | str:
    if text is None:
        return ()
    paths: list[str] = []
    for raw in _LIST_SPLIT.split(_plain(text)):
        path = raw.strip().strip("'\"").strip()
        if not path:
            continue
        if " " in path or not any(ch in path for ch in "/*.?["):
            return f"{path!r} is not a path (write a directory like src/ or a glob like *.pb.go)"
        paths.append(path.removeprefix("./").lstrip("/"))
    return tuple(paths) if paths else "no path given"


@dataclass(frozen=True)
class _Form:
    """A directive form: what makes a bullet look like one, its grammar, and its usage line."""

    looks_like: re.Pattern[str]
    grammar: re.Pattern[str]
    usage: str


_FORMS: tuple[_Form, ...] = (
    _Form(_SEVERITY_LIKE, _SEVERITY_FORM, "Flag <rules> [in <paths>] as <error|warning|info>"),
    _Form(_SWITCH_LIKE, _SWITCH_FORM, "Disable <rules> [in <paths>]"),
    _Form(_SKIP_LIKE, _SKIP_FORM, "Skip <paths>"),
)


def _catalogue(rules: Sequence[Rule]) -> _Catalogue:
    """The built-in catalogue, or one that also knows a repository's own rules."""
    return _Catalogue((*all_rules(), *rules)) if rules else _CATALOGUE


def _directive(text: str, match: re.Match[str], catalogue: _Catalogue) -> Directive | Problem:
    groups = match.groupdict()
    paths = _paths(groups.get("paths") or groups.get("paths_after"))
    if isinstance(paths, str):
        return Problem(text, paths)
    if "targets" not in groups:
        return Directive(text, Action.SKIP, paths=paths)
    rules = catalogue.resolve(groups["targets"])
    if isinstance(rules, str):
        return Problem(text, rules)
    if groups.get("severity"):
        severity = Severity.from_label(groups["severity"])
        return Directive(text, Action.SEVERITY, rules, severity, paths)
    action = Action.ENABLE if groups["verb"].lower() == "enable" else Action.DISABLE
    return Directive(text, action, rules, None, paths)


def parse_bullet(text: str, rules: Sequence[Rule] = ()) -> Directive | Problem | None:
    """A bullet as a directive, a problem (directive-like but invalid), or None (free text).

    ``rules`` are the repository's own rules, which directives may name like built-in ones."""
    plain = _plain(text)
    if len(plain) > MAX_DIRECTIVE_CHARS:
        # Directives are one short sentence; the grammar's lazy groups are not meant for essays.
        looks_like = any(form.looks_like.match(plain[:200]) for form in _FORMS)
        return (
            Problem(text, f"longer than {MAX_DIRECTIVE_CHARS} characters") if looks_like else None
        )
    for form in _FORMS:
        match = form.grammar.match(plain)
        if match is not None:
            return _directive(text, match, _catalogue(rules))
        if form.looks_like.match(plain):
            return Problem(text, f"expected '{form.usage}'")
    return None


def parse_guidelines(path: str, markdown: str, rules: Sequence[Rule] = ()) -> Guidelines | None:
    """The review guidelines of the AGENTS.md at ``path``, or None without such a section."""
    bullets = section_bullets(markdown)
    if bullets is None:
        return None
    directives: list[Directive] = []
    problems: list[Problem] = []
    for bullet in bullets:
        parsed = parse_bullet(bullet, rules)
        if isinstance(parsed, Directive):
            directives.append(parsed)
        elif isinstance(parsed, Problem):
            problems.append(parsed)
    return Guidelines(path, tuple(bullets), tuple(directives), tuple(problems))


class Guidance:
    """Resolves the closest AGENTS.md with review guidelines for each path, reading lazily."""

    def __init__(self, read_text: Callable[[str], str | None], rules: Sequence[Rule] = ()) -> None:
        self._read_text = read_text
        self._rules = tuple(rules)
        self._by_directory: dict[str, Guidelines | None] = {}

    def for_path(self, path: str) -> Guidelines | None:
        return self._for_directory(posixpath.dirname(path))

    def _for_directory(self, directory: str) -> Guidelines | None:
        if directory in self._by_directory:
            return self._by_directory[directory]
        candidate = posixpath.join(directory, FILENAME) if directory else FILENAME
        markdown = self._read_text(candidate)
        own = parse_guidelines(candidate, markdown, self._rules) if markdown is not None else None
        if own is None and directory:
            own = self._for_directory(posixpath.dirname(directory))
        self._by_directory[directory] = own
        return own
