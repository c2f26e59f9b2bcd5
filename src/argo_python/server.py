"""Serve the application on the engine in this one process, and shut down gracefully.

One process, no event loop: the engine's tokio thread calls the application, and the main
thread only waits for a signal. On SIGTERM (or SIGINT):

1. /readyz turns 503 at once, and every answer carries `Connection: close`, so keep-alive
   clients reconnect; new connections are still accepted for SHUTDOWN_DRAIN_SECONDS, while
   Kubernetes takes the pod out of its Service endpoints.
2. The listener closes (new connections are refused) and requests in flight finish.
3. The process exits 0, at the latest SHUTDOWN_TIMEOUT_SECONDS after the signal.

The connection policy (docs/service.md, "Connections"; figures from bench/flood.py):
- A connection that sends nothing is not handed to the server at all for DEFER_ACCEPT_S
  (TCP_DEFER_ACCEPT; the kernel rounds 10 s up to 15): a flood of silent connections takes no
  slot and no memory. After that the kernel hands it over and the header-read timer runs.
- At most MAX_CONNECTIONS are served at once, chosen so that the process stays within its
  memory even under the worst lasting flood measured: every connection made to hold the most
  it can (requests, then a head just under MAX_HEAD_BYTES: about 18 KiB), and, as they are
  recycled, freed memory the allocator has not reused yet. A connection beyond that waits in
  the kernel's accept queue (BACKLOG), and the engine's slot keeper (argo_python.slots) closes
  the least recently active connection for it: a new client is served within milliseconds,
  not after the header-read timeouts of everything ahead of it. Past the backlog, the kernel
  drops its connection attempts and the client retries.
- One timer bounds both how long a request's head may take and how long a keep-alive
  connection may sit idle (hyper has only the one; it starts whenever a head is awaited):
  HEADER_READ_TIMEOUT_MS, 10 s, short, so that a held connection is soon freed. ingress-nginx
  closes its idle upstream connections sooner (infra/ingress-nginx.yaml), so the proxy never
  sends a request into a connection the service is closing (the classic 502).
- Request heads are limited to MAX_HEAD_BYTES, the least hyper accepts: no route needs more,
  and a client holding a partial head pins no more than that.
"""

from __future__ import annotations

# The socket module's C core: socket.py adds enums, selectors and file objects the one port
# probe below never uses, at the cost of a few ms of every start (bench/RESULTS.md).
import _socket
import logging
import sys
import threading
import time

from argo_python import __version__
from argo_python.app import App
from argo_python.config import Settings
from argo_python.engine import Engine

# _signal is what signal.py wraps: the same functions and numbers, without signal.py's enum
# classes (enum is a tenth of the start-up's instructions, bench/RESULTS.md, "Start-up
# imports"). typeshed describes only signal, so the type checker reads that.
TYPE_CHECKING = False
if TYPE_CHECKING:
    import signal as _signal
else:
    import _signal

log = logging.getLogger("argo_python")

MAX_CONNECTIONS = 1024
# Also the kernel's queue of silent connections kept back by DEFER_ACCEPT_S (capped by
# net.core.somaxconn, 4096 by default since Linux 5.4): past it, SYN cookies hand them over.
BACKLOG = 4096
HEADER_READ_TIMEOUT_MS = 10_000
DEFER_ACCEPT_S = 10
MAX_HEAD_BYTES = 8192
STOP_SIGNALS = (_signal.SIGTERM, _signal.SIGINT)
# Large F(n) are computed on the engine's worker thread, which holds the GIL through each big
# multiplication; the tokio thread then gets it back within this interval rather than 5 ms, so
# /hello stays fast while F(FIB_MAX_N) is being computed (bench/fibonacci_bench.py).
SWITCH_INTERVAL_S = 0.0002


def ensure_port_is_free(host: str, port: int) -> None:
    """Raise OSError if another process already listens on host:port.

    The engine binds with SO_REUSEPORT, so a second server on a taken port would silently share
    it with the first; a plain bind (SO_REUSEADDR only, to ignore TIME_WAIT) detects that.
    """
    family = _socket.AF_INET6 if ":" in host else _socket.AF_INET
    probe = _socket.socket(family, _socket.SOCK_STREAM)
    try:
        probe.setsockopt(_socket.SOL_SOCKET, _socket.SO_REUSEADDR, 1)
        probe.bind((host, port))
    finally:
        probe.close()


def serve(settings: Settings, started: float) -> None:
    """Serve until SIGTERM/SIGINT, then drain and return."""
    ensure_port_is_free(settings.host, settings.port)
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    app = App(settings)
    # Blocked before the engine's threads exist, so they inherit the mask and the signals wait
    # for sigwait() below in this thread: no handler runs in the middle of a request.
    _signal.pthread_sigmask(_signal.SIG_BLOCK, STOP_SIGNALS)
    engine = Engine(
        app,
        host=settings.host,
        port=settings.port,
        backlog=BACKLOG,
        max_connections=MAX_CONNECTIONS,
        header_read_timeout_ms=HEADER_READ_TIMEOUT_MS,
        max_buffer_size=MAX_HEAD_BYTES,
        defer_accept_s=DEFER_ACCEPT_S,
    )
    engine.start()
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
    _signal.sigwait(STOP_SIGNALS)

    signalled = time.monotonic()
    app.draining = True
    log.info("draining", extra={"event": "drain", "drain_s": settings.shutdown_drain_seconds})
    time.sleep(settings.shutdown_drain_seconds)
    stopped = threading.Event()
    engine.stop(stopped.set)
    remaining = settings.shutdown_timeout_seconds - (time.monotonic() - signalled)
    if not stopped.wait(max(remaining, 0.1)):
        log.warning("connections still open at the shutdown timeout were dropped")
    log.info(
        "stopped",
        extra={"event": "stop", "shutdown_ms": round((time.monotonic() - signalled) * 1000, 1)},
    )
