"""The engine reaches past granian's documented API: these fail loudly when granian changes.

argo_python.engine is written against one granian version. An upgrade of the lock file (or of
granian under it) must fail here first, naming what to re-check, rather than in production.
"""

from __future__ import annotations

import importlib.metadata
import inspect
import os
import subprocess
import sys
import tomllib
import types
from pathlib import Path

import pytest

from argo_python import engine

ROOT = Path(__file__).resolve().parents[2]


def locked_version(package: str) -> str:
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    return next(p["version"] for p in lock["package"] if p["name"] == package)


def test_engine_is_pinned_to_the_granian_of_the_lock_file_and_of_the_venv() -> None:
    assert (
        engine.GRANIAN_VERSION
        == locked_version("granian")
        == importlib.metadata.version("granian")
        == engine.load_granian().__version__
    )


def test_another_granian_version_is_refused_with_what_to_do() -> None:
    stand_in = types.ModuleType("granian._granian")
    stand_in.__version__ = "99.0.0"  # type: ignore[attr-defined]
    with pytest.raises(engine.EngineError, match=r"granian 99\.0\.0 is installed.*check the"):
        engine.check_version(stand_in)


def test_every_asgi_worker_parameter_is_passed_by_its_installed_name() -> None:
    signature = inspect.signature(engine.load_granian().ASGIWorker)
    passed = engine.worker_arguments(sock=None, backpressure=1, http1_opts=None)
    assert sorted(passed) == sorted(signature.parameters)


@pytest.mark.parametrize(
    ("name", "members"),
    [
        ("ASGIWorker", {"serve_mtr"}),
        ("CallbackScheduler", {"_schedule_fn"}),
        ("WorkerSignal", {"add_cb", "set"}),
        ("ListenerSpec", {"build"}),
    ],
    ids=str,
)
def test_the_members_the_engine_uses_exist(name: str, members: set[str]) -> None:
    assert members <= set(dir(getattr(engine.load_granian(), name)))


def test_the_scheduler_still_takes_the_loop_and_hook_the_engine_gives_it() -> None:
    signature = inspect.signature(engine.load_granian().CallbackScheduler)
    assert list(signature.parameters) == ["event_loop", "cb", "aio_task", "aio_tenter", "aio_texit"]


def test_http1_settings_carry_every_field_of_granians_own() -> None:
    from granian.http import HTTP1Settings  # noqa: PLC0415 - the documented type, for reference

    ours = engine._HTTP1Settings(1000, 8192)
    assert set(vars(ours)) == set(HTTP1Settings.__dataclass_fields__)


def test_loading_granian_imports_neither_its_package_nor_asyncio_nor_ssl() -> None:
    program = (
        "import sys\n"
        "from argo_python.engine import load_granian\n"
        "load_granian()\n"
        "print(sorted({'granian', 'asyncio', 'ssl', 'click'} & set(sys.modules)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "[]"


def test_granians_allocator_is_jemalloc_configured_by_its_prefixed_variable() -> None:
    """docs/service.md ("Connections") names _RJEM_MALLOC_CONF as the setting of the memory
    granian allocates for connections: its wheel links jemalloc (tikv-jemallocator) under that
    prefix, and a wheel built without it would silently ignore the setting."""
    result = subprocess.run(
        [sys.executable, "-c", "from argo_python.engine import load_granian; load_granian()"],
        env={**os.environ, "_RJEM_MALLOC_CONF": "no_such_option:1"},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert "<jemalloc>: Invalid conf pair: no_such_option:1" in result.stderr
