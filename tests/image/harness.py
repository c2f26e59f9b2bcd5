"""How the image tests build and run the image: the build arguments and hardened containers."""

from __future__ import annotations

import os
import time
import tomllib
from dataclasses import dataclass

import pytest
from tests.image.client import get
from tests.image.dockerfile import REPO
from tests.image.engine import Engine

# Per test session, so that two runs on one machine never remove each other's images.
TAG = f"localhost/argo-python:e2e-{os.getpid()}"
PORT = "8080/tcp"
# Values the label test expects back from the image; REVISION is shaped like a git commit id.
BUILD_ARGS = {
    "VERSION": tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"],
    "REVISION": "0123456789abcdef0123456789abcdef01234567",
    "SOURCE": "https://github.com/example/argo-python",
}
# How the Kubernetes manifests run the pod: no capabilities, no privilege gain, read-only root.
HARDENED = ("--read-only", "--cap-drop=ALL", "--security-opt=no-new-privileges")
READY_TIMEOUT_S = 30.0


@dataclass(frozen=True, slots=True)
class Container:
    name: str
    url: str  # http://127.0.0.1:<published port>


class Containers:
    """Starts containers from the image with the hardened flags and removes them all at the end."""

    def __init__(self, engine: Engine, image: str) -> None:
        self.engine = engine
        self.image = image
        self.names: list[str] = []

    def start(self, label: str, *env: str) -> Container:
        name = f"argo-python-e2e-{os.getpid()}-{label}"
        self.names.append(name)
        env_args = [arg for pair in env for arg in ("-e", pair)]
        self.engine.run(
            "run",
            "-d",
            "--name",
            name,
            *HARDENED,
            *self.engine.run_flags,
            *env_args,
            "-p",
            f"127.0.0.1::{PORT}",  # loopback only, a free port chosen by the engine
            self.image,
        )
        container = Container(name, f"http://127.0.0.1:{self._published_port(name)}")
        self._wait_until_healthy(container)
        return container

    def remove_all(self) -> None:
        for name in self.names:
            self.engine.run("rm", "-f", name, check=False)

    def _published_port(self, name: str) -> int:
        bindings = self.engine.run("port", name, PORT).stdout.split()
        host, _, port = bindings[0].rpartition(":")
        if bindings != [f"{host}:{port}"] or host != "127.0.0.1":
            pytest.fail(f"{name} publishes {PORT} on {bindings}, not on the loopback only")
        return int(port)

    def _wait_until_healthy(self, container: Container) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            try:
                if get(container.url + "/healthz").status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        logs = self.engine.run("logs", container.name, check=False)
        pytest.fail(
            f"{container.name} did not answer /healthz within {READY_TIMEOUT_S:g} s:\n"
            f"{logs.stdout}{logs.stderr}"
        )
