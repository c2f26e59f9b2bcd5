"""Fibonacci at the top of the range: the arithmetic in-process, and /hello while 4 clients ask
for the configured maximum. Both against the previous code (integer fast doubling, printed
with str()), measured in the same run.

1. In-process: the p50 over --repeat runs of the decimal text of F(n) for a few n up to
   FIB_MAX_N_LIMIT (100,000), with fibonacci_text() (what the service runs) and with
   str(fibonacci()) (what it ran before); the crossover DECIMAL_FROM is where they meet.
2. Under load: the service from the runtime environment (bench/run.py) with FIB_MAX_N at the
   limit, pinned to one core; on the other, `wrk -c4` requests /fibonacci/FIB_MAX_N while a
   second `wrk -c1` measures /hello's p99. The baseline is granian's bare embedded server with
   the previous arithmetic (bench/baseline_granian.py), under the same load.

Usage: python bench/fibonacci_bench.py [--repeat 50] [--duration 5]
"""

from __future__ import annotations

import argparse
import decimal
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from argo_python.config import FIB_MAX_N_LIMIT
from argo_python.fibonacci import (
    DECIMAL_FROM,
    KARATSUBA_DIGITS,
    decimal_digits,
    fibonacci,
    fibonacci_text,
    karatsuba_multiplier,
)
from run import (  # bench/ is not a package: run.py is found through sys.path
    CANDIDATES,
    LOAD_CPU,
    Candidate,
    make_runtime_venv,
    start,
    stop,
    target_line,
    wrk,
)

SIZES = (1_000, DECIMAL_FROM, 10_000, 50_000, FIB_MAX_N_LIMIT)
HAMMERS = 4
TARGETS = [
    ("F(100000) p50 in-process <= {} ms", "fib_top_p50_ms", "<=", 1.5),
    ("/hello p99 with 4 clients on F(max) <= {} ms", "hello_p99_ms", "<=", 5.0),
]


def p50_ms(compute: Callable[[int], str], n: int, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        compute(n)
        times.append(time.perf_counter() - began)
    return statistics.median(times) * 1000


def previous(n: int) -> str:
    return str(fibonacci(n))


def product_p50_ms(
    multiply: Callable[[decimal.Decimal, decimal.Decimal], decimal.Decimal],
    x: decimal.Decimal,
    y: decimal.Decimal,
    repeat: int,
) -> float:
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        multiply(x, y)
        times.append(time.perf_counter() - began)
    return statistics.median(times) * 1000


def split_products(repeat: int) -> None:
    """F(max)'s last product, F(max/2) L(max/2), with ctx.multiply in one piece and as the
    service computes it (two products below libmpdec's Karatsuba limit when it is above)."""
    half = FIB_MAX_N_LIMIT // 2
    ctx = decimal.Context(prec=decimal_digits(FIB_MAX_N_LIMIT) + 16, Emax=decimal.MAX_EMAX)
    f = decimal.Decimal(str(fibonacci(half)))
    lucas = decimal.Decimal(str(fibonacci(half - 1) + fibonacci(half + 1)))
    split = karatsuba_multiplier(ctx)
    assert split(f, lucas) == ctx.multiply(f, lucas)
    digits = f.adjusted() + lucas.adjusted() + 2
    one, two = (product_p50_ms(m, f, lucas, repeat) for m in (ctx.multiply, split))
    print(f"\nsplit products: F({half}) L({half}), {digits} digits "
          f"(Karatsuba up to {KARATSUBA_DIGITS}): one product {one:.3f} ms, "
          f"as the service computes it {two:.3f} ms ({one / two:.2f}x)")  # fmt: skip


def under_load(candidate: Candidate, seconds: float) -> float:
    """/hello p99 (ms) while HAMMERS connections request F(FIB_MAX_N_LIMIT) non-stop."""
    running = start(candidate)
    try:
        time.sleep(0.5)
        top = f"http://127.0.0.1:{running.port}/fibonacci/{FIB_MAX_N_LIMIT}"
        duration = f"-d{max(1, round(seconds)) + 2}s"
        command = ["taskset", "-c", LOAD_CPU, "wrk", "-t1", f"-c{HAMMERS}", duration, top]
        hammer = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        try:
            time.sleep(1.0)  # the hammering is under way before /hello is measured
            _, p99 = wrk(running.port, "/hello", 1, seconds)
        finally:
            hammer.wait(timeout=seconds + 60)
        return p99
    finally:
        stop(running)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=50, help="runs per size (median)")
    parser.add_argument("--duration", type=float, default=5.0, help="seconds of /hello")
    args = parser.parse_args()
    sys.set_int_max_str_digits(0)  # the previous code needs it for str() at the top
    os.sched_setaffinity(0, {int(LOAD_CPU)})

    print(
        f"# {time.strftime('%Y-%m-%d')} {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}; p50 of {args.repeat} runs; "
        f"/hello with wrk -c1 for {args.duration:g} s beside wrk -c{HAMMERS} on F(max)"
    )
    print(f"{'n':>8} {'fibonacci_text':>16} {'str(fibonacci)':>16} {'ratio':>7}")
    values = {}
    for n in SIZES:
        ours, before = p50_ms(fibonacci_text, n, args.repeat), p50_ms(previous, n, args.repeat)
        print(f"{n:8} {ours:13.3f} ms {before:13.3f} ms {before / ours:6.2f}x")
        values["fib_top_p50_ms"] = ours  # the last size is the top
    split_products(args.repeat)

    make_runtime_venv()
    ours_candidate, bare = (
        next(c for c in CANDIDATES if c.name == n) for n in ("argo-python", "granian-bare")
    )
    env = {**ours_candidate.env, "FIB_MAX_N": str(FIB_MAX_N_LIMIT)}
    loaded = Candidate(ours_candidate.name, ours_candidate.command, env)
    values["hello_p99_ms"] = under_load(loaded, args.duration)
    baseline = under_load(bare, args.duration)
    print(f"\n/hello p99 with {HAMMERS} clients on F({FIB_MAX_N_LIMIT}): "
          f"argo-python {values['hello_p99_ms']:.2f} ms, previous server and arithmetic "
          f"{baseline:.2f} ms ({baseline / values['hello_p99_ms']:.2f}x)")  # fmt: skip
    print()
    for label, key, op, target in TARGETS:
        print(target_line(label, values[key], op, target))


if __name__ == "__main__":
    main()
