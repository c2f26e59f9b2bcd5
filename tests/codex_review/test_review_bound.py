"""The hard time bound on a file's syntax work, through the real command: a file whose parse
runs for half a minute is stopped at the bound and reported, the other files are reviewed in
full, and no process is left behind, whether the command ends or is killed. And, on the worker
itself, that no other job's result is lost when one is stopped."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tests.codex_review.fakes import GitRepo

from codex_review.languages import language_for
from codex_review.rulefiles import RULES_DIR
from codex_review.rules import all_rules
from codex_review.syntax import FileJob, Matcher, SegmentJob, run_job
from codex_review.worker import SYNTAX_SECONDS, run_bounded

pytestmark = pytest.mark.skipif(
    sys.platform != "linux", reason="reads /proc to find left-over processes (Linux only)"
)

SHIM = Path(__file__).resolve().parents[2] / ".github" / "scripts" / "codex-review.py"
# Texts whose parse takes about 35 s each on the development machine (bench/RESULTS.md): one
# parse step, the error recovery at the end of the input, runs that long without a callback.
# Each starts with a line a rule triggers on, so that the file is parsed at all.
SLOW = {
    "src/Slow.java": "class A { void m() { System.out.println(1); } }\n" + "a<" * 32768,
    "src/Slow.cs": "class A { void M() { Console.WriteLine(1); } }\n" + "<a " * 10923,
}
FAST = {"src/ok.py": "print(1)\n", "src/Key.java": 'String password = "hunter22";\n'}
# Python start-up, the diff, the other files and a loaded machine, on top of the bounds.
MARGIN = 15.0


def _session(sid: int) -> list[tuple[int, str]]:
    """(pid, state) of every process in session ``sid``, zombies included."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # gone meanwhile
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[3]) == sid:  # state ppid pgrp session ...
            found.append((int(entry.name), fields[0]))
    return found


def _pull_request(git_repo: GitRepo, files: dict[str, str]) -> Path:
    git_repo.write("README.md", "base\n")
    git_repo.publish_base()
    for path, text in files.items():
        git_repo.write(path, text)
    diff = git_repo.path.parent / "pr_diff.txt"
    diff.write_bytes(git_repo.pr_diff())
    return diff


def _command(diff: Path, root: Path) -> list[str]:
    return [sys.executable, str(SHIM), "--diff", str(diff), "--repo-dir", str(root)]


def _review(diff: Path, root: Path) -> tuple[subprocess.Popen[str], str, float]:
    """The finished command in a session of its own, its standard output and its wall time;
    it succeeded."""
    started = time.monotonic()
    with subprocess.Popen(
        _command(diff, root),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    ) as command:
        out, err = command.communicate(timeout=120)
    assert command.returncode == 0, err
    return command, out, time.monotonic() - started


def test_files_past_the_bound_are_stopped_and_reported_and_the_others_reviewed(
    git_repo: GitRepo,
) -> None:
    # The slow files come first: the files after them are reviewed by a fresh worker.
    diff = _pull_request(git_repo, {**SLOW, **FAST})
    command, out, elapsed = _review(diff, git_repo.path)

    assert elapsed < len(SLOW) * SYNTAX_SECONDS + MARGIN
    for path in SLOW:
        note = f"{path}: parsing exceeded {SYNTAX_SECONDS:g} s and was stopped"
        assert f"note: {note}; only secret rules ran" in out
    assert "src/ok.py:1 (py-print)" in out
    assert "src/Key.java:1 (secret-password-assignment)" in out
    # The command reaped every worker it started, the killed ones too: not even a zombie.
    assert _session(command.pid) == []


# A rule file whose query takes tree-sitter's analysis about a second a pattern to compile for
# Python (30 patterns of 80 optional wildcards: 12 KiB, far below the size limit of a rule file).
SLOW_QUERY_RULE = (
    "id: slow-query\nlanguage: python\nmessage: m\nquery: |\n"
    + ("  (module " + "(_)? " * 80 + ") @match\n") * 30
)


def test_a_rule_query_that_compiles_past_the_bound_is_stopped_and_the_review_goes_on(
    git_repo: GitRepo,
) -> None:
    diff = _pull_request(git_repo, {f"{RULES_DIR}/slow.yml": SLOW_QUERY_RULE, **FAST})
    command, out, elapsed = _review(diff, git_repo.path)

    assert elapsed < SYNTAX_SECONDS + MARGIN
    problem = f"field 'query': compiling the query exceeded {SYNTAX_SECONDS:g} s and was stopped"
    assert f"note: {RULES_DIR}/slow.yml: {problem}; rule not loaded" in out
    assert "src/ok.py:1 (py-print)" in out
    assert "src/Key.java:1 (secret-password-assignment)" in out
    assert _session(command.pid) == []


def test_no_worker_outlives_a_killed_command(git_repo: GitRepo) -> None:
    diff = _pull_request(git_repo, dict(list(SLOW.items())[:1]))
    command = subprocess.Popen(
        _command(diff, git_repo.path),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        # Wait until the worker runs (a second process in the command's session), mid-parse.
        deadline = time.monotonic() + MARGIN
        while len(_session(command.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(_session(command.pid)) >= 2, "the worker never started"
    finally:
        os.kill(command.pid, signal.SIGKILL)
        command.wait()

    # The worker dies with its parent, long before its 35 s parse would end; what may remain
    # for a moment is a zombie, which its new parent (init) reaps.
    deadline = time.monotonic() + SYNTAX_SECONDS
    while time.monotonic() < deadline:
        if all(state == "Z" for _, state in _session(command.pid)):
            break
        time.sleep(0.05)
    assert all(state == "Z" for _, state in _session(command.pid))


def _job(path: str, text: str) -> FileJob:
    """The syntax job of a file added whole, with every rule of its language on every row."""
    language = language_for(path)
    assert language is not None
    rows = tuple(range(text.count("\n") + 1))
    wanted = tuple(
        (Matcher(r.queries[language.name], r.unless.get(language.name), r.mentions), rows)
        for r in all_rules()
        if language.name in r.queries
    )
    return FileJob(language.name, (SegmentJob(text.encode(), True, wanted),))


def test_a_job_past_the_bound_loses_no_result_of_the_jobs_around_it() -> None:
    # The fast jobs before the slow one finish within the worker's send interval, so they are
    # still unsent when it is killed: they are run again, by the next worker, with the rest.
    fast = [_job(f"f{n}.py", f"print({n})\n") for n in range(3)]
    slow = _job("Slow.java", SLOW["src/Slow.java"])
    jobs = [*fast, slow, *fast]

    outcomes = run_bounded(jobs, seconds=0.5)

    expected = [run_job(job) for job in fast]
    assert [o.results for o in outcomes] == [*expected, None, *expected]
    assert outcomes[3].reason == "parsing exceeded 0.5 s and was stopped"
