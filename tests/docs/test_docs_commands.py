"""Every shell block of the docs is run here, or marked with what it needs (pages.MARKS).

A block's commands are grouped by the first runner that claims each of them; each group runs
as one bash script in that runner's set-up: the repository itself, a real server on a free
loopback port (the curl examples), a git clone with a bare remote (the review bot), or a copy
of the repository with a stand-in `microk8s` on PATH (infra/setup.sh). When a json or text
block follows, the block's output must equal it.
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from tests.argo_python.serverproc import ServerProcess, free_port
from tests.deploy import test_infra_setup as infra
from tests.deploy.forks import copy_repository

from argo_python.config import Settings

from .pages import MARKS, ROOT, Block, all_blocks

TIMEOUT = 120
# What `make run` listens on, as the docs' curl examples address it.
LOCAL_SERVICE = f"localhost:{Settings().port}"
# The pages run their curl examples against `SERVICE_NAME=demo make run`, so that what they show
# stays true in a fork, whose default name is its own.
DOCS_SERVICE_NAME = "demo"


@dataclass
class Workspace:
    """Where a group of commands runs, and what it needs around it."""

    cwd: Path
    env: dict[str, str]


def run_script(script: str, workspace: Workspace) -> str:
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=workspace.cwd,
        env=workspace.env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert result.returncode == 0, (
        f"exit {result.returncode}:\n{script}\n{result.stdout}{result.stderr}"
    )
    return result.stdout


def in_repository(tmp_path: Path) -> Workspace:
    return Workspace(ROOT, dict(os.environ))


def review_clone(tmp_path: Path) -> Workspace:
    """A clone whose HEAD adds a Python file to origin/main, with the repository's .venv."""
    origin, clone = tmp_path / "origin.git", tmp_path / "clone"
    git = ["git", "-c", "user.name=Docs", "-c", "user.email=docs@example.org"]
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(origin)], check=True)
    subprocess.run(["git", "clone", "-q", str(origin), str(clone)], check=True)
    (clone / "README.md").write_text("# demo\n")
    subprocess.run([*git, "-C", str(clone), "add", "."], check=True)
    subprocess.run([*git, "-C", str(clone), "commit", "-qm", "base"], check=True)
    subprocess.run(["git", "-C", str(clone), "push", "-q", "origin", "HEAD:main"], check=True)
    (clone / "app.py").write_text('def greet(name):\n    print("hello", name)\n')
    subprocess.run([*git, "-C", str(clone), "add", "."], check=True)
    subprocess.run([*git, "-C", str(clone), "commit", "-qm", "greet"], check=True)
    (clone / ".venv").symlink_to(ROOT / ".venv")
    scripts = clone / ".github" / "scripts"
    scripts.mkdir(parents=True)
    shutil.copy(ROOT / ".github" / "scripts" / "codex-review.py", scripts)
    return Workspace(clone, dict(os.environ))


def deployed_fork(tmp_path: Path) -> Workspace:
    """A copy of what infra/setup.sh reads, as a fork after its first deploy, and a stand-in
    `microk8s` that records its calls and succeeds (no cluster exists here)."""
    root = infra.deployed_fork(tmp_path / "fork", infra.ORIGIN_HTTPS)
    bin_dir = infra.install_stand_in(tmp_path / "bin")
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "STAND_IN_LOG": str(tmp_path / "calls.jsonl")}
    return Workspace(root, env)


def repository_copy(tmp_path: Path) -> Workspace:
    """A copy of the repository (with this checkout's .venv) for commands that rewrite it."""
    return Workspace(shared_environment_copy(tmp_path / "copy"), dict(os.environ))


def shared_environment_copy(destination: Path) -> Path:
    """A copy of the repository that uses this checkout's .venv and never re-syncs it.

    The copy's files are new, so `make` would find `.venv/.synced` older than its pyproject.toml
    and uv.lock and run `uv sync` from the copy, installing the copy's project into the shared
    .venv. Those two files get this checkout's times, so `make` sees the environment current.
    """
    stamp = ROOT / ".venv" / ".synced"
    if not stamp.exists() or any(
        stamp.stat().st_mtime_ns < (ROOT / name).stat().st_mtime_ns
        for name in ("pyproject.toml", "uv.lock")
    ):
        # The copy's `make` would then sync this checkout's .venv from the copy, leaving it
        # pointing at a temporary directory.
        pytest.fail(".venv is older than pyproject.toml or uv.lock: run `make test` to sync it")
    root = copy_repository(destination)
    for name in ("pyproject.toml", "uv.lock"):
        stat = (ROOT / name).stat()
        os.utime(root / name, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    return root


@dataclass(frozen=True)
class Runner:
    """Runs the commands that start with one of `prefixes`."""

    name: str
    prefixes: tuple[str, ...]
    workspace: Callable[[Path], Workspace]
    needs_server: bool = False

    def claims(self, command: str) -> bool:
        return command.startswith(self.prefixes)


RUNNERS = (
    Runner("make", ("make help",), in_repository),
    Runner(
        "cli-help", (".venv/bin/argo-gitops --help", ".venv/bin/codex-review --help"), in_repository
    ),
    Runner("curl", ("curl ",), in_repository, needs_server=True),
    Runner(
        "review",
        (
            "git diff ",
            ".venv/bin/codex-review ",
            ".venv/bin/python .github/scripts/codex-review.py ",
        ),
        review_clone,
    ),
    Runner("infra", ("infra/setup.sh",), deployed_fork),
    Runner("fork", ("make fork ",), repository_copy),
)
# Two commands that cannot run as shown inside the test suite: `make run` serves until stopped,
# and `make test` is the command this test runs under. They get runs of their own, below.
SPECIAL = ("make run", "make test")

_ASSIGNMENT = re.compile(r"^(?:[A-Za-z_][A-Za-z0-9_]*=\S*\s+)+")


def commands(script: str) -> list[str]:
    """The logical command lines of a script: continuations joined, comments dropped."""
    joined = re.sub(r"\\\n\s*", " ", script)
    found = []
    for line in joined.splitlines():
        command = re.sub(r"\s+#.*$", "", line).strip()
        if command and not command.startswith("#"):
            found.append(command)
    return found


def runner_for(command: str) -> Runner | None:
    bare = _ASSIGNMENT.sub("", command)
    return next((runner for runner in RUNNERS if runner.claims(bare)), None)


def groups(block: Block) -> list[tuple[Runner, str]]:
    """Consecutive commands of one runner, as scripts; fails on a command nothing runs."""
    found: list[tuple[Runner, list[str]]] = []
    for command in commands(block.content):
        runner = runner_for(command)
        assert runner is not None, (
            f"{block.id}: no test runs `{command}`; mark the block "
            f"({', '.join(f'sh {mark}' for mark in sorted(MARKS))}) or make it runnable"
        )
        if found and found[-1][0] is runner:
            found[-1][1].append(command)
        else:
            found.append((runner, [command]))
    return [(runner, "\n".join(lines) + "\n") for runner, lines in found]


def shell_blocks() -> list[Block]:
    return [block for block in all_blocks() if block.language == "sh"]


def runnable_blocks() -> list[Block]:
    return [
        block
        for block in shell_blocks()
        if not block.marks and not set(commands(block.content)) <= set(SPECIAL)
    ]


def special_blocks() -> list[tuple[Block, str]]:
    return [
        (block, command)
        for block in shell_blocks()
        if not block.marks
        for command in commands(block.content)
        if command in SPECIAL
    ]


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    proc = ServerProcess.start(SERVICE_NAME=DOCS_SERVICE_NAME)
    yield proc
    proc.stop()


@pytest.mark.parametrize("block", runnable_blocks(), ids=lambda block: block.id)
def test_shell_block_runs_and_prints_what_the_page_shows(
    block: Block, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    output = ""
    for number, (runner, script) in enumerate(groups(block)):
        workspace = runner.workspace(tmp_path / str(number))
        if runner.needs_server:
            assert LOCAL_SERVICE in script, f"{block.id}: curl examples address {LOCAL_SERVICE}"
            port = request.getfixturevalue("server").port
            workspace.env["LOCAL_SERVICE"] = f"127.0.0.1:{port}"
        output += run_script(script.replace(LOCAL_SERVICE, "$LOCAL_SERVICE"), workspace)
    if block.output is not None:
        assert_same_output(output, block.output)


def assert_same_output(actual: str, shown: Block) -> None:
    if shown.language == "json":
        assert json_values(actual) == json_values(shown.content), f"{shown.id} shows other output"
    else:
        assert actual.rstrip() == shown.content.rstrip(), f"{shown.id} shows other output"


@pytest.mark.parametrize(
    ("block", "command"), special_blocks(), ids=lambda value: getattr(value, "id", value)
)
def test_make_run_serves_and_make_test_is_a_target(block: Block, command: str) -> None:
    if command == "make test":
        # This test runs inside `make test`: check the target and its recipe without recursing.
        run_script("make --dry-run test >/dev/null", in_repository(ROOT))
        return
    port = free_port()
    env = {**os.environ, "PORT": str(port), "SHUTDOWN_DRAIN_SECONDS": "0"}
    env.pop("HOST", None)  # what `make run` listens on by itself
    proc = subprocess.Popen(
        ["make", "run"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, start_new_session=True
    )
    try:
        assert _answers(port, "/hello"), f"{block.id}: `make run` did not serve on PORT={port}"
        assert listening_addresses(port) == ["127.0.0.1"], "`make run` must not serve the LAN"
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


def listening_addresses(port: int) -> list[str]:
    """The IPv4 and IPv6 addresses something listens on at `port`, from /proc/net/tcp{,6}."""
    found = []
    for table, width in (("/proc/net/tcp", 4), ("/proc/net/tcp6", 16)):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                packed = bytes.fromhex(address)
                # The kernel prints each 32-bit word in host (little-endian) order.
                words = [packed[i : i + 4][::-1] for i in range(0, width, 4)]
                found.append(ipaddress.ip_address(b"".join(words)).compressed)
    return found


def json_values(text: str) -> list[object]:
    """The JSON documents in `text`, one after the other (the service ends none with a newline)."""
    decoder, values, position = json.JSONDecoder(), [], 0
    while (position := _skip_space(text, position)) < len(text):
        value, position = decoder.raw_decode(text, position)
        values.append(value)
    return values


def _skip_space(text: str, position: int) -> int:
    return len(text) - len(text[position:].lstrip())


def _answers(port: int, path: str, timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", path)
            return conn.getresponse().status == 200
        except OSError:
            time.sleep(0.1)
    return False


@pytest.mark.parametrize("block", shell_blocks(), ids=lambda block: block.id)
def test_shell_block_marks_are_known(block: Block) -> None:
    assert block.marks <= MARKS, f"{block.id}: unknown marks {sorted(block.marks - MARKS)}"
    assert len(block.marks) <= 1, f"{block.id}: one mark per block"


def test_every_block_names_its_language_and_shell_is_spelled_sh() -> None:
    wrong = [b.id for b in all_blocks() if b.language in ("", "bash", "shell", "console")]
    assert not wrong, f"use ```sh for commands and ```text or ```json for output: {wrong}"


def test_make_help_lists_every_target() -> None:
    makefile = (ROOT / "Makefile").read_text()
    phony = re.search(r"^\.PHONY:(.*)$", makefile, re.MULTILINE)
    assert phony is not None
    listed = run_script("make help", in_repository(ROOT))
    missing = [t for t in phony.group(1).split() if not re.search(rf"make {t}\s", listed)]
    assert not missing, f"make help does not list {missing}"
