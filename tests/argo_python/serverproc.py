"""Start the real service as a subprocess on a free loopback port, for socket-level tests."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Any


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class ServerProcess:
    """A running `python -m argo_python`; stdout (JSON log lines) is collected on stop."""

    port: int
    proc: subprocess.Popen[bytes]
    output: list[str] = field(default_factory=list)

    @classmethod
    def start(cls, **env: str) -> ServerProcess:
        port = free_port()
        full_env = {
            **os.environ,
            "HOST": "127.0.0.1",
            "PORT": str(port),
            "SHUTDOWN_DRAIN_SECONDS": "0",
            "SHUTDOWN_TIMEOUT_SECONDS": "5",
            **env,
        }
        proc = subprocess.Popen(
            [sys.executable, "-m", "argo_python"],
            env=full_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        server = cls(port, proc)
        server.wait_ready()
        return server

    def wait_ready(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited early: {self.stop()}")
            try:
                if self.get("/healthz").status == 200:
                    return
            except OSError:
                time.sleep(0.02)
        raise RuntimeError("server did not answer /healthz in time")

    def request(self, method: str, path: str) -> Reply:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request(method, path)
            resp = conn.getresponse()
            headers = {k.lower(): v for k, v in resp.getheaders()}
            return Reply(resp.status, headers, resp.read())
        finally:
            conn.close()

    def get(self, path: str) -> Reply:
        return self.request("GET", path)

    def terminate(self) -> None:
        self.proc.send_signal(signal.SIGTERM)

    def stop(self, timeout: float = 10.0) -> str:
        """SIGTERM the server if it still runs, wait, and return everything it printed."""
        if self.proc.poll() is None:
            self.terminate()
        out, _ = self.proc.communicate(timeout=timeout)
        self.output = out.decode().splitlines()
        return out.decode()

    def log_records(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.output if line.startswith("{")]
