"""The ``codex-review`` check run: its conclusion, its summary table and one annotation per
finding, cut into the batches of at most 50 that the Checks API accepts per request."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from codex_review.comment import ICONS, escape_text
from codex_review.models import Finding, Severity
from codex_review.review import Review

CHECK_NAME = "codex-review"
MAX_ANNOTATIONS_PER_REQUEST = 50
MAX_SUMMARY_CHARS = 65_535
LEVELS = {Severity.ERROR: "failure", Severity.WARNING: "warning", Severity.INFO: "notice"}
_MAX_TITLE = 255


def conclusion(worst: Severity | None, fail_on: Severity | None) -> str:
    """failure at or above ``fail_on``; neutral for warnings below it; success otherwise."""
    if worst is not None and fail_on is not None and worst >= fail_on:
        return "failure"
    if worst is not None and worst >= Severity.WARNING:
        return "neutral"
    return "success"


def title(review: Review) -> str:
    if not review.findings:
        return "No issues found"
    counts = []
    for severity in sorted(Severity, reverse=True):
        count = review.count(severity)
        if count:
            plural = "s" if count != 1 and severity is not Severity.INFO else ""
            counts.append(f"{count} {severity.label}{plural}")
    return ", ".join(counts)


def summary(review: Review, notes: Sequence[str] = ()) -> str:
    """Markdown: a count per severity, then the findings (as many as fit 65,535 characters)."""
    lines = [
        f"{escape_text(review.summary)} in {review.files_reviewed} "
        f"file{'' if review.files_reviewed == 1 else 's'}.",
        "",
        "| Severity | Findings |",
        "|---|---|",
        *(f"| {ICONS[s]} {s.label} | {review.count(s)} |" for s in sorted(Severity, reverse=True)),
    ]
    if notes:
        lines += ["", *notes]
    ordered = sorted(review.findings, key=lambda f: (-f.severity, f.file, f.line))
    if ordered:
        lines += ["", "| Severity | File | Line | Rule | Issue |", "|---|---|---|---|---|"]
    used = sum(len(line) + 1 for line in lines)
    for shown, finding in enumerate(ordered):
        row = (
            f"| {ICONS[finding.severity]} {finding.severity.label} | `{escape_text(finding.file)}` "
            f"| {finding.line} | `{finding.rule}` | {escape_text(finding.message)} |"
        )
        if used + len(row) + 200 > MAX_SUMMARY_CHARS:
            lines += ["", f"... and {len(ordered) - shown} more, each as an annotation."]
            break
        lines.append(row)
        used += len(row) + 1
    return "\n".join(lines)


def annotation(finding: Finding) -> dict[str, Any]:
    item: dict[str, Any] = {
        "path": finding.file,
        "start_line": finding.line,
        "end_line": finding.line,
        "annotation_level": LEVELS[finding.severity],
        "message": finding.message,
        "title": f"{finding.rule} ({finding.severity.label})"[:_MAX_TITLE],
    }
    if finding.code:
        item["raw_details"] = finding.code
    return item


def batches(items: Sequence[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    """``items`` in runs of at most 50; at least one (possibly empty) run."""
    yield list(items[:MAX_ANNOTATIONS_PER_REQUEST])
    for start in range(MAX_ANNOTATIONS_PER_REQUEST, len(items), MAX_ANNOTATIONS_PER_REQUEST):
        yield list(items[start : start + MAX_ANNOTATIONS_PER_REQUEST])


@dataclass(frozen=True)
class CheckRun:
    """The requests that create the check run: the POST, then a PATCH per further batch."""

    create: dict[str, Any]
    updates: tuple[dict[str, Any], ...]


def check_run(
    review: Review,
    head_sha: str,
    fail_on: Severity | None,
    *,
    now: str,
    details_url: str | None = None,
    notes: Sequence[str] = (),
) -> CheckRun:
    """The create request (completed when one batch holds every annotation, else in progress)
    and the updates that append the other batches, the last one completing the run."""
    output = {"title": title(review), "summary": summary(review, notes)}
    runs = list(batches([annotation(f) for f in review.findings]))
    done = {
        "status": "completed",
        "conclusion": conclusion(review.worst, fail_on),
        "completed_at": now,
    }
    create: dict[str, Any] = {
        "name": CHECK_NAME,
        "head_sha": head_sha,
        "started_at": now,
        "output": {**output, "annotations": runs[0]},
        **(done if len(runs) == 1 else {"status": "in_progress"}),
    }
    if details_url:
        create["details_url"] = details_url
    updates = tuple(
        {
            "output": {**output, "annotations": batch},
            **(done if index == len(runs) - 1 else {}),
        }
        for index, batch in enumerate(runs[1:], start=1)
    )
    return CheckRun(create, updates)
