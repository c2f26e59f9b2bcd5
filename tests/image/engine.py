"""The container engine the image tests drive: docker when a daemon answers, otherwise podman.

Engines differ only in a few flags, so each is a row of data (`ENGINES`); every call goes through
`Engine.run`, which fails with the command's own output when it does not succeed.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class EngineError(RuntimeError):
    """A container engine command failed; the message carries the tail of its output."""


@dataclass(frozen=True, slots=True)
class Engine:
    name: str
    command: tuple[str, ...]  # argv prefix of every call
    build_flags: tuple[str, ...]
    run_flags: tuple[str, ...]
    # No registry is assumed reachable for podman: its base is the local debootstrap stand-in,
    # tagged as the Dockerfile's base (standin.provide_base) and never pulled (--pull=never).
    needs_standin: bool

    def run(
        self, *args: str, timeout: float = 120, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        argv = [*self.command, *args]
        result = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
        if check and result.returncode != 0:
            raise EngineError(_failure(argv, result))
        return result

    def build(
        self,
        context: Path,
        tag: str,
        build_args: dict[str, str],
        dockerfile: Path | None = None,
        timeout: float = 1200,
    ) -> str:
        """Build `context` (its Dockerfile unless `dockerfile` is given); return the build log."""
        args = [
            arg for key, value in build_args.items() for arg in ("--build-arg", f"{key}={value}")
        ]
        file_args = ["-f", str(dockerfile)] if dockerfile else []
        result = self.run(
            "build", *self.build_flags, *file_args, *args, "-t", tag, str(context), timeout=timeout
        )
        return result.stdout + result.stderr

    def inspect(self, kind: str, ref: str) -> dict[str, Any]:
        """`image` or `container` inspect output, as the one JSON object both engines print."""
        documents: list[dict[str, Any]] = json.loads(self.run(kind, "inspect", ref).stdout)
        return documents[0]

    def image_exists(self, ref: str) -> bool:
        return self.run("image", "inspect", ref, check=False).returncode == 0


ENGINES = (
    Engine(
        name="docker",
        command=("docker",),
        build_flags=("--progress=plain",),
        run_flags=(),
        needs_standin=False,
    ),
    Engine(
        name="podman",
        # runc, and rlimits no higher than the machine grants: podman's defaults (crun, a
        # nofile limit of 1048576) fail inside an unprivileged outer container.
        command=("podman", "--runtime", "runc"),
        # --pull=never: the base is the local image named as the Dockerfile's FROM names it.
        build_flags=("--isolation", "chroot", "--pull=never"),
        run_flags=(
            "--ulimit",
            "nofile=1024:1024",
            "--ulimit",
            "nproc=1024:1024",
            # podman's --read-only otherwise mounts writable tmpfs on /tmp, /var/tmp and /run;
            # docker's does not, and the image must need none of them.
            "--read-only-tmpfs=false",
        ),
        needs_standin=True,
    ),
)


def detect() -> Engine | None:
    """The first engine that answers: docker only with a reachable daemon, podman if installed."""
    for engine in ENGINES:
        if shutil.which(engine.command[0]) is None:
            continue
        try:
            probe = engine.run("info", timeout=60, check=False)
        except subprocess.TimeoutExpired:
            continue
        if probe.returncode == 0:
            return engine
    return None


def _failure(argv: Sequence[str], result: subprocess.CompletedProcess[str]) -> str:
    output = (result.stdout + result.stderr).strip().splitlines()
    tail = "\n".join(output[-40:])
    return f"{' '.join(argv)} exited {result.returncode}:\n{tail}"
