"""The ``codex-review`` commit status: a table from the worst finding to state and description.

GitHub accepts only error, failure, pending and success as a state, and at most 140
characters of description; warnings therefore pass (``success``) but say so.
"""

from __future__ import annotations

from dataclasses import dataclass

from codex_review.models import Severity

STATUS_CONTEXT = "codex-review"
VALID_STATES = frozenset({"error", "failure", "pending", "success"})
MAX_DESCRIPTION = 140


@dataclass(frozen=True)
class CommitStatus:
    state: str
    description: str


# worst severity found -> status; None means no finding at all (info findings included).
STATUS_TABLE: dict[Severity | None, CommitStatus] = {
    Severity.ERROR: CommitStatus("failure", "Critical issues found"),
    Severity.WARNING: CommitStatus("success", "Warnings found"),
    Severity.INFO: CommitStatus("success", "No issues found"),
    None: CommitStatus("success", "No issues found"),
}


def commit_status(worst: Severity | None) -> CommitStatus:
    """The status for a review whose most severe finding is ``worst``."""
    return STATUS_TABLE[worst]
