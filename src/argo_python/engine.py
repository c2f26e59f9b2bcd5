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

import _socket  # socket.py's enums, selectors and file objects are not needed for one option
import os
import sys
import threading

# importlib.machinery's PathFinder, from where it is defined: importlib.machinery imports more.
from _frozen_importlib_external import PathFinder
from _queue import SimpleQueue  # queue.SimpleQueue itself, without queue.py and its imports

from argo_python.slots import SlotKeeper

# typing is for the type checker only: importing it at run time costs start-up time (about a
# tenth of the service's imports, bench/RESULTS.md, "Start-up imports").
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from types import ModuleType
    from typing import Any

    # The ASGI messages the handler passes to `send`. The handler returns them, or, for work
    # too slow for the thread that serves every connection, a function that computes them: that
    # runs on the engine's worker thread, and the tokio thread goes on serving everyone else.
    Messages = tuple[dict[str, Any], dict[str, Any]]
    Handler = Callable[[str, bytes, bytes], Messages | Callable[[], Messages]]

GRANIAN_VERSION = "2.8.9"
# The slow-request thread's nice value, against the serving thread's 0: a big F(n) then takes
# the core only while the serving thread has nothing to do (bench/fibonacci_bench.py).
SLOW_WORK_NICE = 10


class EngineError(RuntimeError):
    """The installed granian is not the one this module was written against."""


def load_granian() -> ModuleType:
    """Import granian's extension module `granian._granian` without running granian/__init__."""
    loaded = sys.modules.get("granian._granian")
    if loaded is not None:
        return loaded
    package = PathFinder.find_spec("granian")  # a top-level spec: nothing is executed
    if package is None or not package.submodule_search_locations:
        raise EngineError("granian is not installed")
    spec = PathFinder.find_spec("granian._granian", list(package.submodule_search_locations))
    if spec is None or spec.loader is None:
        raise EngineError("granian's extension module _granian is missing")
    # What importlib.util.module_from_spec does for an extension module, without importing
    # importlib.util (and contextlib, types, ...) for it.
    module = spec.loader.create_module(spec)
    if module is None:
        raise EngineError("granian's extension module _granian could not be created")
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    check_version(module)
    return module


def check_version(module: ModuleType) -> None:
    """Raise EngineError unless `module` is the granian this module was written against."""
    found = getattr(module, "__version__", "unknown")
    if found != GRANIAN_VERSION:
        raise EngineError(
            f"granian {found} is installed, but argo_python.engine is written against "
            f"{GRANIAN_VERSION}: check the engine against the new version, then update "
            "GRANIAN_VERSION"
        )


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


def worker_arguments(**chosen: object) -> dict[str, object]:
    """Every argument of granian's ASGIWorker, by name: a renamed or new parameter fails
    loudly at start, and the contract test compares the names with the installed signature."""
    return {
        "worker_id": 1,
        "ipc": None,  # no supervisor process to talk to
        "threads": 1,  # one tokio thread: it parses, calls the handler, writes
        "blocking_threads": 512,  # tokio's, spawned on demand (file responses only)
        "py_threads": 1,  # unused: nothing is offloaded to Python threads
        "py_threads_idle_timeout": 30,
        "http_mode": "1",  # HTTP/1.1 only
        "http2_opts": None,
        "websockets_enabled": False,
        "static_files": None,
        "ssl_enabled": False,
        "ssl_cert": None,
        "ssl_key": None,
        "ssl_key_password": None,
        "ssl_protocol_min": "1.3",
        "ssl_ca": None,
        "ssl_crl": [],
        "ssl_client_verify": False,
        "metrics": (None, None),  # granian's own metrics exporter stays off
        **chosen,
    }


def defer_accept(fd: int, seconds: int) -> None:
    """Set TCP_DEFER_ACCEPT on the listening socket `fd`: the kernel hands a connection over only
    once its first bytes have arrived, or after about `seconds` (rounded up to its SYN-ACK
    retransmission schedule, 1 + 2 + 4 + ... s). A connection that never sends a byte meanwhile
    holds no connection slot and no memory of the process, and hyper's header-read timer starts
    only when the kernel hands it over. Kept across listen(), which granian calls later."""
    sock = _socket.socket(fileno=_socket.dup(fd))  # a duplicate: closing it keeps `fd` open
    try:
        sock.setsockopt(_socket.IPPROTO_TCP, _socket.TCP_DEFER_ACCEPT, seconds)
    finally:
        sock.close()


def _respond(watcher: Any, messages: Messages) -> None:
    send = watcher.proto.send
    send(messages[0])
    send(messages[1])
    watcher.done()


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
        defer_accept_s: int = 0,
    ) -> None:
        granian = load_granian()
        self._signal = granian.WorkerSignal()
        listener = granian.ListenerSpec(host, port, backlog).build()
        if defer_accept_s:
            defer_accept(listener.get_fd(), defer_accept_s)
        # granian never closes an idle connection to make room: this does (argo_python.slots).
        self.slots = SlotKeeper(listener.get_fd(), max_connections)
        self._worker = granian.ASGIWorker(
            **worker_arguments(
                sock=(None, listener),
                backpressure=max_connections,
                http1_opts=_HTTP1Settings(header_read_timeout_ms, max_buffer_size),
            )
        )

        def schedule(watcher: Any) -> None:
            scope = watcher.scope
            try:
                answer = handler(scope["method"], scope["raw_path"], scope["query_string"])
            except Exception as exc:  # granian answers 500 and logs it
                watcher.err(exc)
                return
            if callable(answer):
                self._slow.put((answer, watcher))
            else:
                _respond(watcher, answer)

        self._slow: SimpleQueue[tuple[Callable[[], Messages], Any]] = SimpleQueue()
        loop = _NoLoop()
        self._scheduler = granian.CallbackScheduler(loop, None, None, None, None)
        self._scheduler._schedule_fn = schedule
        self._loop = loop

    def start(self) -> None:
        """Start accepting connections on granian's own threads and return at once."""
        threading.Thread(target=self._work, name="slow-requests", daemon=True).start()
        self._worker.serve_mtr(self._scheduler, self._loop, self._signal)
        self.slots.start()

    def _work(self) -> None:
        """Answer slow requests one at a time, in arrival order (granian's protocol objects
        may be used from any thread)."""
        if sys.platform == "linux":  # where a thread has a nice value of its own
            # The thread that serves every connection comes first whenever both want the CPU.
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), SLOW_WORK_NICE)
        while True:
            compute, watcher = self._slow.get()
            try:
                messages = compute()
            except Exception as exc:
                watcher.err(exc)
                continue
            _respond(watcher, messages)

    def stop(self, on_stopped: Callable[[], object]) -> None:
        """Close the listener; `on_stopped` is called once every open connection has ended."""
        self.slots.stop()  # first: once the listener is closed, its descriptor may be reused
        self._signal.add_cb(on_stopped)
        self._signal.set()
