from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from argo_gitops.identity import load as load_identity
from argo_python.config import ConfigError, Settings

ROOT = Path(__file__).resolve().parents[2]


def test_defaults_match_the_documented_values() -> None:
    settings = Settings.from_env({})
    assert settings == Settings(
        host="0.0.0.0",  # noqa: S104
        port=8080,
        service_name=load_identity(ROOT).name,  # the fork's name (fork.toml, `make fork`)
        fib_max_n=10_000,
        log_level="info",
        access_log=False,
        shutdown_drain_seconds=3.0,
        shutdown_timeout_seconds=10.0,
    )


@pytest.mark.parametrize(
    ("env", "field", "expected"),
    [
        ({"PORT": "9000"}, "port", 9000),
        ({"PORT": " 9000 "}, "port", 9000),
        ({"HOST": "127.0.0.1"}, "host", "127.0.0.1"),
        ({"HOST": "::"}, "host", "::"),
        ({"SERVICE_NAME": "demo"}, "service_name", "demo"),
        ({"FIB_MAX_N": "0"}, "fib_max_n", 0),
        ({"FIB_MAX_N": "100000"}, "fib_max_n", 100_000),
        ({"LOG_LEVEL": "DEBUG"}, "log_level", "debug"),
        ({"ACCESS_LOG": "true"}, "access_log", True),
        ({"ACCESS_LOG": "off"}, "access_log", False),
        ({"SHUTDOWN_DRAIN_SECONDS": "0"}, "shutdown_drain_seconds", 0.0),
        ({"SHUTDOWN_DRAIN_SECONDS": "2.5"}, "shutdown_drain_seconds", 2.5),
        ({"SHUTDOWN_TIMEOUT_SECONDS": "30"}, "shutdown_timeout_seconds", 30.0),
    ],
    ids=lambda v: str(v) if not isinstance(v, dict) else ",".join(f"{k}={x}" for k, x in v.items()),
)
def test_valid_values_are_parsed(env: dict[str, str], field: str, expected: object) -> None:
    assert getattr(Settings.from_env(env), field) == expected


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"PORT": "http"}, "PORT='http' is invalid: expected an integer between 1 and 65535"),
        ({"PORT": "0"}, "PORT='0' is invalid: expected an integer between 1 and 65535"),
        ({"PORT": "70000"}, "PORT='70000' is invalid"),
        ({"PORT": "-1"}, "PORT='-1' is invalid"),
        ({"PORT": ""}, "PORT='' is invalid"),
        ({"FIB_MAX_N": "1e3"}, "FIB_MAX_N='1e3' is invalid: expected an integer between 0 and"),
        ({"FIB_MAX_N": "100001"}, "FIB_MAX_N='100001' is invalid"),
        ({"LOG_LEVEL": "verbose"}, "LOG_LEVEL='verbose' is invalid: expected one of debug"),
        ({"ACCESS_LOG": "maybe"}, "ACCESS_LOG='maybe' is invalid: expected one of 1, true"),
        ({"HOST": ""}, "HOST='' is invalid"),
        ({"HOST": "a b"}, "HOST='a b' is invalid"),
        ({"SERVICE_NAME": ""}, "SERVICE_NAME='' is invalid"),
        ({"SERVICE_NAME": "x" * 64}, "SERVICE_NAME="),
        ({"SHUTDOWN_DRAIN_SECONDS": "nan"}, "SHUTDOWN_DRAIN_SECONDS='nan' is invalid"),
        ({"SHUTDOWN_DRAIN_SECONDS": "-1"}, "SHUTDOWN_DRAIN_SECONDS='-1' is invalid"),
        ({"SHUTDOWN_TIMEOUT_SECONDS": "soon"}, "SHUTDOWN_TIMEOUT_SECONDS='soon' is invalid"),
        (
            {"SHUTDOWN_DRAIN_SECONDS": "10", "SHUTDOWN_TIMEOUT_SECONDS": "5"},
            "SHUTDOWN_TIMEOUT_SECONDS must be greater than SHUTDOWN_DRAIN_SECONDS",
        ),
    ],
    ids=lambda v: ",".join(f"{k}={x[:10]}" for k, x in v.items()) if isinstance(v, dict) else "",
)
def test_bad_values_name_the_variable_and_what_it_accepts(
    env: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        Settings.from_env(env)
    assert str(caught.value).startswith(message)


def test_bad_value_stops_the_process_with_one_line_and_exit_2() -> None:
    env = {**os.environ, "PORT": "eighty"}
    result = subprocess.run(
        [sys.executable, "-m", "argo_python"],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "argo-python: configuration error: PORT='eighty' is invalid: "
        "expected an integer between 1 and 65535"
    ]
