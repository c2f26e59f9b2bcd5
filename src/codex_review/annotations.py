"""Findings as GitHub Actions workflow commands (``::error file=...,line=...::message``), which
need no write permission, so a pull request from a fork still shows them on its lines.

Escaped exactly as the Actions runner unescapes them. GitHub shows at most 10 error, 10 warning
and 10 notice annotations per step (and 50 per job), so errors are chosen first, then warnings,
then notices, and one last notice says how many were left out and where they all are.
"""

from __future__ import annotations

from collections.abc import Sequence

from codex_review.models import Finding, Severity

COMMANDS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}
PER_STEP = {Severity.ERROR: 10, Severity.WARNING: 10, Severity.INFO: 10}
TITLE = "codex-review"


def escape_data(text: str) -> str:
    """A command's message: the runner turns %25, %0D and %0A back into %, CR and LF."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A property value (file, title...): also ``:`` and ``,``, which end a property."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(kind: str, message: str, **properties: str | int) -> str:
    props = ",".join(f"{name}={escape_property(str(value))}" for name, value in properties.items())
    return f"::{kind}{' ' + props if props else ''}::{escape_data(message)}"


def finding_command(finding: Finding) -> str:
    return command(
        COMMANDS[finding.severity],
        f"{finding.message} ({finding.rule})",
        file=finding.file,
        line=finding.line,
        title=f"{TITLE}: {finding.rule}",
    )


def select(findings: Sequence[Finding], other_notices: int = 0) -> tuple[list[Finding], int]:
    """The findings GitHub will display, errors first, and how many are left out. The step's
    other notices, and the line reporting a left-out count, take notice slots too."""
    ordered = sorted(findings, key=lambda f: (-f.severity, f.file, f.line))
    by_severity = {s: [f for f in ordered if f.severity is s] for s in Severity}
    left_out = sum(max(0, len(by_severity[s]) - PER_STEP[s]) for s in Severity)
    shown: list[Finding] = []
    for severity in sorted(Severity, reverse=True):
        room = PER_STEP[severity]
        if severity is Severity.INFO:
            room -= other_notices
            room -= 1 if left_out or len(by_severity[severity]) > room else 0
        shown += by_severity[severity][: max(0, room)]
    return shown, len(ordered) - len(shown)


def workflow_commands(
    findings: Sequence[Finding], summary_written: bool, other_notices: int = 0
) -> list[str]:
    """The lines to print: an annotation per displayed finding, then the left-out count."""
    shown, left_out = select(findings, other_notices)
    lines = [finding_command(finding) for finding in shown]
    if left_out:
        where = "the job summary lists" if summary_written else "the report file lists"
        lines.append(
            command(
                "notice",
                f"{left_out} more finding{'s' if left_out != 1 else ''} not shown as annotations "
                "(GitHub shows at most 10 errors and 10 warnings per step); "
                f"{where} every finding.",
                title=TITLE,
            )
        )
    return lines
