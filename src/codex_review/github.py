"""A small GitHub REST client for what the bot publishes: its PR comment and its commit status.

It knows nothing about rules. Requests are retried on 5xx, on 429 and on secondary rate limits,
waiting as ``Retry-After`` (or the rate-limit reset) says, else with exponential backoff.
A plain 403 - the read-only token of a pull request from a fork - raises ``GitHubForbiddenError``
so that the caller can carry on. The token only ever travels in the Authorization header, never
in a message, and pagination never follows a link to another origin.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

import httpx

from codex_review.comment import MARKER
from codex_review.context import GitHubSettings
from codex_review.status import MAX_DESCRIPTION, STATUS_CONTEXT, VALID_STATES, CommitStatus

API_VERSION = "2022-11-28"
PER_PAGE = 100
MAX_ATTEMPTS = 5
BACKOFF_SECONDS = 1.0
MAX_DELAY_SECONDS = 120.0


class GitHubError(RuntimeError):
    """The GitHub API refused or failed a request (after retries)."""


class GitHubForbiddenError(GitHubError):
    """403 that is not a rate limit: the token may not write here (e.g. a fork's PR)."""


class GitHubUnavailableError(GitHubError):
    """5xx or no answer: the request may or may not have been applied."""


@dataclass(frozen=True)
class Comment:
    id: int
    html_url: str
    body: str
    by_bot: bool


@dataclass(frozen=True)
class Published:
    """What ``publish`` did: the comment it wrote, new or updated (the status is set too)."""

    comment: Comment
    created: bool


def _message(response: httpx.Response) -> str:
    try:
        payload = response.json()
    except ValueError:
        return response.text[:200].strip() or response.reason_phrase
    if isinstance(payload, dict) and isinstance(payload.get("message"), str):
        return str(payload["message"])[:200]
    return response.reason_phrase


def _is_rate_limited(response: httpx.Response) -> bool:
    if response.status_code == 429:
        return True
    if response.status_code != 403:
        return False
    headers = response.headers
    return (
        "retry-after" in headers
        or headers.get("x-ratelimit-remaining") == "0"
        or "rate limit" in _message(response).lower()
    )


def _retry_after(response: httpx.Response, now: float) -> float | None:
    """Seconds the server asks to wait, from Retry-After or the rate-limit reset, if it says."""
    value = response.headers.get("retry-after")
    if value is not None:
        if value.strip().isdigit():
            return float(value.strip())
        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - now)
        except (TypeError, ValueError):
            return None
    reset = response.headers.get("x-ratelimit-reset")
    if response.headers.get("x-ratelimit-remaining") == "0" and reset and reset.isdigit():
        return max(0.0, float(reset) - now)
    return None


def _comment(payload: Any) -> Comment:
    if not isinstance(payload, dict) or not isinstance(payload.get("id"), int):
        raise GitHubError("GitHub API answered with an unexpected comment shape")
    user = payload.get("user")
    by_bot = isinstance(user, dict) and user.get("type") == "Bot"
    return Comment(
        payload["id"], str(payload.get("html_url", "")), str(payload.get("body") or ""), by_bot
    )


class GitHubClient:
    """Authenticated calls to one GitHub API origin, with retries."""

    def __init__(
        self,
        api_url: str,
        token: str,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        max_attempts: int = MAX_ATTEMPTS,
        backoff: float = BACKOFF_SECONDS,
        timeout: float = 30.0,
    ) -> None:
        self._origin = urlsplit(api_url)[:2]
        self._sleep = sleep
        self._clock = clock
        self._max_attempts = max_attempts
        self._backoff = backoff
        self._http = httpx.Client(
            base_url=api_url.rstrip("/") + "/",
            headers={
                "Authorization": f"Bearer {token}",
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": API_VERSION,
                "User-Agent": "codex-review",
            },
            timeout=timeout,
            follow_redirects=False,
        )

    def __enter__(self) -> GitHubClient:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._http.close()

    def _request(
        self, method: str, url: str, payload: Any = None, *, idempotent: bool = True
    ) -> httpx.Response:
        """Send with retries. A non-idempotent request (creating a comment) is not repeated
        after a 5xx or a lost connection, which may have come after it was applied; the
        caller decides. Rate-limit answers mean "not applied" and are always retried."""
        what = f"{method} {urlsplit(url).path or url}"
        for attempt in range(self._max_attempts):
            final = attempt == self._max_attempts - 1
            try:
                response = self._http.request(method, url, json=payload)
            except httpx.TransportError as error:
                if final or not idempotent:
                    message = f"GitHub API {what} failed: {type(error).__name__}"
                    raise GitHubUnavailableError(message) from None
                self._sleep(self._backoff_delay(attempt))
                continue
            retry = _is_rate_limited(response) or (idempotent and response.status_code >= 500)
            if not retry or final:
                break
            wait = _retry_after(response, self._clock())
            self._sleep(
                min(wait, MAX_DELAY_SECONDS) if wait is not None else self._backoff_delay(attempt)
            )
        if response.is_success:
            return response
        detail = f"GitHub API {what} answered {response.status_code}: {_message(response)}"
        if response.status_code == 403 and not _is_rate_limited(response):
            raise GitHubForbiddenError(detail)
        if response.status_code >= 500:
            raise GitHubUnavailableError(detail)
        raise GitHubError(detail)

    def _backoff_delay(self, attempt: int) -> float:
        return min(self._backoff * 2.0**attempt, MAX_DELAY_SECONDS)

    def _same_origin(self, url: str) -> bool:
        return urlsplit(url)[:2] == self._origin

    def iter_comments(self, repository: str, number: int) -> Iterator[Comment]:
        """Every comment of the issue/PR, following ``Link: rel="next"`` pages."""
        url: str | None = f"repos/{repository}/issues/{number}/comments?per_page={PER_PAGE}"
        while url is not None:
            response = self._request("GET", url)
            payload = response.json()
            if not isinstance(payload, list):
                raise GitHubError("GitHub API answered with an unexpected comment list shape")
            yield from (_comment(item) for item in payload)
            url = response.links.get("next", {}).get("url")
            if url is not None and not self._same_origin(url):
                raise GitHubError("GitHub API pagination pointed to another origin; stopped")

    def create_comment(self, repository: str, number: int, body: str) -> Comment:
        url = f"repos/{repository}/issues/{number}/comments"
        response = self._request("POST", url, {"body": body}, idempotent=False)
        return _comment(response.json())

    def update_comment(self, repository: str, comment_id: int, body: str) -> Comment:
        response = self._request(
            "PATCH", f"repos/{repository}/issues/comments/{comment_id}", {"body": body}
        )
        return _comment(response.json())

    def create_status(
        self, repository: str, sha: str, status: CommitStatus, target_url: str | None
    ) -> None:
        if status.state not in VALID_STATES:
            raise ValueError(f"invalid commit status state {status.state!r}")
        payload: dict[str, str] = {
            "state": status.state,
            "description": status.description[:MAX_DESCRIPTION],
            "context": STATUS_CONTEXT,
        }
        if target_url:
            payload["target_url"] = target_url
        self._request("POST", f"repos/{repository}/statuses/{sha}", payload)


def find_review_comment(comments: Iterator[Comment]) -> Comment | None:
    """The bot's earlier comment: written by a bot account, its body starting with the marker.

    A person's comment that carries the marker is never adopted: the review would then appear
    under their name, and they could edit it afterwards.
    """
    for comment in comments:
        if comment.by_bot and comment.body.lstrip().startswith(MARKER):
            return comment
    return None


def publish(
    client: GitHubClient, settings: GitHubSettings, body: str, status: CommitStatus
) -> Published:
    """Create or update the review comment, then set the ``codex-review`` commit status."""
    pull = settings.pull
    if pull.repository is None or pull.number is None or pull.head_sha is None:
        raise GitHubError("the pull request is not known (repository, number, head SHA)")
    existing = find_review_comment(client.iter_comments(pull.repository, pull.number))
    if existing is None:
        try:
            comment = client.create_comment(pull.repository, pull.number, body)
        except GitHubUnavailableError:
            # The comment may exist anyway (a 502 after the write): look again before writing
            # again, so that a flaky answer never leaves two review comments.
            existing = find_review_comment(client.iter_comments(pull.repository, pull.number))
            if existing is None:
                comment = client.create_comment(pull.repository, pull.number, body)
    if existing is not None:
        comment = client.update_comment(pull.repository, existing.id, body)
    client.create_status(pull.repository, pull.head_sha, status, comment.html_url or None)
    return Published(comment, existing is None)
