"""Flood benchmark: thousands of idle or slow connections held against one server process, while
a new client asks for /healthz and /hello. argo-python against its previous server (granian's
embedded RSGI server with its defaults, bench/baseline_granian.py), in one run.

For each server and each kind of held connection ("idle": connected, never sends a byte;
"slow": sends the start of a request head and never finishes it; "full-head": the same, but
a head just under the MAX_HEAD_BYTES limit, so that the server's whole read buffer is used;
"keep-alive": makes one request, then keeps the connection open; "reused-full-head": two
requests a second apart, then a full head a second later, the most a connection can make the
server keep; "slow-reopened": "slow", but a second process opens a new connection for each
one the server closes, through the probes, as a lasting flood does): start the server pinned
to one core, open --connections connections from this process on the other core, send each
kind's bytes, wait a second, then make --probes requests to each of /healthz and /hello, each
on a new connection, one at a time, with a --timeout per request. Reported: the new client's
p50/p99/max latency and how many requests failed, RSS with everything held and its
high-water mark (VmHWM), how many held connections the server closed by then (to make room,
or at its timeouts), and whether the server survived. Everything is bounded: after three
failures in a row the remaining probes of that path count as failed without being sent.

Usage: python bench/flood.py [--connections 5000] [--probes 200] [--timeout 2] [--json out.json]
         [--kinds idle,slow,...] [--hold 1]  (seconds from the last bytes sent to the probes)
         [--env NAME=VALUE ...]  (argo-python's environment, such as an allocator setting)
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing
import os
import platform
import resource
import select
import socket
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from argo_python.server import MAX_HEAD_BYTES
from run import (  # bench/ is not a package: run.py is found through sys.path
    CANDIDATES,
    LOAD_CPU,
    Candidate,
    make_runtime_venv,
    rss_mib,
    start,
    stop,
    target_line,
)

SLOW = b"GET /hello HTTP/1.1\r\nHost: flood\r\nX-Slow: "
# The most of its read buffer a head can fill (the server closes the connection at
# MAX_HEAD_BYTES).
FULL_HEAD = SLOW + b"x" * (MAX_HEAD_BYTES - len(SLOW) - 256)
REQUEST = b"GET /hello HTTP/1.1\r\nHost: flood\r\n\r\n"  # its answer is never read
# What each connection sends, in turn, a second apart.
KINDS: dict[str, tuple[bytes, ...]] = {
    "idle": (),
    "slow": (SLOW,),
    "full-head": (FULL_HEAD,),
    "keep-alive": (REQUEST,),
    # Each request leaves hyper's read buffer shared with the request it parsed, so the next
    # read gets a new buffer while the old one is freed: the worst case for memory.
    "reused-full-head": (REQUEST, REQUEST, FULL_HEAD),
    # A lasting flood: each connection the server closes is opened again at once, by another
    # process on the client's core, all through the probes.
    "slow-reopened": (SLOW,),
}
REOPENED = {"slow-reopened"}
CONNECT_S = 10.0
# The targets are for floods held; the others, and a flood that reopens every connection the
# server closes (a connection-rate flood, for a limit in front of the service), are measured
# for the record.
TARGETED = ("idle", "slow")
SERVERS = [c for c in CANDIDATES if c.name in ("argo-python", "granian-bare")]
# (how the check reads; metric; operator; target): for argo-python, under either kind of flood.
TARGETS = [
    ("new client p99 < {} ms", "p99_ms", "<", 100.0),
    ("RSS with all held <= {} MiB", "peak_rss_mib", "<=", 48.0),
    ("failed requests <= {}", "failed", "<=", 0),
]


def hold(port: int, count: int, sends: tuple[bytes, ...]) -> list[socket.socket]:
    """`count` connections, each sent `sends[0]` once it is established (a connection the
    kernel has not completed yet, its SYN dropped while the backlog was full, is retried as a
    client would, for up to CONNECT_S), then each further one a second apart."""
    first_bytes = sends[0] if sends else b""
    held = []
    for _ in range(count):
        sock = socket.socket()
        sock.setblocking(False)
        # Completes in the background; the kernel queues it for the server.
        with contextlib.suppress(BlockingIOError):
            sock.connect(("127.0.0.1", port))
        held.append(sock)
    waiting = {sock.fileno(): sock for sock in held}
    poller = select.poll()
    for fd in waiting:
        poller.register(fd, select.POLLOUT)
    deadline = time.monotonic() + CONNECT_S
    while waiting and time.monotonic() < deadline:
        for fd, _ in poller.poll(100):
            poller.unregister(fd)
            sock = waiting.pop(fd)
            if first_bytes and not sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
                with contextlib.suppress(OSError):
                    sock.send(first_bytes)
    if waiting:
        print(f"flood: {len(waiting)} connections not established in time", file=sys.stderr)
    for later in sends[1:]:
        time.sleep(1.0)
        for sock in held:
            with contextlib.suppress(OSError):  # never established, or closed by the server
                sock.send(later)
    return held


def closed_by_server(held: list[socket.socket]) -> int:
    """How many of `held` the server has closed or reset (read past any answers it sent)."""
    closed = 0
    for sock in held:
        try:
            while sock.recv(65536, socket.MSG_DONTWAIT):
                pass
            closed += 1  # the end of the stream
        except BlockingIOError:  # still open
            pass
        except OSError:  # reset, or never established
            closed += 1
    return closed


def keep_reopening(
    port: int, count: int, first_bytes: bytes, *, ready: Any, stop: Any, reopened: Any
) -> None:
    """Hold `count` connections, each sent `first_bytes`; open a new one for each the server
    closes, until `stop` is set. `ready` is set once `count` have been established once."""
    poller = select.poll()
    socks: dict[int, socket.socket] = {}

    def open_one() -> None:
        sock = socket.socket()
        sock.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            sock.connect(("127.0.0.1", port))
        socks[sock.fileno()] = sock
        poller.register(sock.fileno(), select.POLLOUT)

    def replace(fd: int) -> None:
        poller.unregister(fd)
        socks.pop(fd).close()
        reopened.value += 1
        open_one()

    for _ in range(count):
        open_one()
    established = 0
    deadline = time.monotonic() + CONNECT_S
    while not stop.is_set():
        if established < count and time.monotonic() > deadline:
            ready.set()  # as many as the kernel took in time
        for fd, events in poller.poll(50):
            sock = socks[fd]
            if events & (select.POLLERR | select.POLLHUP):
                replace(fd)
            elif events & select.POLLOUT:
                try:
                    sock.send(first_bytes)
                except OSError:
                    replace(fd)
                    continue
                poller.modify(fd, select.POLLIN)
                established += 1
                if established == count:
                    ready.set()
            else:  # the server's answer (then it closes), or its end of stream
                try:
                    answer = sock.recv(65536)
                except OSError:
                    answer = b""
                if not answer:
                    replace(fd)


def probe(port: int, path: str, count: int, timeout: float) -> tuple[list[float], int]:
    """Latencies in ms of the requests answered 200, and how many failed."""
    latencies: list[float] = []
    failed = in_a_row = 0
    request = f"GET {path} HTTP/1.1\r\nHost: probe\r\nConnection: close\r\n\r\n".encode()
    for _ in range(count):
        if in_a_row >= 3:
            failed += 1
            continue
        began = time.perf_counter()
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
                sock.sendall(request)
                answer = sock.recv(65536)
            ok = answer.startswith(b"HTTP/1.1 200")
        except OSError:
            ok = False
        if ok:
            latencies.append((time.perf_counter() - began) * 1000)
            in_a_row = 0
        else:
            failed += 1
            in_a_row += 1
    return latencies, failed


def measure(candidate: Candidate, kind: str, args: argparse.Namespace) -> dict[str, float]:
    running = start(candidate)
    held: list[socket.socket] = []
    try:
        time.sleep(0.5)
        idle = rss_mib(running.proc.pid)
        if kind in REOPENED:
            fork = multiprocessing.get_context("fork")
            ready, done, reopened = fork.Event(), fork.Event(), fork.Value("q", 0)
            holder = fork.Process(
                target=keep_reopening,
                args=(running.port, args.connections, KINDS[kind][0]),
                kwargs={"ready": ready, "stop": done, "reopened": reopened},
            )
            holder.start()
            ready.wait(CONNECT_S * 2)
        else:
            held = hold(running.port, args.connections, KINDS[kind])
        time.sleep(args.hold)
        latencies: list[float] = []
        failed = 0
        for path in ("/healthz", "/hello"):
            answered, lost = probe(running.port, path, args.probes, args.timeout)
            latencies += answered
            failed += lost
        if kind in REOPENED:
            done.set()
            holder.join()
            closed = reopened.value
        else:
            closed = closed_by_server(held)
        ordered = sorted(latencies) or [float("inf")]
        at = min(len(ordered) - 1, int(len(ordered) * 0.99))
        return {
            "idle_rss_mib": idle,
            "held_rss_mib": rss_mib(running.proc.pid),
            "peak_rss_mib": rss_mib(running.proc.pid, "VmHWM"),
            "p50_ms": statistics.median(ordered),
            # A failed request counts as slower than any answered one.
            "p99_ms": ordered[at] if failed == 0 else float("inf"),
            "max_ms": ordered[-1],
            "failed": failed,
            "closed": closed,
            "alive": 1.0 if running.proc.poll() is None else 0.0,
        }
    finally:
        for sock in held:
            sock.close()
        stop(running)


ROWS = [
    ("idle_rss_mib", "RSS before the flood (MiB)"),
    ("held_rss_mib", "RSS with all held (MiB)"),
    ("peak_rss_mib", "peak RSS, VmHWM (MiB)"),
    ("p50_ms", "new client p50 (ms)"),
    ("p99_ms", "new client p99 (ms)"),
    ("max_ms", "new client max (ms)"),
    ("failed", "new client requests failed"),
    ("closed", "held connections closed by the server"),
    ("alive", "server alive afterwards (1 = yes)"),
]


def report(results: dict[str, dict[str, dict[str, float]]], probes: int) -> list[str]:
    names = [c.name for c in SERVERS]
    kinds = list(results[names[0]])
    lines = []
    for kind in kinds:
        lines.append(f"## {kind} connections held")
        lines.append(f"{'metric':36}" + "".join(f" {n:>14}" for n in names))
        for key, label in ROWS:
            lines.append(f"{label:36}" + "".join(f" {results[n][kind][key]:14.2f}" for n in names))
        lines.append("")
    for kind in (k for k in TARGETED if k in kinds):
        ours = results["argo-python"][kind]
        for label, key, op, target in TARGETS:
            lines.append(target_line(f"{kind}: {label}", ours[key], op, target))
    lines.append(f"(each server: {2 * probes} probe requests per kind)")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=5000, help="connections held")
    parser.add_argument("--probes", type=int, default=200, help="requests per path")
    parser.add_argument("--timeout", type=float, default=2.0, help="seconds per probe request")
    parser.add_argument("--json", type=Path, help="also write the results as JSON here")
    parser.add_argument(
        "--env", action="append", default=[], metavar="NAME=VALUE", help="for argo-python"
    )
    parser.add_argument(
        "--kinds", default=",".join(KINDS), help=f"which kinds, of {','.join(KINDS)}"
    )
    parser.add_argument(
        "--hold",
        type=float,
        default=1.0,
        help="seconds from the last bytes sent to the probes (longer: the header-read timeout "
        "recycles the connections served while the rest wait, as a lasting flood does)",
    )
    args = parser.parse_args()
    kinds = args.kinds.split(",")
    if unknown := sorted(set(kinds) - set(KINDS)):
        raise SystemExit(f"flood: unknown kind {unknown[0]!r}; the kinds are {', '.join(KINDS)}")
    bad = [setting for setting in args.env if not setting.partition("=")[0] or "=" not in setting]
    if bad:
        raise SystemExit(f"flood: --env {bad[0]!r} is not NAME=VALUE, such as A_SETTING=1")
    extra = dict(setting.split("=", 1) for setting in args.env)
    for candidate in SERVERS:
        if candidate.name == "argo-python":
            candidate.env = {**candidate.env, **extra}
    if os.cpu_count() is None or os.cpu_count() < 2:  # type: ignore[operator]
        raise SystemExit("flood: needs two cores (one for the server, one for the client)")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = args.connections + 512
    if hard != resource.RLIM_INFINITY and hard < needed:
        raise SystemExit(f"flood: needs {needed} file descriptors, the hard limit is {hard}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, needed), hard))
    os.sched_setaffinity(0, {int(LOAD_CPU)})

    make_runtime_venv()
    results: dict[str, dict[str, dict[str, float]]] = {c.name: {} for c in SERVERS}
    for kind in kinds:
        for candidate in SERVERS:
            print(f"{candidate.name}: {args.connections} {kind} connections ...", file=sys.stderr)
            results[candidate.name][kind] = measure(candidate, kind, args)
    print(
        f"# {time.strftime('%Y-%m-%d')} {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}; {args.connections} connections held, "
        f"{args.probes} requests per path, {args.timeout:g} s timeout each, probes "
        f"{args.hold:g} s after the last bytes sent"
        + "".join(f"; argo-python with {setting}" for setting in args.env)
    )
    print("\n".join(report(results, args.probes)))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
