"""A small GitHub REST client for what the bot publishes: its summary comment, its pull-request
review and review comments, its check run and its commit status.

It knows nothing about rules. Requests are retried on 5xx, on 429 and on rate limits: as
``Retry-After`` says, else until the primary limit's reset, else (a secondary limit that says
nothing) after at least a minute, doubling; every wait counts against one time budget for the
whole run, and a wait beyond it stops with an error that says so. A plain 403 - the read-only
token of a pull request from a fork - raises ``GitHubForbiddenError`` so that the caller can
carry on. The token only ever travels in the Authorization header, never in a message, and
pagination never follows a link to another origin.
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

from codex_review.status import MAX_DESCRIPTION, STATUS_CONTEXT, VALID_STATES, CommitStatus

API_VERSION = "2022-11-28"
PER_PAGE = 100
MAX_ATTEMPTS = 5
BACKOFF_SECONDS = 1.0
SECONDARY_LIMIT_WAIT = 60.0
WAIT_BUDGET_SECONDS = 600.0
# An installation token (GITHUB_TOKEN) may not read /user; its comments are the app's bot's.
ACTIONS_BOT = "github-actions[bot]"
_MINIMIZE = (
    "mutation($id: ID!) { minimizeComment(input: {subjectId: $id, classifier: OUTDATED}) "
    "{ minimizedComment { isMinimized } } }"
)


class GitHubError(RuntimeError):
    """The GitHub API refused or failed a request (after retries)."""


class GitHubForbiddenError(GitHubError):
    """403 that is not a rate limit: the token may not write here (e.g. a fork's PR)."""


class GitHubUnavailableError(GitHubError):
    """5xx or no answer: the request may or may not have been applied."""


class GitHubValidationError(GitHubError):
    """422: GitHub understood the request and refused its content."""


@dataclass(frozen=True)
class Comment:
    """An issue comment (the summary lives in one)."""

    id: int
    html_url: str
    body: str
    author: str


@dataclass(frozen=True)
class ReviewComment:
    """A pull-request review comment; ``line`` is None once GitHub marks it outdated."""

    id: int
    node_id: str
    path: str
    line: int | None
    body: str
    author: str


@dataclass(frozen=True)
class PullReview:
    id: int
    state: str
    author: str


@dataclass(frozen=True)
class PullFile:
    """A file of the pull request as GitHub diffs it; ``patch`` is None when GitHub omits it."""

    path: str
    status: str
    patch: str | None


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


def rate_limit_wait(
    response: httpx.Response, now: float, secondary_waits: int
) -> tuple[float, bool]:
    """Seconds to wait before retrying a rate-limited request, as GitHub documents it, and
    whether GitHub said nothing (a bare secondary limit): ``Retry-After``; else until
    ``x-ratelimit-reset`` when no request is left; else at least a minute, doubling with each
    bare secondary limit already waited out in this run."""
    value = response.headers.get("retry-after", "").strip()
    if value.isdigit():
        return float(value), False
    if value:
        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - now), False
        except (TypeError, ValueError):
            pass
    reset = response.headers.get("x-ratelimit-reset", "")
    if response.headers.get("x-ratelimit-remaining") == "0" and reset.isdigit():
        return max(0.0, float(reset) - now) + 1.0, False
    return SECONDARY_LIMIT_WAIT * 2.0**secondary_waits, True


def _login(payload: Any) -> str:
    user = payload.get("user") if isinstance(payload, dict) else None
    return str(user.get("login", "")) if isinstance(user, dict) else ""


def _require_id(payload: Any, what: str) -> dict[str, Any]:
    if not isinstance(payload, dict) or not isinstance(payload.get("id"), int):
        raise GitHubError(f"GitHub API answered with an unexpected {what} shape")
    return payload


def _comment(payload: Any) -> Comment:
    item = _require_id(payload, "comment")
    return Comment(
        item["id"], str(item.get("html_url", "")), str(item.get("body") or ""), _login(item)
    )


def _review_comment(payload: Any) -> ReviewComment:
    item = _require_id(payload, "review comment")
    line = item.get("line")
    return ReviewComment(
        item["id"],
        str(item.get("node_id", "")),
        str(item.get("path", "")),
        line if isinstance(line, int) else None,
        str(item.get("body") or ""),
        _login(item),
    )


def _review(payload: Any) -> PullReview:
    item = _require_id(payload, "review")
    return PullReview(item["id"], str(item.get("state", "")), _login(item))


def _file(payload: Any) -> PullFile:
    if not isinstance(payload, dict) or not isinstance(payload.get("filename"), str):
        raise GitHubError("GitHub API answered with an unexpected pull request file shape")
    patch = payload.get("patch")
    return PullFile(
        payload["filename"],
        str(payload.get("status", "")),
        patch if isinstance(patch, str) else None,
    )


def graphql_url(api_url: str) -> str:
    """GitHub.com serves GraphQL at ``/graphql`` of the API; GitHub Enterprise Server's REST
    API is ``https://HOST/api/v3`` and its GraphQL ``https://HOST/api/graphql``."""
    base = api_url.rstrip("/")
    return base.removesuffix("/v3") + "/graphql"


class GitHubClient:
    """Authenticated calls to one GitHub API origin, with retries within one time budget."""

    def __init__(
        self,
        api_url: str,
        token: str,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        max_attempts: int = MAX_ATTEMPTS,
        backoff: float = BACKOFF_SECONDS,
        wait_budget: float = WAIT_BUDGET_SECONDS,
        timeout: float = 30.0,
    ) -> None:
        self._origin = urlsplit(api_url)[:2]
        self._graphql = graphql_url(api_url)
        self._sleep = sleep
        self._clock = clock
        self._max_attempts = max_attempts
        self._backoff = backoff
        self._budget = wait_budget
        self._waited = 0.0
        self._secondary_waits = 0
        self._identity: str | None = None
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

    @property
    def waited(self) -> float:
        """Seconds spent waiting on GitHub so far."""
        return self._waited

    def _wait(self, seconds: float, what: str, why: str) -> None:
        """Sleep `seconds` before trying `what` again, because `why` (how the last try went,
        for the error line when the wait budget does not allow it)."""
        if self._waited + seconds > self._budget:
            left = max(0.0, self._budget - self._waited)
            raise GitHubError(
                f"GitHub API {what} {why}; the next try would wait {seconds:.0f} s, more than "
                f"the {left:.0f} s left of the wait budget (CODEX_REVIEW_WAIT_BUDGET)"
            )
        self._waited += seconds
        self._sleep(seconds)

    def _request(
        self, method: str, url: str, payload: Any = None, *, idempotent: bool = True
    ) -> httpx.Response:
        """Send with retries. A non-idempotent request (creating a comment) is not repeated
        after a 5xx or a lost connection, which may have come after it was applied; the
        caller decides. Rate-limit answers mean "not applied" and are always retried."""
        what = f"{method} {urlsplit(url).path or url}"
        failures = 0
        while True:
            final = failures >= self._max_attempts - 1
            try:
                response = self._http.request(method, url, json=payload)
            except httpx.TransportError as error:
                if final or not idempotent:
                    message = f"GitHub API {what} failed: {type(error).__name__}"
                    raise GitHubUnavailableError(message) from None
                why = f"failed: {type(error).__name__}"
                self._wait(self._backoff_delay(failures), what, why)
                failures += 1
                continue
            if _is_rate_limited(response):
                wait, bare = rate_limit_wait(response, self._clock(), self._secondary_waits)
                self._secondary_waits += bare
                self._wait(wait, what, "is rate limited")
                continue
            if not (idempotent and response.status_code >= 500) or final:
                break
            retry_after = response.headers.get("retry-after", "").strip()
            delay = float(retry_after) if retry_after.isdigit() else self._backoff_delay(failures)
            self._wait(delay, what, f"answered {response.status_code}")
            failures += 1
        if response.is_success:
            return response
        detail = f"GitHub API {what} answered {response.status_code}: {_message(response)}"
        if response.status_code == 403:
            raise GitHubForbiddenError(detail)
        if response.status_code == 422:
            raise GitHubValidationError(detail)
        if response.status_code >= 500:
            raise GitHubUnavailableError(detail)
        raise GitHubError(detail)

    def _backoff_delay(self, attempt: int) -> float:
        return self._backoff * 2.0**attempt

    def _pages(self, url: str | None, what: str) -> Iterator[Any]:
        """Every item of a listing, following ``Link: rel="next"`` pages on this origin."""
        while url is not None:
            response = self._request("GET", url)
            payload = response.json()
            if not isinstance(payload, list):
                raise GitHubError(f"GitHub API answered with an unexpected {what} list shape")
            yield from payload
            url = response.links.get("next", {}).get("url")
            if url is not None and urlsplit(url)[:2] != self._origin:
                raise GitHubError("GitHub API pagination pointed to another origin; stopped")

    # --- who the bot is ------------------------------------------------------------------------
    def identity(self, app_login: str = ACTIONS_BOT) -> str:
        """The login the token writes as: ``GET /user`` for a personal access token; an
        installation token (GITHUB_TOKEN) is refused there and writes as ``app_login``."""
        if self._identity is None:
            try:
                payload = self._request("GET", "user").json()
            except GitHubForbiddenError:
                self._identity = app_login
            else:
                login = payload.get("login") if isinstance(payload, dict) else None
                if not isinstance(login, str) or not login:
                    raise GitHubError("GitHub API answered GET /user without a login")
                self._identity = login
        return self._identity

    # --- the summary comment -------------------------------------------------------------------
    def iter_comments(self, repository: str, number: int) -> Iterator[Comment]:
        url = f"repos/{repository}/issues/{number}/comments?per_page={PER_PAGE}"
        return (_comment(item) for item in self._pages(url, "comment"))

    def create_comment(self, repository: str, number: int, body: str) -> Comment:
        url = f"repos/{repository}/issues/{number}/comments"
        response = self._request("POST", url, {"body": body}, idempotent=False)
        return _comment(response.json())

    def update_comment(self, repository: str, comment_id: int, body: str) -> Comment:
        response = self._request(
            "PATCH", f"repos/{repository}/issues/comments/{comment_id}", {"body": body}
        )
        return _comment(response.json())

    # --- the pull-request review ---------------------------------------------------------------
    def iter_files(self, repository: str, number: int) -> Iterator[PullFile]:
        url = f"repos/{repository}/pulls/{number}/files?per_page={PER_PAGE}"
        return (_file(item) for item in self._pages(url, "pull request file"))

    def iter_review_comments(self, repository: str, number: int) -> Iterator[ReviewComment]:
        url = f"repos/{repository}/pulls/{number}/comments?per_page={PER_PAGE}"
        return (_review_comment(item) for item in self._pages(url, "review comment"))

    def iter_reviews(self, repository: str, number: int) -> Iterator[PullReview]:
        url = f"repos/{repository}/pulls/{number}/reviews?per_page={PER_PAGE}"
        return (_review(item) for item in self._pages(url, "review"))

    def create_review(
        self,
        repository: str,
        number: int,
        *,
        commit_id: str,
        body: str,
        event: str,
        comments: list[dict[str, Any]],
    ) -> PullReview:
        payload = {"commit_id": commit_id, "body": body, "event": event, "comments": comments}
        url = f"repos/{repository}/pulls/{number}/reviews"
        return _review(self._request("POST", url, payload, idempotent=False).json())

    def update_review_comment(self, repository: str, comment_id: int, body: str) -> None:
        url = f"repos/{repository}/pulls/comments/{comment_id}"
        self._request("PATCH", url, {"body": body})

    def dismiss_review(self, repository: str, number: int, review_id: int, message: str) -> None:
        url = f"repos/{repository}/pulls/{number}/reviews/{review_id}/dismissals"
        self._request("PUT", url, {"message": message, "event": "DISMISS"})

    def minimize_comment(self, node_id: str) -> bool:
        """Hide a comment as outdated (GraphQL ``minimizeComment``; REST has no equivalent).
        True when GitHub says it is hidden; GraphQL reports refusals in ``errors``."""
        payload = {"query": _MINIMIZE, "variables": {"id": node_id}}
        answer = self._request("POST", self._graphql, payload).json()
        data = answer.get("data") if isinstance(answer, dict) else None
        minimized = (data or {}).get("minimizeComment") or {}
        return bool((minimized.get("minimizedComment") or {}).get("isMinimized"))

    # --- the check run and the commit status ---------------------------------------------------
    def create_check_run(self, repository: str, payload: dict[str, Any]) -> int:
        response = self._request(
            "POST", f"repos/{repository}/check-runs", payload, idempotent=False
        )
        return int(_require_id(response.json(), "check run")["id"])

    def update_check_run(self, repository: str, run_id: int, payload: dict[str, Any]) -> None:
        self._request("PATCH", f"repos/{repository}/check-runs/{run_id}", payload)

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
