"""Structured logs: JSON lines on stdout for start, stop, errors and (optionally) requests."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.argo_python.serverproc import ServerProcess


def test_start_and_stop_are_json_lines_and_access_log_is_off_by_default() -> None:
    server = ServerProcess.start()
    server.get("/hello")
    server.stop()
    assert server.output, "the server printed nothing"
    records = server.log_records()
    assert len(records) == len(server.output), f"non-JSON output: {server.output}"
    start = records[0]
    assert start["event"] == "start"
    assert start["port"] == server.port
    assert start["level"] == "info"
    assert isinstance(start["startup_ms"], float)
    assert records[-1]["event"] == "stop"
    assert not [r for r in records if r["logger"] == "argo_python.access"]


def test_access_log_has_method_route_template_status_and_duration() -> None:
    server = ServerProcess.start(ACCESS_LOG="true")
    server.get("/fibonacci/12")
    server.get("/fibonacci/nope")
    server.stop()
    access = [r for r in server.log_records() if r["logger"] == "argo_python.access"]
    assert [(r["method"], r["route"], r["status"]) for r in access[-2:]] == [
        ("GET", "/fibonacci/{n}", 200),
        ("GET", "/fibonacci/{n}", 400),
    ]
    assert all(isinstance(r["duration_ms"], float) for r in access)


def test_log_level_warning_hides_info_lines() -> None:
    server = ServerProcess.start(LOG_LEVEL="warning", ACCESS_LOG="true")
    server.get("/hello")
    assert server.stop() == ""


def test_a_taken_port_is_a_logged_error_and_exit_1() -> None:
    first = ServerProcess.start()
    try:
        env = {**os.environ, "HOST": "127.0.0.1", "PORT": str(first.port)}
        result = subprocess.run(
            [sys.executable, "-m", "argo_python"],
            env=env,
            capture_output=True,
            timeout=30,
            check=False,
        )
        assert result.returncode == 1
        record = json.loads(result.stdout.splitlines()[-1])
        assert (record["event"], record["level"]) == ("error", "error")
        assert "in use" in record["error"]
        # The message says where, and which settings choose that.
        assert f"127.0.0.1:{first.port}" in record["msg"]
        assert (record["host"], record["port"]) == ("127.0.0.1", first.port)
        assert first.get("/hello").status == 200
    finally:
        first.stop()
