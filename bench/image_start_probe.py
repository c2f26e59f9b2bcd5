"""Runs inside the service image (standard library only): start-up time with three bytecode layouts.

Each round starts the server once per layout, interleaved, and measures milliseconds from
spawn to the first 200 from /readyz, the server's RSS then, and separately the time to import
the server's modules:

- as built: the standard library from the image's pythonXY.zip (tools/image_bytecode.py);
- loose .pyc: the zip hidden, the same modules read as loose .pyc files, written once to a
  PYTHONPYCACHEPREFIX in /tmp before the rounds (the layout before the zip);
- no bytecode: the zip hidden and no cache, as the official image ships the standard library
  (but for the dozen standard modules the image keeps as loose .pyc files, which stay).

Every layout starts through the same `python -c` wrapper, so they differ only in where the
bytecode comes from. Prints one JSON object: layout -> metric -> one value per round, for the
metrics "ready_ms", "rss_mib" and "import_ms".
Usage: python image_start_probe.py ROUNDS
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import time

LAYOUTS = ("as built", "loose .pyc", "no bytecode")
PREFIX = "/tmp/pycache"  # noqa: S108 - the container's own tmpfs, made for this run
WRAPPER = """
import sys
if sys.argv[1] == "hide-zip":
    for entry in [e for e in sys.path if e.endswith(".zip")]:
        sys.path.remove(entry)
        sys.path_importer_cache.pop(entry, None)
import argo_python.__main__, argo_python.server
if sys.argv[2] == "serve":
    argo_python.__main__.main()
"""
READY_TIMEOUT_S = 20.0


def command(layout: str, action: str) -> list[str]:
    zip_mode = "keep-zip" if layout == "as built" else "hide-zip"
    return [sys.executable, "-c", WRAPPER, zip_mode, action]


def environment(layout: str, port: int) -> dict[str, str]:
    env = dict(os.environ, PORT=str(port), SHUTDOWN_DRAIN_SECONDS="0", HOST="127.0.0.1")
    if layout == "loose .pyc":
        env["PYTHONPYCACHEPREFIX"] = PREFIX
    return env


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def import_ms(layout: str) -> float:
    started = time.perf_counter()
    subprocess.run(command(layout, "import"), env=environment(layout, 0), check=True)
    return (time.perf_counter() - started) * 1000


def rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        kib = next(line.split()[1] for line in status if line.startswith("VmRSS:"))
    return int(kib) / 1024


def ready_ms_and_rss(layout: str) -> tuple[float, float]:
    port = free_port()
    started = time.perf_counter()
    server = subprocess.Popen(
        command(layout, "serve"),
        env=environment(layout, port),
        stdout=subprocess.DEVNULL,  # the server's JSON logs; this probe's stdout is the result
        stderr=subprocess.DEVNULL,
    )
    try:
        while time.perf_counter() - started < READY_TIMEOUT_S:
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
                connection.request("GET", "/readyz")
                if connection.getresponse().status == http.client.OK:
                    return (time.perf_counter() - started) * 1000, rss_mib(server.pid)
            except OSError:
                time.sleep(0.001)
        raise SystemExit(f"{layout}: not ready after {READY_TIMEOUT_S} s")
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    rounds = int(sys.argv[1])
    # Write the loose layout's cache once, bytecode writing switched on for this run only.
    warm = dict(environment("loose .pyc", 0), PYTHONDONTWRITEBYTECODE="")
    subprocess.run(command("loose .pyc", "import"), env=warm, check=True)
    results: dict[str, dict[str, list[float]]] = {
        layout: {"ready_ms": [], "rss_mib": [], "import_ms": []} for layout in LAYOUTS
    }
    for _ in range(rounds):
        for layout in LAYOUTS:
            results[layout]["import_ms"].append(import_ms(layout))
            ready, rss = ready_ms_and_rss(layout)
            results[layout]["ready_ms"].append(ready)
            results[layout]["rss_mib"].append(rss)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
