"""Which outputs ``--github`` delivers and how: one table of options, read once at start-up.

Every option can be set in the workflow (environment variable ``CODEX_REVIEW_<NAME>``) or, for
the ones marked ``agents_md``, in a ``## Review outputs`` section of the repository's root
``AGENTS.md`` (bullets ``- name: value``). The workflow wins over AGENTS.md, AGENTS.md over the
default; an empty variable counts as unset, so a workflow can pass ``${{ vars.NAME }}``. A bad
value raises ``OutputsError`` naming where it came from and what is accepted.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from codex_review.models import Severity

AGENTS_MD = "AGENTS.md"
SECTION = "review outputs"
_HEADING = re.compile(r"^(#{1,6})[ \t]+(.*?)[ \t#]*$")
_BULLET = re.compile(r"^[ \t]*[-*+][ \t]+(?P<name>[A-Za-z][A-Za-z -]*?)[ \t]*:[ \t]*(?P<value>.*)$")
_TRUE = frozenset({"on", "true", "yes", "1"})
_FALSE = frozenset({"off", "false", "no", "0"})


class OutputsError(ValueError):
    """A configuration value that cannot be used."""


def _flag(text: str) -> bool:
    word = text.strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise ValueError("expected on or off")


def _choice(*choices: str) -> Callable[[str], str]:
    def parse(text: str) -> str:
        word = text.strip().lower()
        if word not in choices:
            raise ValueError(f"expected {' or '.join(choices)}")
        return word

    return parse


def _count(low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        if not text.strip().isdigit() or not low <= int(text) <= high:
            raise ValueError(f"expected a whole number from {low} to {high}")
        return int(text)

    return parse


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError("expected a number of seconds") from None
    if not 0 <= value <= 21_600:  # a GitHub-hosted job runs at most 6 hours
        raise ValueError("expected a number of seconds from 0 to 21600")
    return value


def _login(text: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9-]*(\[bot\])?", text.strip()):
        raise ValueError("expected a GitHub login such as github-actions[bot]")
    return text.strip()


@dataclass(frozen=True)
class Option:
    """One row of the configuration table (the docs table is checked against it)."""

    name: str
    field: str
    parse: Callable[[str], Any]
    accepts: str
    agents_md: bool
    doc: str

    @property
    def env(self) -> str:
        return "CODEX_REVIEW_" + self.name.upper().replace("-", "_")


@dataclass(frozen=True)
class Outputs:
    """What to deliver. The defaults are what a pull request from this repository gets."""

    comment: bool = True
    inline: bool = True
    check_run: bool = True
    commit_status: bool = False
    annotations: str = "auto"
    job_summary: bool = True
    review_event: str = "comment"
    max_inline: int = 30
    check_fail_on: str = "error"
    wait_budget: float = 600.0
    bot_login: str = "github-actions[bot]"

    @property
    def fail_threshold(self) -> Severity | None:
        return None if self.check_fail_on == "never" else Severity.from_label(self.check_fail_on)


OPTIONS: tuple[Option, ...] = (
    Option("comment", "comment", _flag, "on, off", True, "the summary comment on the PR"),
    Option(
        "inline",
        "inline",
        _flag,
        "on, off",
        True,
        "one review per push with a comment on the changed line of each new finding",
    ),
    Option(
        "check-run",
        "check_run",
        _flag,
        "on, off",
        True,
        "the `codex-review` check run with an annotation per finding",
    ),
    Option(
        "commit-status",
        "commit_status",
        _flag,
        "on, off",
        True,
        "the `codex-review` commit status (also set when the check run is refused)",
    ),
    Option(
        "annotations",
        "annotations",
        _choice("auto", "always", "never"),
        "auto, always, never",
        True,
        "workflow-command annotations in the job log; `auto`: when no check run carries them",
    ),
    Option(
        "job-summary",
        "job_summary",
        _flag,
        "on, off",
        True,
        "the full findings table in the job summary",
    ),
    Option(
        "review-event",
        "review_event",
        _choice("comment", "request-changes"),
        "comment, request-changes",
        True,
        "`request-changes`: the review requests changes when an error is found",
    ),
    Option(
        "max-inline",
        "max_inline",
        _count(0, 100),
        "0 to 100",
        True,
        "most inline comments per review; the rest are counted in the summary",
    ),
    Option(
        "check-fail-on",
        "check_fail_on",
        _choice("error", "warning", "never"),
        "error, warning, never",
        True,
        "the check run fails at or above this severity; other findings make it neutral",
    ),
    Option(
        "wait-budget",
        "wait_budget",
        _seconds,
        "seconds, 0 to 21600",
        False,
        "total time the bot may wait on GitHub rate limits before it stops with an error",
    ),
    Option(
        "bot-login",
        "bot_login",
        _login,
        "a login",
        False,
        "the author of the bot's comments when GITHUB_TOKEN is an app token (GET /user is 403)",
    ),
)
_BY_NAME = {option.name: option for option in OPTIONS}


def _apply(outputs: Outputs, option: Option, value: str, where: str) -> Outputs:
    try:
        parsed = option.parse(value)
    except ValueError as error:
        raise OutputsError(f"{where}: {value.strip()!r} is not valid ({error})") from None
    return replace(outputs, **{option.field: parsed})


def _section(text: str) -> list[tuple[int, str]]:
    """(line number, line) of the ``## Review outputs`` section, outside code fences."""
    lines: list[tuple[int, str]] = []
    inside = fenced = False
    for number, line in enumerate(text.split("\n"), start=1):
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
            continue
        heading = None if fenced else _HEADING.match(line)
        if heading is not None and len(heading.group(1)) <= 2:
            inside = heading.group(2).strip().lower() == SECTION
            continue
        if inside and not fenced:
            lines.append((number, line))
    return lines


def from_agents_md(text: str, outputs: Outputs = Outputs()) -> Outputs:
    """``outputs`` with the bullets of the root AGENTS.md's ``## Review outputs`` applied."""
    for number, line in _section(text):
        if not line.strip():
            continue
        bullet = _BULLET.match(line)
        where = f"{AGENTS_MD}:{number}"
        if bullet is None:
            raise OutputsError(f"{where}: expected a bullet '- name: value' under Review outputs")
        name = " ".join(bullet.group("name").lower().split()).replace(" ", "-")
        option = _BY_NAME.get(name)
        if option is None or not option.agents_md:
            known = ", ".join(o.name for o in OPTIONS if o.agents_md)
            raise OutputsError(f"{where}: unknown output option {name!r} (known: {known})")
        outputs = _apply(outputs, option, bullet.group("value"), f"{where}: {name}")
    return outputs


def from_env(env: Mapping[str, str], outputs: Outputs = Outputs()) -> Outputs:
    """``outputs`` with every non-empty ``CODEX_REVIEW_*`` variable applied."""
    for option in OPTIONS:
        value = env.get(option.env, "")
        if value.strip():
            outputs = _apply(outputs, option, value, option.env)
    return outputs


def load(env: Mapping[str, str], agents_md: str | None) -> Outputs:
    """Defaults, then the root AGENTS.md (if any), then the workflow's environment."""
    base = from_agents_md(agents_md) if agents_md is not None else Outputs()
    return from_env(env, base)
