"""Request metrics in-process: which bucket a duration lands in, counts, and bounded series."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from argo_python.metrics import BUCKETS, RequestMetrics


def _buckets(metrics: RequestMetrics, method: str = "GET") -> dict[str, float]:
    """The cumulative bucket counts of the one (method, /hello, 200) series, by `le`."""
    return {
        sample.labels["le"]: sample.value
        for family in text_string_to_metric_families(metrics.render().decode())
        for sample in family.samples
        if sample.name == "http_request_duration_seconds_bucket"
        and sample.labels["method"] == method
    }


@pytest.mark.parametrize(
    ("seconds", "first_bucket"),
    [
        pytest.param(0.0, BUCKETS[0], id="zero"),
        pytest.param(BUCKETS[0] / 10, BUCKETS[0], id="well-below-the-first-bound"),
        pytest.param(BUCKETS[0], BUCKETS[0], id="on-the-first-bound"),
        pytest.param(BUCKETS[0] * 1.0001, BUCKETS[1], id="just-above-the-first-bound"),
        pytest.param(BUCKETS[5], BUCKETS[5], id="on-a-middle-bound"),
        pytest.param(BUCKETS[5] * 1.0001, BUCKETS[6], id="just-above-a-middle-bound"),
        pytest.param(BUCKETS[-1], BUCKETS[-1], id="on-the-last-bound"),
    ],
)
def test_a_duration_counts_in_the_first_bucket_whose_bound_it_does_not_exceed(
    seconds: float, first_bucket: float
) -> None:
    metrics = RequestMetrics()
    metrics.observe("GET", "/hello", 200, seconds)
    cumulative = _buckets(metrics)
    assert next(le for le, hits in cumulative.items() if hits) == repr(first_bucket)
    assert cumulative["+Inf"] == 1


def test_a_duration_above_every_bound_counts_only_in_inf() -> None:
    metrics = RequestMetrics()
    metrics.observe("GET", "/hello", 200, BUCKETS[-1] * 2)
    cumulative = _buckets(metrics)
    assert cumulative["+Inf"] == 1
    assert all(hits == 0 for le, hits in cumulative.items() if le != "+Inf")


def test_count_and_sum_add_up_every_observation() -> None:
    metrics = RequestMetrics()
    durations = [BUCKETS[0] / 2, BUCKETS[3], BUCKETS[-1] * 3]
    for seconds in durations:
        metrics.observe("GET", "/hello", 200, seconds)
    families = {f.name: f for f in text_string_to_metric_families(metrics.render().decode())}
    values = {s.name: s.value for s in families["http_request_duration_seconds"].samples}
    assert values["http_request_duration_seconds_count"] == len(durations)
    assert values["http_request_duration_seconds_sum"] == pytest.approx(sum(durations))
    total = next(s.value for s in families["http_requests"].samples)
    assert total == len(durations)


def test_invented_methods_share_the_other_series_and_add_no_entries() -> None:
    metrics = RequestMetrics()
    metrics.observe("GET", "/hello", 200, 0.0)
    for index in range(1000):
        metrics.observe(f"X{index}", "/hello", 405, 0.0)
    metrics.observe("other", "/hello", 405, 0.0)  # a method literally called "other"
    assert _buckets(metrics, "other")["+Inf"] == 1001
    # The table behind the series is what a flood of invented methods would grow: it holds
    # one entry for GET and one for "other", however many methods were seen.
    assert len(metrics._series) == 2
