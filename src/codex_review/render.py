"""Output formats: JSON (the original script's shape plus ``rule``), text, Markdown, SARIF."""

from __future__ import annotations

import json

from codex_review.comment import ICONS, render_markdown
from codex_review.context import PullRequest
from codex_review.models import Severity
from codex_review.review import Review
from codex_review.sarif import render_sarif

FORMATS = ("json", "text", "markdown", "sarif")


def render_json(review: Review) -> str:
    """``{"summary", "files_reviewed", "issues": [...]}``, one issue per line.

    Written by hand around json.dumps because ``indent`` switches json to its pure-Python
    encoder, which would cost more than the whole review on a large diff.
    """
    issues = ",\n".join(
        "    " + json.dumps(finding.as_json(), ensure_ascii=False) for finding in review.findings
    )
    listed = f"\n{issues}\n  " if issues else ""
    return (
        "{\n"
        f'  "summary": {json.dumps(review.summary, ensure_ascii=False)},\n'
        f'  "files_reviewed": {review.files_reviewed},\n'
        f'  "issues": [{listed}]\n'
        "}\n"
    )


def render_text(review: Review) -> str:
    lines = ["=" * 60, "🔍 CODEX CODE REVIEW", "=" * 60, ""]
    lines.append(f"Files reviewed: {review.files_reviewed}")
    lines.append(f"Issues found: {len(review.findings)}")
    for severity in sorted(Severity, reverse=True):
        group = [f for f in review.findings if f.severity is severity]
        if not group:
            continue
        lines += ["", f"{ICONS[severity]} {severity.label.upper()} ({len(group)})", "-" * 50]
        for finding in group:
            lines.append(f"  [{finding.category}] {finding.file}:{finding.line} ({finding.rule})")
            lines.append(f"  {finding.message}")
            if finding.code:
                lines.append(f"  Code: {finding.code}")
            lines.append("")
    for applied in review.guidelines:
        for problem in applied.guidelines.problems:
            where = applied.guidelines.path
            lines.append(f"warning: {where}: not applied: {problem.text} ({problem.reason})")
    lines.extend(f"note: {note}" for note in review.notes)
    lines.append("")
    lines.append(review.summary)
    return "\n".join(lines) + "\n"


def render(review: Review, output_format: str, pull: PullRequest | None = None) -> str:
    """The review in one of ``FORMATS``."""
    if output_format == "json":
        return render_json(review)
    if output_format == "text":
        return render_text(review)
    if output_format == "markdown":
        return render_markdown(review, pull or PullRequest())
    if output_format == "sarif":
        return json.dumps(render_sarif(review), indent=2, ensure_ascii=False) + "\n"
    raise ValueError(f"unknown format {output_format!r} (expected one of {', '.join(FORMATS)})")
