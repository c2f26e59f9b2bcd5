"""Run the application on granian's embedded server in this one process, and shut down gracefully.

One process (no granian supervisor and worker pair) keeps the pod inside its 32Mi request, and
owning the event loop lets SIGTERM run the drain sequence below rather than granian's default:

1. SIGTERM (or SIGINT): /readyz turns 503 at once, everything else keeps being served, and new
   connections are still accepted for SHUTDOWN_DRAIN_SECONDS, while Kubernetes takes the pod
   out of its Service endpoints.
2. The listener closes (new connections are refused) and requests in flight finish.
3. The process exits 0, at the latest SHUTDOWN_TIMEOUT_SECONDS after the signal.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import socket
import time

from granian.constants import HTTPModes, Interfaces, TaskImpl
from granian.log import LogLevels
from granian.server.embed import Server

from argo_python import __version__
from argo_python.app import App
from argo_python.config import Settings
from argo_python.logs import granian_log_config

log = logging.getLogger("argo_python")


def ensure_port_is_free(host: str, port: int) -> None:
    """Raise OSError if another process already listens on host:port.

    Granian binds with SO_REUSEPORT, so a second server on a taken port would silently share
    it with the first; a plain bind (SO_REUSEADDR only, to ignore TIME_WAIT) detects that.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host, port))


async def serve(settings: Settings, started: float) -> None:
    """Serve until SIGTERM/SIGINT, then drain and return."""
    ensure_port_is_free(settings.host, settings.port)
    app = App(settings)
    server = Server(
        app,
        address=settings.host,
        port=settings.port,
        interface=Interfaces.RSGI,
        http=HTTPModes.http1,
        websockets=False,
        backlog=1024,
        # Granian's own task implementation runs each request's coroutine without creating an
        # asyncio.Task: about 20 % more requests per second (bench/RESULTS.md). Granian calls it
        # experimental; the service's tests all run on it. Python 3.12+ falls back to asyncio's.
        task_impl=TaskImpl.rust,
        log_level=LogLevels.error,
        log_dictconfig=granian_log_config(settings.log_level),
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    serving = asyncio.create_task(server.serve())
    log.info(
        "started",
        extra={
            "event": "start",
            "version": __version__,
            "host": settings.host,
            "port": settings.port,
            "startup_ms": round((time.perf_counter() - started) * 1000, 1),
        },
    )
    await asyncio.wait([serving, asyncio.create_task(stop.wait())], return_when="FIRST_COMPLETED")
    if serving.done():  # the server failed on its own, e.g. the port is taken
        serving.result()
        return

    signalled = time.monotonic()
    app.ready = False
    log.info("draining", extra={"event": "drain", "drain_s": settings.shutdown_drain_seconds})
    await asyncio.sleep(settings.shutdown_drain_seconds)
    server.stop()  # type: ignore[no-untyped-call]  # granian leaves it unannotated
    remaining = settings.shutdown_timeout_seconds - (time.monotonic() - signalled)
    try:
        await asyncio.wait_for(serving, timeout=max(remaining, 0.1))
    except TimeoutError:
        log.warning("requests still in flight at the shutdown timeout were dropped")
    log.info(
        "stopped",
        extra={"event": "stop", "shutdown_ms": round((time.monotonic() - signalled) * 1000, 1)},
    )
