"""Request and process metrics in the Prometheus text exposition format (version 0.0.4).

Written out here rather than with prometheus_client: importing that library costs about 3.5 MiB
of resident memory, a tenth of the pod's 32 MiB request, for what is a few counters and one
histogram. The tests parse this output with prometheus_client's own parser.

The hot path only bumps plain integers and floats (one dict lookup per request, and a bisect
for the rare answer slower than the first bucket); the text is rendered when /metrics is
scraped.
"""

from __future__ import annotations

import os
from _bisect import bisect_left  # bisect.bisect_left itself, without bisect.py
from functools import cache

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# Seconds. Most answers take 10 to 50 microseconds and F(FIB_MAX_N) about a millisecond, so the
# buckets start at 25 us, with about three per decade (1, 2.5, 5) up to 2.5 s for stalls: enough
# resolution for histogram_quantile() to report latency rather than interpolate inside one
# bucket (docs/service.md, "Metrics").
BUCKETS = (
    0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
    0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
)  # fmt: skip
_BOUNDS = (*(repr(b) for b in BUCKETS), "+Inf")
_FIRST_BOUND = BUCKETS[0]
_LABELS = ("method", "route", "status")
# Any other method token a client sends is counted as "other": a label value per invented
# method would let one client grow the series, and the pod's memory, without bound.
METHODS = frozenset(
    ("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "CONNECT", "TRACE")
)
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


class _Series:
    __slots__ = ("buckets", "sum")

    def __init__(self) -> None:
        self.sum = 0.0
        # Hits per bucket, the last slot above the largest bound: their total is the count.
        self.buckets = [0] * (len(BUCKETS) + 1)


class RequestMetrics:
    """Request count and latency histogram by method, route template and status."""

    def __init__(self) -> None:
        # Keyed by the method as sent when it is a standard one; any other method's requests
        # go to its "other" series without adding a key, so the table stays bounded.
        self._series: dict[tuple[str, str, int], _Series] = {}

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        try:
            series = self._series[method, route, status]
        except KeyError:
            series = self._add(method, route, status)
        series.sum += seconds
        # Nearly every answer falls in the first bucket: one comparison instead of a search.
        series.buckets[0 if seconds <= _FIRST_BOUND else bisect_left(BUCKETS, seconds)] += 1

    def _add(self, method: str, route: str, status: int) -> _Series:
        if method not in METHODS:
            method = "other"
        series = self._series.get((method, route, status))
        if series is None:
            series = self._series[method, route, status] = _Series()
        return series

    def render(self) -> bytes:
        lines = [
            "# HELP http_requests_total HTTP requests served, by route template and status.",
            "# TYPE http_requests_total counter",
        ]
        histogram = [
            "# HELP http_request_duration_seconds Time from request received to response "
            "handed to the server.",
            "# TYPE http_request_duration_seconds histogram",
        ]
        for key, series in sorted(self._series.items()):
            labels = ",".join(
                f'{name}="{_escape(str(v))}"' for name, v in zip(_LABELS, key, strict=True)
            )
            count = sum(series.buckets)
            lines.append(f"http_requests_total{{{labels}}} {count}")
            cumulative = 0
            for bound, hits in zip(_BOUNDS, series.buckets, strict=True):
                cumulative += hits
                histogram.append(
                    f'http_request_duration_seconds_bucket{{{labels},le="{bound}"}} {cumulative}'
                )
            histogram.append(f"http_request_duration_seconds_sum{{{labels}}} {series.sum!r}")
            histogram.append(f"http_request_duration_seconds_count{{{labels}}} {count}")
        return "\n".join([*lines, *histogram, *process_metrics(), ""]).encode()


def _escape(value: str) -> str:
    return value.replace("\\", r"\\").replace("\n", r"\n").replace('"', r"\"")


@cache
def _boot_time() -> float:
    """Seconds since the epoch at boot: constant, so /proc/stat is read on the first scrape only."""
    with open("/proc/stat", "rb") as boot_file:
        return next(float(line.split()[1]) for line in boot_file if line.startswith(b"btime"))


def process_metrics() -> list[str]:
    """The standard process_* metrics (as prometheus_client's process collector names them)."""
    try:
        with open("/proc/self/stat", "rb") as stat_file:
            # Fields after the command name, which is in parentheses and may contain spaces.
            fields = stat_file.read().rsplit(b")", 1)[1].split()
        boot_time = _boot_time()
        open_fds = len(os.listdir("/proc/self/fd"))
    except (OSError, StopIteration):  # not Linux: nothing to report
        return []
    utime, stime, starttime = int(fields[11]), int(fields[12]), int(fields[19])
    vsize, rss_pages = int(fields[20]), int(fields[21])
    # Imported on the first scrape: nothing before that needs it, and every start would pay.
    import resource  # noqa: PLC0415

    max_fds = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    values = [
        ("cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.",
         (utime + stime) / _CLOCK_TICKS),
        ("virtual_memory_bytes", "gauge", "Virtual memory size in bytes.", vsize),
        ("resident_memory_bytes", "gauge", "Resident memory size in bytes.",
         rss_pages * _PAGE_SIZE),
        ("start_time_seconds", "gauge", "Start time of the process since unix epoch in seconds.",
         boot_time + starttime / _CLOCK_TICKS),
        ("open_fds", "gauge", "Number of open file descriptors.", open_fds),
        ("max_fds", "gauge", "Maximum number of open file descriptors.", max_fds),
    ]  # fmt: skip
    lines = []
    for name, kind, text, value in values:
        lines += [f"# HELP process_{name} {text}", f"# TYPE process_{name} {kind}"]
        lines.append(f"process_{name} {float(value)!r}")
    return lines
