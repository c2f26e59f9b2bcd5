"""Console entry point `argo-python`: validate the configuration, then serve."""

from __future__ import annotations

import logging
import os
import sys
import time

from argo_python import logs
from argo_python.config import ConfigError, Settings


def main() -> None:
    started = time.perf_counter()
    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        sys.stderr.write(f"argo-python: configuration error: {exc}\n")
        sys.exit(2)
    logs.configure(settings.log_level)

    # Imported after validation so that a bad variable fails fast without loading the server.
    from argo_python.server import serve  # noqa: PLC0415

    try:
        serve(settings, started)  # returns once the server has drained and stopped
    except OSError as exc:  # binding the port failed
        host = f"[{settings.host}]" if ":" in settings.host else settings.host
        where = f"{host}:{settings.port}"
        logging.getLogger("argo_python").error(
            f"cannot listen on {where} (HOST, PORT): {exc.strerror or exc}",
            extra={
                "event": "error",
                "error": str(exc),
                "host": settings.host,
                "port": settings.port,
            },
        )
        sys.exit(1)
    # granian's Rust runtime threads can still be winding down while the interpreter finalises,
    # which sometimes aborts with a panic on stderr; everything is drained and logged by now, so
    # flush and leave without finalisation, as pre-fork servers do for their workers.
    logging.shutdown()
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
