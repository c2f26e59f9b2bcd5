"""The hard time bound on a file's syntax work: parsing and matching run in a worker process,
which is killed when one file takes longer than ``SYNTAX_SECONDS``.

Nothing inside the reviewing process could stop a parse: py-tree-sitter holds the GIL while it
parses, and its progress callback runs only between parse steps, while on some texts one step
takes most of a minute (a 64 KiB Java text ``a<a<a<...`` spends 30 s in the error recovery at the
end of the input). So one worker is started the first time a file needs parsing, kept for the
next files (it keeps its parsers and compiled queries), and, when a file overruns, killed and
reaped; the next file starts a new one. The worker exits with the reviewing process: when its
pipe closes, and on Linux at once when its parent dies (``PR_SET_PDEATHSIG``).
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import multiprocessing
import os
import signal
import sys
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess

from codex_review.syntax import FileJob, SegmentResult, prepare, run_job

SYNTAX_SECONDS = 2.0
_PR_SET_PDEATHSIG = 1
_READY = "ready"


@dataclass(frozen=True)
class Outcome:
    """The results of a file's job, or why there are none (``results`` None, ``reason`` set)."""

    results: tuple[SegmentResult, ...] | None
    reason: str = ""


def _die_with(parent: int) -> None:
    """Ask Linux to kill this process when its parent exits, then check that it has not already."""
    if sys.platform == "linux":
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:
        os._exit(0)


def _serve(jobs: Connection, parents_end: Connection, parent: int) -> None:
    """The worker's loop: a job in, "ready" once its queries are compiled, its results out."""
    parents_end.close()  # so that the parent's exit closes the pipe and ends the loop
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    _die_with(parent)
    while True:
        try:
            job = jobs.recv()
        except (EOFError, OSError):
            return
        prepare(job)
        jobs.send(_READY)
        jobs.send(run_job(job))


class _Worker:
    """One worker process and the parent's end of its pipe."""

    def __init__(self) -> None:
        # Fork where it is safe and cheap (Linux: the worker starts in milliseconds with the
        # grammars already loaded); elsewhere a fresh interpreter.
        context = (
            multiprocessing.get_context("fork")
            if sys.platform == "linux"
            else multiprocessing.get_context("spawn")
        )
        self.connection, child_end = context.Pipe()
        self.process: BaseProcess = context.Process(
            target=_serve,
            args=(child_end, self.connection, os.getpid()),
            name="codex-review-syntax",
            daemon=True,
        )
        self.stopped = False
        self.process.start()
        child_end.close()

    def run(self, job: FileJob, seconds: float) -> Outcome:
        """The job's outcome. Past the deadline or after a crash the worker is stopped (and
        ``stopped`` set): the caller starts a new one for the next file."""
        try:
            self.connection.send(job)
            if self.connection.recv() == _READY:
                # The deadline starts once the queries are compiled: it bounds parse and match.
                if not self.connection.poll(seconds):
                    self.stop()
                    return Outcome(None, f"parsing exceeded {seconds:g} s and was stopped")
                results: tuple[SegmentResult, ...] = self.connection.recv()
                return Outcome(results)
        except (EOFError, OSError):
            pass
        self.stop()
        return Outcome(None, f"the parser process failed (exit code {self.process.exitcode})")

    def stop(self) -> None:
        """Kill the process and reap it, so that no zombie is left behind."""
        self.stopped = True
        self.process.kill()
        self.process.join()
        self.connection.close()


_worker: _Worker | None = None


def run_bounded(job: FileJob, seconds: float = SYNTAX_SECONDS) -> Outcome:
    """Run ``job`` in the worker, its parses and matches within ``seconds`` of wall time."""
    global _worker  # noqa: PLW0603 - one worker for the process, started on first use
    if _worker is None or _worker.stopped:
        try:
            _worker = _Worker()
        except OSError as error:
            _worker = None
            return Outcome(None, f"cannot start the parser process: {error}")
    return _worker.run(job, seconds)


def shutdown() -> None:
    """Stop the worker, if one runs: closing its pipe ends its loop; it is reaped here."""
    global _worker
    worker, _worker = _worker, None
    if worker is None or worker.stopped:
        return
    worker.connection.close()
    worker.process.join(timeout=1.0)
    if worker.process.is_alive():
        worker.stop()


atexit.register(shutdown)
