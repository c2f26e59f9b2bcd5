"""Real parts for the codex-review tests: git repositories with a bare remote, and a local HTTP
server that speaks the few GitHub REST endpoints the bot uses, with GitHub's response shapes and
``Link`` pagination, over a real loopback socket. The fixtures are in conftest.py."""

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

import pytest

# The stand-in's token: a made-up value shaped like a GitHub Actions token.
TOKEN = "ghs_test0000000000000000000000000000000000"  # noqa: S105
REPOSITORY = "octo-org/widgets"
REPOSITORY_ID = 4242
PR_NUMBER = 7
HEAD_SHA = "0123456789abcdef0123456789abcdef01234567"
VALID_STATES = {"error", "failure", "pending", "success"}


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
    """State and request log of the stand-in; ``url`` is its API base URL."""

    url: str = ""
    comments: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    statuses: list[dict[str, Any]] = field(default_factory=list)
    requests: list[Recorded] = field(default_factory=list)
    scripted: list[Scripted] = field(default_factory=list)
    next_id: int = 1000
    lock: threading.Lock = field(default_factory=threading.Lock)

    def comment_payload(self, number: int, body: str, login: str, user_type: str) -> dict[str, Any]:
        self.next_id += 1
        comment_id = self.next_id
        return {
            "url": f"{self.url}/repos/{REPOSITORY}/issues/comments/{comment_id}",
            "html_url": f"https://github.example/{REPOSITORY}/pull/{number}#issuecomment-{comment_id}",
            "issue_url": f"{self.url}/repos/{REPOSITORY}/issues/{number}",
            "id": comment_id,
            "node_id": f"IC_kwDO{comment_id}",
            "user": {"login": login, "id": 41898282, "type": user_type, "site_admin": False},
            "created_at": "2026-01-01T00:00:00Z",
            "updated_at": "2026-01-01T00:00:00Z",
            "author_association": "NONE" if user_type == "Bot" else "MEMBER",
            "body": body,
            "reactions": {"url": "", "total_count": 0},
        }

    def add_comment(
        self, body: str, *, login: str = "alice", user_type: str = "User", number: int = PR_NUMBER
    ) -> dict[str, Any]:
        payload = self.comment_payload(number, body, login, user_type)
        self.comments.setdefault(number, []).append(payload)
        return payload

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
        with fake.lock:
            fake.requests.append(
                Recorded(
                    method,
                    split.path,
                    parse_qs(split.query),
                    self.headers.get("Authorization"),
                    body,
                )
            )
            for script in fake.scripted:
                if (
                    script.times > 0
                    and script.method == method
                    and re.search(script.path_pattern, split.path)
                ):
                    script.times -= 1
                    if script.apply:
                        _route(fake, method, split.path, parse_qs(split.query), body)
                    default = {"message": "scripted", "documentation_url": "https://docs"}
                    self._send(script.status, script.body or default, script.headers)
                    return
            if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                self._send(401, {"message": "Bad credentials", "documentation_url": "x"})
                return
            status, payload, headers = _route(fake, method, split.path, parse_qs(split.query), body)
        self._send(status, payload, headers)

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PATCH(self) -> None:
        self._handle("PATCH")


def _comments_page(
    fake: FakeGitHub, number: int, query: dict[str, list[str]]
) -> tuple[int, Any, dict[str, str]]:
    per_page = min(int(query.get("per_page", ["30"])[0]), 100)
    page = int(query.get("page", ["1"])[0])
    items = fake.comments.get(number, [])
    last = max(1, -(-len(items) // per_page))
    chunk = items[(page - 1) * per_page : page * per_page]
    # GitHub's pagination links use the repository id form of the URL.
    base = f"{fake.url}/repositories/{REPOSITORY_ID}/issues/{number}/comments?per_page={per_page}"
    links = []
    if page < last:
        links += [f'<{base}&page={page + 1}>; rel="next"', f'<{base}&page={last}>; rel="last"']
    if page > 1:
        links += [f'<{base}&page={page - 1}>; rel="prev"', f'<{base}&page=1>; rel="first"']
    return 200, chunk, ({"Link": ", ".join(links)} if links else {})


Response = tuple[int, Any, dict[str, str]]
_NOT_FOUND: Response = (404, {"message": "Not Found", "documentation_url": "x"}, {})
_REPO = rf"(?:/repos/{re.escape(REPOSITORY)}|/repositories/{REPOSITORY_ID})"


def _list_comments(fake: FakeGitHub, match: re.Match[str], query: Any, body: Any) -> Response:
    return _comments_page(fake, int(match.group(1)), query)


def _create_comment(fake: FakeGitHub, match: re.Match[str], query: Any, body: Any) -> Response:
    if not isinstance(body, dict) or not isinstance(body.get("body"), str):
        return 422, {"message": "Invalid request."}, {}
    if len(body["body"]) > 65536:
        return 422, {"message": "Validation Failed", "errors": [{"field": "body"}]}, {}
    number = int(match.group(1))
    created = fake.add_comment(
        body["body"], login="github-actions[bot]", user_type="Bot", number=number
    )
    return 201, created, {}


def _update_comment(fake: FakeGitHub, match: re.Match[str], query: Any, body: Any) -> Response:
    comment_id = int(match.group(1))
    for comment in (c for comments in fake.comments.values() for c in comments):
        if comment["id"] == comment_id:
            if len(body.get("body", "")) > 65536:
                return 422, {"message": "Validation Failed"}, {}
            comment["body"] = body["body"]
            comment["updated_at"] = "2026-01-02T00:00:00Z"
            return 200, comment, {}
    return _NOT_FOUND


def _create_status(fake: FakeGitHub, match: re.Match[str], query: Any, body: Any) -> Response:
    state = body.get("state") if isinstance(body, dict) else None
    description = (body.get("description") if isinstance(body, dict) else "") or ""
    if state not in VALID_STATES or len(description) > 140:
        errors = [
            {
                "resource": "Status",
                "code": "custom",
                "field": "state",
                "message": "state is not included in the list",
            }
        ]
        return 422, {"message": "Validation Failed", "errors": errors}, {}
    status = {
        "url": f"{fake.url}/repos/{REPOSITORY}/statuses/{match.group(1)}",
        "id": len(fake.statuses) + 1,
        "node_id": "SC_x",
        "state": state,
        "description": description,
        "target_url": body.get("target_url"),
        "context": body.get("context", "default"),
        "created_at": "2026-01-01T00:00:00Z",
        "updated_at": "2026-01-01T00:00:00Z",
        "sha": match.group(1),
    }
    fake.statuses.append(status)
    return 201, status, {}


ROUTES = (
    ("GET", re.compile(rf"{_REPO}/issues/(\d+)/comments"), _list_comments),
    ("POST", re.compile(rf"{_REPO}/issues/(\d+)/comments"), _create_comment),
    ("PATCH", re.compile(rf"{_REPO}/issues/comments/(\d+)"), _update_comment),
    ("POST", re.compile(rf"{_REPO}/statuses/([0-9a-f]{{40}})"), _create_status),
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
