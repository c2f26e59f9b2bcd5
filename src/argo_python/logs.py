"""JSON-lines logging on stdout: one object per record, with any `extra` fields merged in."""

from __future__ import annotations

import logging
import sys
import time

from argo_python.jsontext import dumps

TYPE_CHECKING = False  # typing only for the type checker: it is not imported at start-up
if TYPE_CHECKING:
    from typing import Any

# Attributes every LogRecord has; anything else on a record came from `extra=` and is logged.
_STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """Format a record as a single JSON object: ts, level, logger, msg, extra fields, exc."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return dumps(entry, default=str)


def configure(level: str) -> None:
    """Send every logger's records to stdout as JSON lines at `level` and above."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # granian's Rust side logs through the "_granian" logger: "Started worker-1" and the like
    # at info level, which say nothing the service's own start and stop lines do not.
    logging.getLogger("_granian").setLevel(logging.ERROR)
