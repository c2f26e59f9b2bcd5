"""Load and memory benchmark: argo-python against granian's bare embedded RSGI server and a
FastAPI + uvicorn baseline, in one run.

For each server: milliseconds from process start to the first 200 from /hello, idle RSS,
requests/s and p99 latency for /hello and /fibonacci/90 at 64 connections (wrk -t1 -c64), peak
RSS up to then (the kernel's VmHWM, summed over the server's processes), and /fibonacci/10000
p99 with a single connection and no other load. The server is pinned to one core, wrk and this
script (its polling for the first 200) to the other; rounds are interleaved (ours, baseline,
ours, ...) and the median of the rounds is reported.

With --starts N, only the time to the first 200 is measured, N interleaved starts of each server
(median and minimum): start-up varies more than the rest from one start to the next.

With --instructions N, only argo-python's cost per /hello is measured, in user-space
instructions counted by cachegrind (valgrind): the difference between a run serving 5N and one
serving N keep-alive requests, divided by 4N, so that start-up and shutdown cancel out. Other
jobs on the machine do not change the count, where they move a wrk run by tens of per cent.

Usage: python bench/run.py [--rounds 3] [--duration 5] [--json out.json] [--starts N]
       python bench/run.py --instructions N
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
# The service runs from an environment holding exactly what the image installs (the locked
# runtime dependencies, no dev tools): optional packages in the dev environment, such as uvloop
# or watchfiles, would otherwise be imported by granian and inflate its memory.
RUNTIME_VENV = ROOT / "bench" / ".runtime-venv"
SERVER_CPU = "0"
LOAD_CPU = "1"
MIB = 1024 * 1024


@dataclass
class Candidate:
    name: str
    command: Callable[[int], list[str]]
    env: dict[str, str] = field(default_factory=dict)


CANDIDATES = [
    Candidate(
        "argo-python",
        lambda port: [str(RUNTIME_VENV / "bin" / "argo-python")],
        # The configuration the Kubernetes manifest deploys: metrics on, access log off.
        {"HOST": "127.0.0.1", "LOG_LEVEL": "info", "ACCESS_LOG": "false"},
    ),
    Candidate(
        # What the service ran on before its engine: granian's documented embedded server, in
        # the same runtime environment, with the smallest RSGI application (no metrics).
        "granian-bare",
        lambda port: [str(RUNTIME_VENV / "bin" / "python"), "bench/baseline_granian.py", str(port)],
    ),
    Candidate(
        "fastapi-uvicorn",
        lambda port: [
            str(VENV_BIN / "uvicorn"),
            "bench.baseline_fastapi:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
    ),
]


def make_runtime_venv() -> None:
    uv = shutil.which("uv") or str(ROOT / ".tools" / "uv")
    subprocess.run(
        # uv keys its cache of the built project on pyproject.toml, not on src/: reinstalling
        # the project makes every run measure the code as it is now. Bytecode is compiled as
        # in the image (PYTHONDONTWRITEBYTECODE would otherwise recompile on every start).
        [
            uv,
            "sync",
            "--quiet",
            "--locked",
            "--no-dev",
            "--no-default-groups",
            "--no-editable",
            "--reinstall-package",
            "argo-python",
            "--compile-bytecode",
        ],
        cwd=ROOT,
        env={**os.environ, "UV_PROJECT_ENVIRONMENT": str(RUNTIME_VENV)},
        check=True,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def tree_pids(root: int) -> list[int]:
    """The process and all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry.name))
    pids, todo = [], [root]
    while todo:
        pid = todo.pop()
        pids.append(pid)
        todo.extend(children.get(pid, []))
    return pids


def status_kib(pid: int, key: str) -> int:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    match = re.search(rf"^{key}:\s+(\d+) kB", text, re.MULTILINE)
    return int(match.group(1)) if match else 0


def cpu_seconds(root: int) -> float:
    """User and system CPU time of a process tree, from /proc (clock ticks)."""
    ticks = 0
    for pid in tree_pids(root):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def rss_mib(root: int, key: str = "VmRSS") -> float:
    """Summed RSS (VmRSS) or peak RSS (VmHWM) of a process tree, in MiB."""
    return sum(status_kib(pid, key) for pid in tree_pids(root)) / 1024


@dataclass
class Running:
    proc: subprocess.Popen[bytes]
    port: int
    ready_ms: float


def spawn_on_server_cpu(argv: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    """Start `argv` pinned to the server's core from its first instruction. It inherits this
    process's affinity, set around the spawn, rather than going through taskset, whose own exec
    (about 2 ms) would count in the time to the first 200."""
    own = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {int(SERVER_CPU)})
    try:
        return subprocess.Popen(
            argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
    finally:
        os.sched_setaffinity(0, own)


def start(candidate: Candidate) -> Running:
    port = free_port()
    env = {**os.environ, "PORT": str(port), **candidate.env}
    started = time.perf_counter()
    proc = spawn_on_server_cpu(candidate.command(port), env)
    deadline = started + 30
    while time.perf_counter() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            conn.request("GET", "/hello")
            if conn.getresponse().status == 200:
                conn.close()
                return Running(proc, port, (time.perf_counter() - started) * 1000)
        except OSError:
            time.sleep(0.002)
    proc.kill()
    raise SystemExit(f"bench: {candidate.name} did not answer /hello within 30 s")


def stop(running: Running) -> None:
    running.proc.terminate()
    try:
        running.proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        running.proc.kill()
        running.proc.wait()


_LATENCY = re.compile(r"^\s+99(?:\.000)?%\s+([\d.]+)(us|ms|s)\s*$", re.MULTILINE)
_RPS = re.compile(r"^Requests/sec:\s+([\d.]+)", re.MULTILINE)
_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def wrk(port: int, path: str, connections: int, seconds: float) -> tuple[float, float]:
    """Run wrk on the load core; return (requests/s, p99 latency in ms)."""
    out = subprocess.run(
        [
            "taskset", "-c", LOAD_CPU, "wrk", "-t1", f"-c{connections}",
            f"-d{max(1, round(seconds))}s", "--latency", f"http://127.0.0.1:{port}{path}",
        ],
        capture_output=True, text=True, check=True, timeout=seconds + 60,
    ).stdout  # fmt: skip
    if "Non-2xx" in out or "Socket errors" in out:
        raise SystemExit(f"bench: errors under load on {path}:\n{out}")
    rps = _RPS.search(out)
    p99 = _LATENCY.search(out)
    if not (rps and p99):
        raise SystemExit(f"bench: cannot read wrk's output:\n{out}")
    return float(rps.group(1)), float(p99.group(1)) * _UNIT_MS[p99.group(2)]


def measure(candidate: Candidate, seconds: float) -> dict[str, float]:
    running = start(candidate)
    try:
        time.sleep(1.0)
        result = {"ready_ms": running.ready_ms, "idle_rss_mib": rss_mib(running.proc.pid)}
        for key, path in (("hello", "/hello"), ("fib90", "/fibonacci/90")):
            cpu_before = cpu_seconds(running.proc.pid)
            rps, p99 = wrk(running.port, path, 64, seconds)
            cpu = cpu_seconds(running.proc.pid) - cpu_before
            result[f"{key}_rps"], result[f"{key}_p99_ms"] = rps, p99
            # Requests per second of the server's own CPU time: what a request costs, much less
            # sensitive than requests/s to other jobs taking turns on the server's core.
            result[f"{key}_per_cpu_s"] = rps * round(seconds) / cpu
        # VmHWM is the kernel's own high-water mark per process: no sampling can see more.
        result["peak_rss_mib"] = rss_mib(running.proc.pid, "VmHWM")
        _, result["fib10000_p99_ms"] = wrk(running.port, "/fibonacci/10000", 1, seconds)
        return result
    finally:
        stop(running)


ROWS = [
    ("ready_ms", "ready after start (ms)", "lower"),
    ("idle_rss_mib", "idle RSS (MiB)", "lower"),
    ("peak_rss_mib", "peak RSS under load (MiB)", "lower"),
    ("hello_rps", "/hello requests/s (c=64)", "higher"),
    ("hello_p99_ms", "/hello p99 (ms)", "lower"),
    ("hello_per_cpu_s", "/hello requests per CPU-second", "higher"),
    ("fib90_rps", "/fibonacci/90 requests/s (c=64)", "higher"),
    ("fib90_p99_ms", "/fibonacci/90 p99 (ms)", "lower"),
    ("fib90_per_cpu_s", "/fibonacci/90 requests per CPU-second", "higher"),
    ("fib10000_p99_ms", "/fibonacci/10000 p99, c=1 (ms)", "lower"),
]
# (how the check reads, with {} for the target; metric; "<=" or ">="; target). A "hello_vs_"
# metric is /hello requests/s of argo-python over that candidate's, "hello_cpu_vs_" the same for
# requests per CPU-second of the server.
TARGETS = [
    ("/hello throughput >= {}x granian bare", "hello_vs_granian-bare", ">=", 1.3),
    ("/hello requests per CPU-s >= {}x granian bare", "hello_cpu_vs_granian-bare", ">=", 1.3),
    ("/hello throughput >= {}x fastapi", "hello_vs_fastapi-uvicorn", ">=", 4.0),
    ("idle RSS <= {} MiB", "idle_rss_mib", "<=", 20.0),
    ("peak RSS <= {} MiB", "peak_rss_mib", "<=", 24.0),
    ("ready <= {} ms", "ready_ms", "<=", 50.0),
    ("/fibonacci/10000 p99 <= {} ms", "fib10000_p99_ms", "<=", 2.0),
]
OURS = "argo-python"


def report(results: dict[str, dict[str, float]]) -> list[str]:
    ours = results[OURS]
    others = [name for name in results if name != OURS]
    lines = [f"{'metric':34} {OURS:>12}" + "".join(f" {n:>16} {'ratio':>7}" for n in others)]
    for key, label, better in ROWS:
        line = f"{label:34} {ours[key]:12.2f}"
        for name in others:
            base = results[name][key]
            ratio = ours[key] / base if better == "higher" else base / ours[key]
            line += f" {base:16.2f} {ratio:6.2f}x"
        lines.append(line)
    values = dict(ours)
    for name in others:
        values[f"hello_vs_{name}"] = ours["hello_rps"] / results[name]["hello_rps"]
        values[f"hello_cpu_vs_{name}"] = ours["hello_per_cpu_s"] / results[name]["hello_per_cpu_s"]
    lines.append("")
    lines += [target_line(label, values[key], op, target) for label, key, op, target in TARGETS]
    return lines


def target_line(label: str, value: float, op: str, target: float) -> str:
    """One checked target: `label` with {} for the target, the value, and met or MISSED."""
    met = {"<=": value <= target, ">=": value >= target, "<": value < target}[op]
    return f"target {label.format(f'{target:g}'):46} {value:9.2f}  {'met' if met else 'MISSED'}"


def startup_report(starts: int) -> list[str]:
    """Milliseconds from exec to the first 200, `starts` interleaved starts per server."""
    ready: dict[str, list[float]] = {c.name: [] for c in CANDIDATES}
    for _ in range(starts):
        for candidate in CANDIDATES:
            running = start(candidate)
            ready[candidate.name].append(running.ready_ms)
            running.proc.kill()  # no drain to wait for: only the start is measured
            running.proc.wait()
    lines = [
        f"# {time.strftime('%Y-%m-%d')} {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}; {starts} interleaved starts each, load average "
        f"{os.getloadavg()[0]:.1f}",
        f"{'ready after start (ms)':34} {'median':>8} {'min':>8}",
    ]
    for name, values in ready.items():
        lines.append(f"{name:34} {statistics.median(values):8.1f} {min(values):8.1f}")
    lines.append(
        target_line("ready <= {} ms", statistics.median(ready[OURS]), "<=", _target("ready_ms"))
    )
    return lines


def instructions_served(requests: int, connections: int = 8) -> tuple[int, int]:
    """Run argo-python under cachegrind, serve `requests` /hello requests (at least) on
    `connections` keep-alive connections, stop it; return (instructions, requests served)."""
    port = free_port()
    out = Path(tempfile.gettempdir()) / f"argo-python-cachegrind.{os.getpid()}.out"
    env = {**os.environ, "PORT": str(port), **CANDIDATES[0].env, "SHUTDOWN_DRAIN_SECONDS": "0"}
    proc = subprocess.Popen(
        ["valgrind", "--tool=cachegrind", "--cache-sim=no", f"--cachegrind-out-file={out}",
         *CANDIDATES[0].command(port)],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120  # valgrind starts the interpreter about 50x slower
        while True:
            try:
                conns = [http.client.HTTPConnection("127.0.0.1", port) for _ in range(connections)]
                for conn in conns:
                    conn.request("GET", "/hello")
                    conn.getresponse().read()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit("bench: argo-python did not answer under valgrind") from None
                time.sleep(0.1)
        served = connections
        while served < requests + connections:  # a request on every connection, then the answers
            for conn in conns:
                conn.request("GET", "/hello")
            for conn in conns:
                conn.getresponse().read()
            served += connections
        for conn in conns:
            conn.close()
    finally:
        proc.terminate()
        proc.wait(timeout=120)
    summary = re.search(r"^summary:\s+(\d+)", out.read_text(), re.MULTILINE)
    out.unlink()
    if summary is None:
        raise SystemExit("bench: cannot read cachegrind's output")
    return int(summary.group(1)), served


def instructions_report(requests: int) -> list[str]:
    """argo-python's user-space instructions per /hello, start-up and shutdown left out."""
    if not shutil.which("valgrind"):
        raise SystemExit("bench: valgrind is missing; install it with: apt-get install valgrind")
    few, few_served = instructions_served(requests)
    many, many_served = instructions_served(5 * requests)
    per_request = (many - few) / (many_served - few_served)
    return [
        f"# {time.strftime('%Y-%m-%d')} {platform.machine()}, Python "
        f"{platform.python_version()}; cachegrind, {few_served} and {many_served} keep-alive "
        "requests on 8 connections",
        f"{OURS} user-space instructions per /hello request: {per_request:,.0f}",
    ]


def _target(metric: str) -> float:
    return next(target for _, key, _, target in TARGETS if key == metric)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (median)")
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per wrk run")
    parser.add_argument("--json", type=Path, help="also write the medians as JSON here")
    parser.add_argument("--starts", type=int, help="measure only the first 200, N starts each")
    parser.add_argument(
        "--instructions", type=int, help="count only instructions per /hello, N requests"
    )
    args = parser.parse_args()
    # This process polls for the first 200 and reads /proc: on the load core, so that it never
    # takes turns with the server it measures.
    os.sched_setaffinity(0, {int(LOAD_CPU)})
    if args.instructions:
        make_runtime_venv()
        print("\n".join(instructions_report(args.instructions)))
        return
    if args.starts:
        make_runtime_venv()
        print("\n".join(startup_report(args.starts)))
        return
    if not shutil.which("wrk"):
        raise SystemExit("bench: wrk is missing; install it with: apt-get install wrk")
    if os.cpu_count() is None or os.cpu_count() < 2:  # type: ignore[operator]
        raise SystemExit("bench: needs two cores (one for the server, one for wrk)")

    make_runtime_venv()
    rounds: dict[str, list[dict[str, float]]] = {c.name: [] for c in CANDIDATES}
    for index in range(args.rounds):
        for candidate in CANDIDATES:
            print(f"round {index + 1}/{args.rounds}: {candidate.name} ...", file=sys.stderr)
            rounds[candidate.name].append(measure(candidate, args.duration))
    medians = {
        name: {key: statistics.median(r[key] for r in runs) for key in runs[0]}
        for name, runs in rounds.items()
    }
    print(
        f"# {time.strftime('%Y-%m-%d')} {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}; median of {args.rounds} interleaved rounds, "
        f"wrk -t1, {args.duration:g} s per run"
    )
    print("\n".join(report(medians)))
    if args.json:
        args.json.write_text(json.dumps({"rounds": rounds, "median": medians}, indent=2))


if __name__ == "__main__":
    main()
