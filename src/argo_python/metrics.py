"""Request metrics in Prometheus text format.

The hot path only bumps plain integers and floats (one dict lookup and a bisect per request);
prometheus_client renders them, together with its process metrics, when /metrics is scraped.
This keeps a per-request cost of well under a microsecond, where a labelled prometheus_client
Histogram takes a lock and several lookups per observation.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# Seconds. The API answers in microseconds to a few milliseconds; the upper buckets catch stalls.
BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class _Series:
    __slots__ = ("buckets", "count", "sum")

    def __init__(self) -> None:
        self.count = 0
        self.sum = 0.0
        self.buckets = [0] * (len(BUCKETS) + 1)  # the last slot: above the largest bound


class RequestMetrics:
    """Request count and latency histogram by method, route template and status."""

    def __init__(self) -> None:
        self._series: dict[tuple[str, str, int], _Series] = {}
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(self)
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        key = (method, route, status)
        series = self._series.get(key)
        if series is None:
            series = self._series[key] = _Series()
        series.count += 1
        series.sum += seconds
        series.buckets[bisect_left(BUCKETS, seconds)] += 1

    def collect(self) -> Iterator[Metric]:
        """prometheus_client's Collector protocol: snapshot the series as metric families."""
        labels = ["method", "route", "status"]
        requests = CounterMetricFamily(
            "http_requests", "HTTP requests served, by route template and status.", labels=labels
        )
        latency = HistogramMetricFamily(
            "http_request_duration_seconds",
            "Time from request received to response handed to the server.",
            labels=labels,
            unit="seconds",
        )
        for (method, route, status), series in sorted(self._series.items()):
            values = [method, route, str(status)]
            requests.add_metric(values, series.count)
            cumulative, buckets = 0, []
            for bound, hits in zip((*map(str, BUCKETS), "+Inf"), series.buckets, strict=True):
                cumulative += hits
                buckets.append((bound, cumulative))
            latency.add_metric(values, buckets, series.sum)
        yield requests
        yield latency

    def render(self) -> bytes:
        return generate_latest(self.registry)
