"""Real parts for the codex-review tests: git repositories with a bare remote, and a local HTTP
server that speaks the GitHub REST endpoints the bot uses, over a real loopback socket, with
GitHub's response shapes, ``Link`` pagination and the rules GitHub enforces: every request is
validated against the operations of GitHub's published REST description (the subset in
github_rest_subset.json), a review comment must sit on a right-side line inside a hunk of the
pull request's diff (else 422), a check run takes at most 50 annotations per request, an
installation token may not read /user and a personal access token may not create check runs.
The fixtures are in conftest.py."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jsonschema
import pytest

# The stand-in's token: a made-up value shaped like a GitHub Actions token.
TOKEN = "ghs_test0000000000000000000000000000000000"  # noqa: S105
REPOSITORY = "octo-org/widgets"
REPOSITORY_ID = 4242
PR_NUMBER = 7
HEAD_SHA = "0123456789abcdef0123456789abcdef01234567"
VALID_STATES = {"error", "failure", "pending", "success"}
ACTIONS_BOT = {"login": "github-actions[bot]", "id": 41898282, "type": "Bot"}
PAT_USER = {"login": "octo-dev", "id": 5150, "type": "User"}
REST_SUBSET = Path(__file__).with_name("github_rest_subset.json")
READ_ONLY = {"message": "Resource not accessible by integration", "documentation_url": "x"}


# --- git ------------------------------------------------------------------------------------------
class GitRepo:
    """A working clone of a bare ``origin``, driven with the real git command."""

    def __init__(self, root: Path) -> None:
        if shutil.which("git") is None:
            pytest.skip("git is not installed; install it with: apt-get install git")
        self.origin = root / "origin.git"
        self.path = root / "work"
        self._git(root, "init", "--quiet", "--bare", "--initial-branch=main", str(self.origin))
        self._git(root, "clone", "--quiet", str(self.origin), str(self.path))
        self.git("config", "user.email", "dev@example.com")
        self.git("config", "user.name", "Dev")
        self.git("config", "core.autocrlf", "false")
        self.git("checkout", "--quiet", "-b", "main")

    @staticmethod
    def _git(cwd: Path, *args: str) -> bytes:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, check=True)
        return done.stdout

    def git(self, *args: str) -> bytes:
        return self._git(self.path, *args)

    def write(self, relative: str, content: str | bytes) -> None:
        target = self.path / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            target.write_text(content, encoding="utf-8", newline="")
        else:
            target.write_bytes(content)

    def commit(self, message: str = "change") -> None:
        self.git("add", "-A")
        self.git("commit", "--quiet", "--allow-empty", "-m", message)

    def publish_base(self) -> None:
        """Push main to origin and start the PR branch, as a pull request would."""
        self.commit("base")
        self.git("push", "--quiet", "origin", "main")
        self.git("checkout", "--quiet", "-b", "feature")

    def pr_diff(self) -> bytes:
        """The workflow's diff: ``git diff origin/<base>...<head>``."""
        self.commit("feature")
        return self.git("diff", "origin/main...HEAD")

    def pr_diff_file(self, relative: str, before: str, after: str) -> Path:
        """A pull request that changes one file from `before` to `after`; its diff, on disk."""
        self.write(relative, before)
        self.publish_base()
        self.write(relative, after)
        diff = self.path.parent / "pr_diff.txt"
        diff.write_bytes(self.pr_diff())
        return diff


def diff_files(diff: bytes) -> list[dict[str, Any]]:
    """The pull request's files as ``GET /pulls/{n}/files`` lists them, from a ``git diff``:
    each file's name, status and ``patch`` (its hunks, headers left out, as GitHub gives it)."""
    files: list[dict[str, Any]] = []
    for chunk in re.split(r"^diff --git ", diff.decode("utf-8"), flags=re.MULTILINE)[1:]:
        new = re.search(r"^\+\+\+ (?:b/)?(.+)$", chunk, re.MULTILINE)
        old = re.search(r"^--- (?:a/)?(.+)$", chunk, re.MULTILINE)
        hunks = chunk.find("\n@@")
        name = (
            new.group(1) if new and new.group(1) != "/dev/null" else (old.group(1) if old else "")
        )
        status = "added" if old and old.group(1) == "/dev/null" else "modified"
        if new and new.group(1) == "/dev/null":
            status = "removed"
        entry: dict[str, Any] = {"filename": name, "status": status, "sha": "0" * 40}
        if hunks >= 0:
            entry["patch"] = chunk[hunks + 1 :].rstrip("\n")
        files.append(entry)
    return files


def right_side_lines(patch: str) -> set[int]:
    """Where GitHub accepts a ``side: RIGHT`` review comment: the new-file line numbers of the
    context and added lines of every hunk (written here by hand, apart from the bot's parser)."""
    lines: set[int] = set()
    number = 0
    for line in patch.split("\n"):
        header = re.match(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,\d+)? @@", line)
        if header:
            number = int(header.group(1))
        elif line.startswith(("+", " ")):
            lines.add(number)
            number += 1
    return lines


def _operations() -> list[tuple[str, re.Pattern[str], dict[str, Any]]]:
    subset = json.loads(REST_SUBSET.read_text(encoding="utf-8"))
    found = []
    for key, operation in subset["operations"].items():
        method, template = key.split(" ", 1)
        pattern = re.sub(r"\\\{[a-z_]+\\\}", "[^/]+", re.escape(template))
        found.append((method, re.compile(pattern), operation))
    return found


OPERATIONS = _operations()


# --- a GitHub API stand-in ------------------------------------------------------------------------
@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    authorization: str | None
    body: Any


@dataclass
class Scripted:
    method: str
    path_pattern: str
    status: int
    headers: dict[str, str]
    body: Any
    times: int
    apply: bool


@dataclass
class FakeGitHub:
    """State and request log of the stand-in; ``url`` is its API base URL.

    ``installation_token``: GITHUB_TOKEN, which writes as github-actions[bot] and may not read
    /user; False: a person's token, which /user names and which may not create check runs.
    ``read_only`` is the
    token of a pull request from a fork. ``dismissals_refused``: a branch protection rule that
    restricts who may dismiss reviews. ``violations`` lists every request that does not
    conform to GitHub's REST description (each also answered 422, as GitHub would)."""

    url: str = ""
    installation_token: bool = True
    read_only: bool = False
    dismissals_refused: bool = False
    comments: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    statuses: list[dict[str, Any]] = field(default_factory=list)
    files: list[dict[str, Any]] = field(default_factory=list)
    review_comments: list[dict[str, Any]] = field(default_factory=list)
    reviews: list[dict[str, Any]] = field(default_factory=list)
    check_runs: list[dict[str, Any]] = field(default_factory=list)
    minimized: set[str] = field(default_factory=set)
    head_sha: str = HEAD_SHA
    requests: list[Recorded] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    scripted: list[Scripted] = field(default_factory=list)
    next_id: int = 1000
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def user(self) -> dict[str, Any]:
        who = ACTIONS_BOT if self.installation_token else PAT_USER
        return {**who, "site_admin": False}

    def new_id(self) -> int:
        self.next_id += 1
        return self.next_id

    def comment_payload(self, number: int, body: str, user: dict[str, Any]) -> dict[str, Any]:
        comment_id = self.new_id()
        return {
            "url": f"{self.url}/repos/{REPOSITORY}/issues/comments/{comment_id}",
            "html_url": f"https://github.example/{REPOSITORY}/pull/{number}#issuecomment-{comment_id}",
            "issue_url": f"{self.url}/repos/{REPOSITORY}/issues/{number}",
            "id": comment_id,
            "node_id": f"IC_kwDO{comment_id}",
            "user": user,
            "created_at": "2026-01-01T00:00:00Z",
            "updated_at": "2026-01-01T00:00:00Z",
            "author_association": "NONE" if user["type"] == "Bot" else "MEMBER",
            "body": body,
            "reactions": {"url": "", "total_count": 0},
        }

    def add_comment(
        self, body: str, *, login: str = "alice", user_type: str = "User", number: int = PR_NUMBER
    ) -> dict[str, Any]:
        user = {"login": login, "id": 1, "type": user_type, "site_admin": False}
        payload = self.comment_payload(number, body, user)
        self.comments.setdefault(number, []).append(payload)
        return payload

    def push(self, diff: bytes, head_sha: str = HEAD_SHA) -> None:
        """A push to the pull request: GitHub's diff becomes `diff`; a review comment whose line
        is no longer in it becomes outdated (``line`` null), as GitHub shows it."""
        self.files = diff_files(diff)
        self.head_sha = head_sha
        lines = {f["filename"]: right_side_lines(f.get("patch", "")) for f in self.files}
        for comment in self.review_comments:
            if comment["line"] is not None and comment["line"] not in lines.get(
                comment["path"], set()
            ):
                comment["line"] = None

    def fail(
        self,
        method: str,
        path_pattern: str,
        status: int,
        *,
        headers: dict[str, str] | None = None,
        body: Any = None,
        times: int = 1,
        apply: bool = False,
    ) -> None:
        """Answer the next ``times`` matching requests with ``status`` instead of serving them
        (``apply``: serve them, so the change happens, but still answer ``status``)."""
        self.scripted.append(
            Scripted(method, path_pattern, status, headers or {}, body, times, apply)
        )

    def made(self, method: str, pattern: str = "") -> list[Recorded]:
        return [r for r in self.requests if r.method == method and re.search(pattern, r.path)]

    def open_comments(self) -> list[dict[str, Any]]:
        """The bot's review comments that are neither marked fixed/moved nor hidden."""
        return [
            c
            for c in self.review_comments
            if c["node_id"] not in self.minimized and " open -->" in c["body"]
        ]


def _operation(method: str, path: str) -> dict[str, Any] | None:
    rest = re.sub(rf"^/repositories/{REPOSITORY_ID}", f"/repos/{REPOSITORY}", path)
    for op_method, pattern, operation in OPERATIONS:
        if op_method == method and pattern.fullmatch(rest):
            return operation
    return None


def conformance(method: str, path: str, query: dict[str, list[str]], body: Any) -> str | None:
    """Why the request does not conform to GitHub's REST description, or None."""
    if path == "/graphql":
        query_text = body.get("query", "") if isinstance(body, dict) else ""
        ok = method == "POST" and "minimizeComment" in query_text
        return None if ok else f"{method} {path}: not the minimizeComment mutation"
    operation = _operation(method, path)
    if operation is None:
        return f"{method} {path}: not an operation of the REST description subset"
    problem = None
    unknown = set(query) - set(operation.get("query", []))
    per_page = query.get("per_page", ["30"])[0]
    schema = operation.get("requestBody")
    if unknown:
        problem = f"undocumented query parameters {sorted(unknown)}"
    elif not per_page.isdigit() or not 1 <= int(per_page) <= 100:
        problem = "per_page must be 1 to 100"
    elif schema is None and body is not None:
        problem = "takes no body"
    elif schema is not None:
        try:
            jsonschema.validate(body, schema)
        except jsonschema.ValidationError as error:
            problem = error.message
    return None if problem is None else f"{method} {path}: {problem}"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: GitHubStandIn

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode() if payload is not None else b""
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _handle(self, method: str) -> None:
        fake = self.server.fake
        split = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        body = json.loads(raw) if raw else None
        query = parse_qs(split.query)
        with fake.lock:
            fake.requests.append(
                Recorded(method, split.path, query, self.headers.get("Authorization"), body)
            )
            for script in fake.scripted:
                if (
                    script.times > 0
                    and script.method == method
                    and re.search(script.path_pattern, split.path)
                ):
                    script.times -= 1
                    if script.apply:
                        _route(fake, method, split.path, query, body)
                    default = {"message": "scripted", "documentation_url": "https://docs"}
                    self._send(script.status, script.body or default, script.headers)
                    return
            if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                self._send(401, {"message": "Bad credentials", "documentation_url": "x"})
                return
            problem = conformance(method, split.path, query, body)
            if problem is not None:
                fake.violations.append(problem)
                self._send(
                    422, {"message": f"Invalid request. {problem}", "documentation_url": "x"}
                )
                return
            if fake.read_only and method != "GET":
                self._send(403, READ_ONLY)
                return
            status, payload, headers = _route(fake, method, split.path, query, body)
        self._send(status, payload, headers)

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PATCH(self) -> None:
        self._handle("PATCH")

    def do_PUT(self) -> None:
        self._handle("PUT")


Response = tuple[int, Any, dict[str, str]]
_NOT_FOUND: Response = (404, {"message": "Not Found", "documentation_url": "x"}, {})
_REPO = rf"(?:/repos/{re.escape(REPOSITORY)}|/repositories/{REPOSITORY_ID})"


def _page(fake: FakeGitHub, items: list[Any], path: str, query: dict[str, list[str]]) -> Response:
    per_page = min(int(query.get("per_page", ["30"])[0]), 100)
    page = int(query.get("page", ["1"])[0])
    last = max(1, -(-len(items) // per_page))
    chunk = items[(page - 1) * per_page : page * per_page]
    # GitHub's pagination links use the repository id form of the URL.
    tail = re.sub(rf"^{_REPO}", "", path)
    base = f"{fake.url}/repositories/{REPOSITORY_ID}{tail}?per_page={per_page}"
    links = []
    if page < last:
        links += [f'<{base}&page={page + 1}>; rel="next"', f'<{base}&page={last}>; rel="last"']
    if page > 1:
        links += [f'<{base}&page={page - 1}>; rel="prev"', f'<{base}&page=1>; rel="first"']
    return 200, chunk, ({"Link": ", ".join(links)} if links else {})


def _user(fake: FakeGitHub, match: re.Match[str], query: Any, body: Any) -> Response:
    if fake.installation_token:
        return 403, READ_ONLY, {}
    return 200, fake.user, {}


def _list_comments(fake: FakeGitHub, match: re.Match[str], query: Any, body: Any) -> Response:
    return _page(fake, fake.comments.get(int(match.group(1)), []), match.group(0), query)


def _create_comment(fake: FakeGitHub, match: re.Match[str], query: Any, body: Any) -> Response:
    if len(body["body"]) > 65536:
        return 422, {"message": "Validation Failed", "errors": [{"field": "body"}]}, {}
    number = int(match.group(1))
    created = fake.comment_payload(number, body["body"], fake.user)
    fake.comments.setdefault(number, []).append(created)
    return 201, created, {}


def _update_comment(fake: FakeGitHub, match: re.Match[str], query: Any, body: Any) -> Response:
    comment_id = int(match.group(1))
    for comment in (c for comments in fake.comments.values() for c in comments):
        if comment["id"] == comment_id:
            if len(body["body"]) > 65536:
                return 422, {"message": "Validation Failed"}, {}
            comment["body"] = body["body"]
            comment["updated_at"] = "2026-01-02T00:00:00Z"
            return 200, comment, {}
    return _NOT_FOUND


def _create_status(fake: FakeGitHub, match: re.Match[str], query: Any, body: Any) -> Response:
    if len(body.get("description") or "") > 140:
        return 422, {"message": "Validation Failed", "errors": [{"field": "description"}]}, {}
    status = {
        "url": f"{fake.url}/repos/{REPOSITORY}/statuses/{match.group(1)}",
        "id": len(fake.statuses) + 1,
        "node_id": "SC_x",
        "state": body["state"],
        "description": body.get("description"),
        "target_url": body.get("target_url"),
        "context": body.get("context", "default"),
        "created_at": "2026-01-01T00:00:00Z",
        "updated_at": "2026-01-01T00:00:00Z",
        "sha": match.group(1),
    }
    fake.statuses.append(status)
    return 201, status, {}


def _list_files(fake: FakeGitHub, match: re.Match[str], query: Any, body: Any) -> Response:
    return _page(fake, fake.files, match.group(0), query)


def _list_review_comments(
    fake: FakeGitHub, match: re.Match[str], query: Any, body: Any
) -> Response:
    return _page(fake, fake.review_comments, match.group(0), query)


def _list_reviews(fake: FakeGitHub, match: re.Match[str], query: Any, body: Any) -> Response:
    return _page(fake, fake.reviews, match.group(0), query)


def _misplaced(fake: FakeGitHub, comment: dict[str, Any]) -> bool:
    lines = {f["filename"]: right_side_lines(f.get("patch", "")) for f in fake.files}
    if comment.get("side", "RIGHT") != "RIGHT" or "line" not in comment:
        return True
    return comment["line"] not in lines.get(comment["path"], set())


def _create_review(fake: FakeGitHub, match: re.Match[str], query: Any, body: Any) -> Response:
    comments = body.get("comments", [])
    if body.get("event") in {"COMMENT", "REQUEST_CHANGES"} and not body.get("body"):
        return 422, {"message": "Unprocessable Entity", "errors": ["Body can't be blank"]}, {}
    if any(_misplaced(fake, comment) for comment in comments):
        # GitHub refuses the whole review, and creates none of its comments.
        errors = ["Pull request review thread line must be part of the diff"]
        return 422, {"message": "Unprocessable Entity", "errors": errors}, {}
    states = {"COMMENT": "COMMENTED", "REQUEST_CHANGES": "CHANGES_REQUESTED", "APPROVE": "APPROVED"}
    review_id = fake.new_id()
    review = {
        "id": review_id,
        "node_id": f"PRR_{review_id}",
        "user": fake.user,
        "body": body.get("body", ""),
        "state": states.get(body.get("event", ""), "PENDING"),
        "commit_id": body.get("commit_id", fake.head_sha),
        "html_url": f"https://github.example/{REPOSITORY}/pull/{match.group(1)}#pullrequestreview-{review_id}",
    }
    fake.reviews.append(review)
    for comment in comments:
        comment_id = fake.new_id()
        fake.review_comments.append(
            {
                "id": comment_id,
                "node_id": f"PRRC_{comment_id}",
                "pull_request_review_id": review_id,
                "path": comment["path"],
                "line": comment["line"],
                "original_line": comment["line"],
                "side": "RIGHT",
                "commit_id": review["commit_id"],
                "body": comment["body"],
                "user": fake.user,
            }
        )
    return 200, review, {}


def _update_review_comment(
    fake: FakeGitHub, match: re.Match[str], query: Any, body: Any
) -> Response:
    for comment in fake.review_comments:
        if comment["id"] == int(match.group(1)):
            comment["body"] = body["body"]
            return 200, comment, {}
    return _NOT_FOUND


def _dismiss_review(fake: FakeGitHub, match: re.Match[str], query: Any, body: Any) -> Response:
    for review in fake.reviews:
        if review["id"] == int(match.group(2)):
            if fake.dismissals_refused:
                return 403, {"message": "Resource not accessible by integration"}, {}
            if review["state"] not in {"CHANGES_REQUESTED", "APPROVED"}:
                return 422, {"message": "Can not dismiss a commented pull request review"}, {}
            review["state"] = "DISMISSED"
            return 200, review, {}
    return _NOT_FOUND


def _create_check_run(fake: FakeGitHub, match: re.Match[str], query: Any, body: Any) -> Response:
    if not fake.installation_token:
        return (
            403,
            {"message": "You must authenticate via a GitHub App.", "documentation_url": "x"},
            {},
        )
    run = {
        "id": fake.new_id(),
        "name": body["name"],
        "head_sha": body["head_sha"],
        "status": body.get("status", "queued"),
        "conclusion": body.get("conclusion"),
        "details_url": body.get("details_url"),
        "output": {k: v for k, v in body.get("output", {}).items() if k != "annotations"},
        "annotations": list(body.get("output", {}).get("annotations", [])),
    }
    fake.check_runs.append(run)
    return 201, {k: v for k, v in run.items() if k != "annotations"}, {}


def _update_check_run(fake: FakeGitHub, match: re.Match[str], query: Any, body: Any) -> Response:
    for run in fake.check_runs:
        if run["id"] == int(match.group(1)):
            output = body.get("output", {})
            run["annotations"] += output.get("annotations", [])  # appended, as GitHub does
            run["output"].update({k: v for k, v in output.items() if k != "annotations"})
            for key in ("status", "conclusion"):
                if key in body:
                    run[key] = body[key]
            return 200, {k: v for k, v in run.items() if k != "annotations"}, {}
    return _NOT_FOUND


def _graphql(fake: FakeGitHub, match: re.Match[str], query: Any, body: Any) -> Response:
    node_id = body.get("variables", {}).get("id")
    if not any(c["node_id"] == node_id for c in fake.review_comments):
        return (
            200,
            {"data": None, "errors": [{"message": f"Could not resolve to a node {node_id}"}]},
            {},
        )
    fake.minimized.add(node_id)
    return 200, {"data": {"minimizeComment": {"minimizedComment": {"isMinimized": True}}}}, {}


ROUTES = (
    ("GET", re.compile(r"/user"), _user),
    ("GET", re.compile(rf"{_REPO}/issues/(\d+)/comments"), _list_comments),
    ("POST", re.compile(rf"{_REPO}/issues/(\d+)/comments"), _create_comment),
    ("PATCH", re.compile(rf"{_REPO}/issues/comments/(\d+)"), _update_comment),
    ("POST", re.compile(rf"{_REPO}/statuses/([0-9a-f]{{40}})"), _create_status),
    ("GET", re.compile(rf"{_REPO}/pulls/(\d+)/files"), _list_files),
    ("GET", re.compile(rf"{_REPO}/pulls/(\d+)/comments"), _list_review_comments),
    ("PATCH", re.compile(rf"{_REPO}/pulls/comments/(\d+)"), _update_review_comment),
    ("GET", re.compile(rf"{_REPO}/pulls/(\d+)/reviews"), _list_reviews),
    ("POST", re.compile(rf"{_REPO}/pulls/(\d+)/reviews"), _create_review),
    ("PUT", re.compile(rf"{_REPO}/pulls/(\d+)/reviews/(\d+)/dismissals"), _dismiss_review),
    ("POST", re.compile(rf"{_REPO}/check-runs"), _create_check_run),
    ("PATCH", re.compile(rf"{_REPO}/check-runs/(\d+)"), _update_check_run),
    ("POST", re.compile(r"/graphql"), _graphql),
)


def _route(fake: FakeGitHub, method: str, path: str, query: Any, body: Any) -> Response:
    for route_method, pattern, handler in ROUTES:
        match = pattern.fullmatch(path)
        if match is not None and route_method == method:
            return handler(fake, match, query, body)
    return _NOT_FOUND


class GitHubStandIn(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, fake: FakeGitHub) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.fake = fake
