"""Deliver a review to the pull request through the GitHub client: the summary comment, the
inline review, the check run and the commit status, each as the outputs configuration says.

A 403 on one output (a fork's read-only token, a personal access token that may not create
check runs) is recorded and the others still run; any other failure propagates.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from codex_review.checks import check_run
from codex_review.comment import MARKER, render_markdown
from codex_review.context import GitHubSettings, PullRequest
from codex_review.github import (
    Comment,
    GitHubClient,
    GitHubError,
    GitHubForbiddenError,
    GitHubUnavailableError,
    GitHubValidationError,
)
from codex_review.inline import (
    Plan,
    commentable_lines,
    fixed_body,
    moved_body,
    parse_marker,
    plan_review,
)
from codex_review.outputs import Outputs
from codex_review.review import Review
from codex_review.status import commit_status

DISMISS_MESSAGE = "codex-review finds no error on the latest push any more."


@dataclass
class Delivered:
    """What reached the pull request, for the command's messages and the annotations."""

    comment: Comment | None = None
    comment_created: bool = False
    plan: Plan | None = None
    review_id: int | None = None
    check_run_id: int | None = None
    status: str | None = None
    forbidden: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def find_summary_comment(comments: Iterator[Comment], login: str) -> Comment | None:
    """The bot's earlier comment: written by the token's own identity and starting with the
    marker. Anyone else's comment carrying the marker is never adopted: the review would then
    appear under their name, and they could edit it afterwards."""
    for comment in comments:
        if comment.author == login and comment.body.lstrip().startswith(MARKER):
            return comment
    return None


@dataclass(frozen=True)
class Target:
    """The pull request being published to, every field known."""

    repository: str
    number: int
    head_sha: str


def publish_comment(
    client: GitHubClient, target: Target, body: str, login: str
) -> tuple[Comment, bool]:
    """Create or update the summary comment; True when it was created."""
    repository, number = target.repository, target.number
    existing = find_summary_comment(client.iter_comments(repository, number), login)
    if existing is not None:
        return client.update_comment(repository, existing.id, body), False
    try:
        return client.create_comment(repository, number, body), True
    except GitHubUnavailableError:
        # The comment may exist anyway (a 502 after the write): look again before writing
        # again, so that a flaky answer never leaves two summary comments.
        existing = find_summary_comment(client.iter_comments(repository, number), login)
        if existing is not None:
            return client.update_comment(repository, existing.id, body), False
        return client.create_comment(repository, number, body), True


@dataclass
class _Publisher:
    client: GitHubClient
    target: Target
    pull: PullRequest
    result: Review
    outputs: Outputs
    login: str
    delivered: Delivered

    def plan(self) -> Plan:
        repository, number = self.target.repository, self.target.number
        commentable = {
            f.path: commentable_lines(f.patch)
            for f in self.client.iter_files(repository, number)
            if f.status != "removed"
        }
        earlier = [
            c
            for c in self.client.iter_review_comments(repository, number)
            if c.author == self.login and parse_marker(c.body) is not None
        ]
        return plan_review(self.result.findings, commentable, earlier, self.outputs.max_inline)

    def comment(self, notes: list[str]) -> None:
        body = render_markdown(self.result, self.pull, notes)
        self.delivered.comment, self.delivered.comment_created = publish_comment(
            self.client, self.target, body, self.login
        )

    def _hide(self, node_id: str) -> None:
        """Minimize an outdated comment; a refusal leaves it visible, marked in its text."""
        try:
            if node_id and not self.client.minimize_comment(node_id):
                self.delivered.notes.append("a fixed or moved comment could not be hidden")
        except GitHubError as error:
            self.delivered.notes.append(f"a fixed or moved comment could not be hidden ({error})")

    def _create_review(self, plan: Plan, comments: list[dict[str, Any]]) -> int:
        event = plan.event(self.outputs.review_event == "request-changes")
        review = self.client.create_review(
            self.target.repository,
            self.target.number,
            commit_id=self.target.head_sha,
            body=plan.review_body(self.target.head_sha),
            event=event,
            comments=comments,
        )
        return review.id

    def review(self, plan: Plan) -> None:
        repository, number, head = self.target.repository, self.target.number, self.target.head_sha
        if plan.new:
            try:
                self.delivered.review_id = self._create_review(plan, plan.comments())
            except GitHubValidationError as error:
                # GitHub refused a line after all (the head moved on since the diff was
                # read): keep the verdict; the findings are in the summary and the check run.
                self.delivered.notes.append(f"inline comments refused ({error})")
                self.delivered.review_id = self._create_review(plan, [])
        for comment, key in plan.fixed:
            self.client.update_review_comment(
                repository, comment.id, fixed_body(comment, key, head)
            )
            self._hide(comment.node_id)
        for comment, key, line in plan.moved:
            self.client.update_review_comment(
                repository, comment.id, moved_body(comment, key, line)
            )
            self._hide(comment.node_id)
        if self.outputs.review_event == "request-changes" and not plan.errors:
            for review in self.client.iter_reviews(repository, number):
                if review.author == self.login and review.state == "CHANGES_REQUESTED":
                    self._dismiss(review.id)

    def _dismiss(self, review_id: int) -> None:
        """Dismiss the bot's earlier "changes requested" review. A branch protection rule may
        restrict who dismisses reviews (403) and GitHub refuses a review that is no longer
        dismissable (422): the run goes on and says so, since the new review stands anyway."""
        try:
            self.client.dismiss_review(
                self.target.repository, self.target.number, review_id, DISMISS_MESSAGE
            )
        except (GitHubForbiddenError, GitHubValidationError) as error:
            self.delivered.notes.append(
                f"the earlier changes-requested review {review_id} could not be dismissed "
                f"({error}); dismiss it by hand"
            )

    def check_run(self, notes: list[str], now: str, details_url: str | None) -> None:
        run = check_run(
            self.result,
            self.target.head_sha,
            self.outputs.fail_threshold,
            now=now,
            details_url=details_url,
            notes=notes,
        )
        run_id = self.client.create_check_run(self.target.repository, run.create)
        for update in run.updates:
            self.client.update_check_run(self.target.repository, run_id, update)
        self.delivered.check_run_id = run_id

    def status(self, details_url: str | None) -> None:
        status = commit_status(self.result.worst)
        comment = self.delivered.comment
        target = comment.html_url if comment is not None else details_url
        self.client.create_status(self.target.repository, self.target.head_sha, status, target)
        self.delivered.status = f"{status.state} ({status.description})"

    def attempt(self, step: Callable[[], None]) -> bool:
        """Run one output; a 403 is recorded and answers False."""
        try:
            step()
        except GitHubForbiddenError as error:
            self.delivered.forbidden.append(str(error))
            return False
        return True


def deliver(
    client: GitHubClient,
    settings: GitHubSettings,
    result: Review,
    outputs: Outputs,
    *,
    now: str,
    details_url: str | None = None,
) -> Delivered:
    """Run every configured output; 403s are collected in ``forbidden``, not raised."""
    pull = settings.pull
    if pull.repository is None or pull.number is None or pull.head_sha is None:
        raise GitHubError("the pull request is not known (repository, number, head SHA)")
    delivered = Delivered()
    login = client.identity(outputs.bot_login) if outputs.comment or outputs.inline else ""
    target = Target(pull.repository, pull.number, pull.head_sha)
    publisher = _Publisher(client, target, pull, result, outputs, login, delivered)

    def plan() -> None:
        delivered.plan = publisher.plan()

    if outputs.inline:
        publisher.attempt(plan)
    notes = delivered.plan.notes() if delivered.plan is not None else []
    if outputs.comment:
        publisher.attempt(lambda: publisher.comment(notes))
    if delivered.plan is not None:
        found = delivered.plan
        publisher.attempt(lambda: publisher.review(found))
    # A personal access token may not create check runs; the commit status then stands in.
    checked = outputs.check_run and publisher.attempt(
        lambda: publisher.check_run(notes, now, details_url)
    )
    if outputs.commit_status or (outputs.check_run and not checked):
        publisher.attempt(lambda: publisher.status(details_url))
    return delivered
