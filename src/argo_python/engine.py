"""The HTTP engine: granian's Rust HTTP/1.1 server (hyper on tokio), driven from this process
with no asyncio event loop.

This is the one module that reaches past granian's documented API, and it is pinned to the
granian version in uv.lock (GRANIAN_VERSION; tests/argo_python/test_engine_contract.py fails
loudly when either changes). Why, and what it buys (bench/RESULTS.md, "Lean server layer"):

- granian's extension module is loaded by itself, without the `granian` package, whose import
  pulls in asyncio (and with it ssl), click and about 220 modules: 10 MiB and tens of ms.
- granian's ASGI worker is used because it is the only interface that hands over the raw
  request path (`raw_path`), so routing never sees `%2F` turned into `/`.
- Its scheduler hook calls the handler directly on the tokio thread that parsed the request:
  the handler is synchronous, so no coroutine, task or event-loop hop is involved. granian's
  ASGI `send` completes synchronously for a single-body response, so nothing is awaited.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import sys
from collections.abc import Callable
from types import ModuleType
from typing import Any

GRANIAN_VERSION = "2.8.9"

# The ASGI messages the handler passes to `send`, and what the handler returns.
Messages = tuple[dict[str, Any], dict[str, Any]]
Handler = Callable[[str, bytes, bytes], Messages]


class EngineError(RuntimeError):
    """The installed granian is not the one this module was written against."""


def load_granian() -> ModuleType:
    """Import granian's extension module `granian._granian` without running granian/__init__."""
    loaded = sys.modules.get("granian._granian")
    if loaded is not None:
        return loaded
    package = importlib.util.find_spec("granian")  # a top-level spec: nothing is executed
    if package is None or not package.submodule_search_locations:
        raise EngineError("granian is not installed")
    spec = importlib.machinery.PathFinder.find_spec(
        "granian._granian", list(package.submodule_search_locations)
    )
    if spec is None or spec.loader is None:
        raise EngineError("granian's extension module _granian is missing")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    if module.__version__ != GRANIAN_VERSION:
        raise EngineError(
            f"granian {module.__version__} is installed, but argo_python.engine is written "
            f"against {GRANIAN_VERSION}: re-check the engine against the new version"
        )
    return module


class _NoLoop:
    """Stands in for the event loop granian's scheduler expects. The handler never suspends, so
    nothing is ever scheduled on it; if granian did, that would be a bug worth failing on."""

    def call_soon(self, *args: object, **kwargs: object) -> None:
        raise EngineError("granian tried to schedule work on an event loop; there is none")

    call_soon_threadsafe = call_soon


class _HTTP1Settings:
    """The attributes granian reads from its HTTP1Settings dataclass (granian.http)."""

    def __init__(self, header_read_timeout_ms: int, max_buffer_size: int) -> None:
        self.header_read_timeout = header_read_timeout_ms
        self.keep_alive = True
        self.max_buffer_size = max_buffer_size
        self.pipeline_flush = False


class Engine:
    """One granian ASGI worker with one tokio thread, serving `handler` on host:port."""

    def __init__(
        self,
        handler: Handler,
        *,
        host: str,
        port: int,
        backlog: int,
        max_connections: int,
        header_read_timeout_ms: int,
        max_buffer_size: int,
    ) -> None:
        granian = load_granian()
        self._granian = granian
        self._signal = granian.WorkerSignal()
        listener = granian.ListenerSpec(host, port, backlog).build()
        ssl_off: tuple[object, ...] = (False, None, None, None, "1.3", None, [], False)
        self._worker = granian.ASGIWorker(
            1,  # worker id
            (None, listener),
            None,  # no IPC: there is no supervisor process
            1,  # tokio threads
            512,  # tokio blocking threads (spawned on demand; file responses only)
            1,  # Python threads (unused: nothing is offloaded)
            30,  # their idle timeout, seconds
            max_connections,  # "backpressure": connections served at once
            "1",  # HTTP/1.1 only
            _HTTP1Settings(header_read_timeout_ms, max_buffer_size),
            None,  # no HTTP/2
            False,  # no websockets
            None,  # no static files
            *ssl_off,
            (None, None),  # no granian metrics
        )

        def schedule(watcher: Any) -> None:
            scope = watcher.scope
            start, body = handler(scope["method"], scope["raw_path"], scope["query_string"])
            send = watcher.proto.send
            send(start)
            send(body)
            watcher.done()

        loop = _NoLoop()
        self._scheduler = granian.CallbackScheduler(loop, None, None, None, None)
        self._scheduler._schedule_fn = schedule
        self._loop = loop

    def start(self) -> None:
        """Start accepting connections on granian's own threads and return at once."""
        self._worker.serve_mtr(self._scheduler, self._loop, self._signal)

    def stop(self, on_stopped: Callable[[], object]) -> None:
        """Close the listener; `on_stopped` is called once every open connection has ended."""
        self._signal.add_cb(on_stopped)
        self._signal.set()
