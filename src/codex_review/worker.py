"""The hard time bound on a file's syntax work: parsing and matching run in a worker process,
which the kernel kills when one file takes longer than ``SYNTAX_SECONDS``.

Nothing inside the reviewing process could stop a parse: py-tree-sitter holds the GIL while it
parses, and its progress callback runs only between parse steps, while on some texts one step
takes most of a minute (a 64 KiB Java text ``a<a<a<...`` spends 30 s in the error recovery at the
end of the input). So one worker is started the first time a file needs parsing and kept for the
next files (it keeps its parsers and compiled queries). Before each file it arms a timer whose
signal, SIGALRM with its default action, ends the process wherever it is, inside a parse too;
the parent reaps it, reports the file, and gives the files after it to a new worker.

The jobs of a review go over in one message, and the results come back a few times a second: a
round trip per file would cost more than a small file's parse. A shared counter says which file
was being worked on when the worker died; the results it had not sent yet are worked out again.
The deadline includes compiling a rule's queries the first time a worker needs them (at most
0.15 s for all the built-in rules of a language). The worker exits with the reviewing process:
when its pipe closes, and on Linux at once when its parent dies (``PR_SET_PDEATHSIG``).
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import gc
import multiprocessing
import os
import signal
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from multiprocessing.sharedctypes import Synchronized
from typing import Any, Generic, Protocol, TypeVar

SYNTAX_SECONDS = 2.0
# How often the worker sends the results it has; the worse case of redone work after a kill.
_SEND_SECONDS = 0.25
# Where the worker has no timer (Windows), the parent stops it when no results came for this
# long: each file still ends within twice the bound.
_SLACK_SECONDS = 1.0
_PR_SET_PDEATHSIG = 1


T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


class Job(Protocol[T_co]):
    """Work for the worker, as plain picklable data: ``run()`` does it there, and ``work`` names
    it in the reason given when it is stopped ("parsing", "compiling the query")."""

    @property
    def work(self) -> str: ...

    def run(self) -> T_co: ...


@dataclass(frozen=True)
class Outcome(Generic[T]):
    """The results of a job, or why there are none (``results`` None, ``reason`` set)."""

    results: T | None
    reason: str = ""


def _exceeded(job: Job[T], seconds: float) -> Outcome[T]:
    return Outcome(None, f"{job.work} exceeded {seconds:g} s and was stopped")


def _alarm(seconds: float) -> None:
    """Arm (or, with 0, disarm) the timer whose signal ends this process."""
    if hasattr(signal, "setitimer"):
        signal.setitimer(signal.ITIMER_REAL, seconds)


def _die_with(parent: int) -> None:
    """Ask Linux to kill this process when its parent exits, then check that it has not already."""
    if sys.platform == "linux":
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:
        os._exit(0)


def _serve(
    jobs: Connection, parents_end: Connection, parent: int, progress: Synchronized[int]
) -> None:
    """The worker's loop: a batch of jobs in, their results out in order, a few times a second;
    ``progress`` holds the index of the job being worked on."""
    parents_end.close()  # so that the parent's exit closes the pipe and ends the loop
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    if hasattr(signal, "SIGALRM"):
        signal.signal(signal.SIGALRM, signal.SIG_DFL)  # not a handler inherited from the parent
    _die_with(parent)
    # The objects inherited from the parent (the parsed diff, the files' texts) are never freed
    # here: kept out of the collector's generations, they are not walked by each collection.
    gc.freeze()
    while True:
        try:
            batch, seconds = jobs.recv()
        except (EOFError, OSError):
            return
        done: list[Any] = []
        sent = time.monotonic()
        try:
            for index, job in enumerate(batch):
                progress.value = index
                _alarm(seconds)
                done.append(job.run())
                _alarm(0)
                if time.monotonic() - sent >= _SEND_SECONDS:
                    jobs.send(done)
                    done, sent = [], time.monotonic()
            # The parent stops reading once it has every result: an empty message could meet a
            # closed pipe.
            if done:
                jobs.send(done)
        except (BrokenPipeError, ConnectionResetError):
            return  # the reviewing process has gone; nothing is waiting for these results


class _Worker:
    """One worker process, the parent's end of its pipe and the worker's progress counter."""

    def __init__(self) -> None:
        # Fork where it is safe and cheap (Linux: the worker starts in milliseconds with the
        # grammars already loaded); elsewhere a fresh interpreter.
        context = (
            multiprocessing.get_context("fork")
            if sys.platform == "linux"
            else multiprocessing.get_context("spawn")
        )
        self.connection, child_end = context.Pipe()
        self.progress: Synchronized[int] = context.Value("i", 0, lock=False)
        self.process: BaseProcess = context.Process(
            target=_serve,
            args=(child_end, self.connection, os.getpid(), self.progress),
            name="codex-review-syntax",
            daemon=True,
        )
        self.stopped = False
        self.process.start()
        child_end.close()

    def run(
        self, jobs: Sequence[Job[T]], seconds: float
    ) -> tuple[list[Outcome[T]], tuple[int, Outcome[T]] | None]:
        """The outcomes of the first jobs, in order, and, if a job stopped the worker, its index
        and outcome: the jobs between the two are to be run again, by a new worker."""
        received: list[Outcome[T]] = []
        self.progress.value = 0  # not the last batch's: the worker may die before it sets it
        try:
            self.connection.send((list(jobs), seconds))
            while len(received) < len(jobs):
                if not self.connection.poll(seconds + _SEND_SECONDS + _SLACK_SECONDS):
                    self.stop()
                    return received, self._stopped_at(jobs, len(received), seconds, alarmed=True)
                received.extend(Outcome(results) for results in self.connection.recv())
        except (EOFError, OSError):
            self.stop()
            alarmed = hasattr(signal, "SIGALRM") and self.process.exitcode == -signal.SIGALRM
            return received, self._stopped_at(jobs, len(received), seconds, alarmed=alarmed)
        return received, None

    def _stopped_at(
        self, jobs: Sequence[Job[T]], received: int, seconds: float, *, alarmed: bool
    ) -> tuple[int, Outcome[T]]:
        """The index of the job that stopped the worker, and its outcome. It stopped on a job it
        had not sent; the jobs it did but had not sent yet are to be run again."""
        index = min(max(self.progress.value, received), len(jobs) - 1)
        if alarmed:
            return index, _exceeded(jobs[index], seconds)
        code = self.process.exitcode
        return index, Outcome(None, f"the parser process failed (exit code {code})")

    def stop(self) -> None:
        """Kill the process and reap it, so that no zombie is left behind."""
        self.stopped = True
        self.process.kill()
        self.process.join()
        self.connection.close()


_worker: _Worker | None = None


def run_bounded(jobs: Sequence[Job[T]], seconds: float = SYNTAX_SECONDS) -> list[Outcome[T]]:
    """The outcome of each job, run in the worker, each job within ``seconds`` of wall time; a
    job past it is stopped and the next ones go to a new worker."""
    global _worker  # noqa: PLW0603 - one worker for the process, started on first use
    outcomes: list[Outcome[T]] = []
    while len(outcomes) < len(jobs):
        if _worker is None or _worker.stopped:
            try:
                _worker = _Worker()
            except OSError as error:
                reason = f"cannot start the parser process: {error}"
                return outcomes + [Outcome(None, reason)] * (len(jobs) - len(outcomes))
        batch = jobs[len(outcomes) :]
        received, stopped = _worker.run(batch, seconds)
        outcomes.extend(received)
        if stopped is not None:
            index, outcome = stopped
            outcomes.extend([*run_bounded(batch[len(received) : index], seconds), outcome])
    return outcomes


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
