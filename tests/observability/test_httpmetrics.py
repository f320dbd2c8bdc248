"""charter.observability.httpmetrics gives the exposition prometheus_client's own Counter and
Histogram gave for the same requests (it replaced them on the hot path)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

from charter.observability.httpmetrics import BUCKETS, RequestMetrics

ROUTES = ["/v1/pages/{slug:path}", "/v1/ask", "/healthz"]
request = st.tuples(
    st.sampled_from(["GET", "HEAD", "POST"]),
    st.sampled_from(ROUTES),
    st.sampled_from([200, 304, 404, 500]),
    # Bucket bounds themselves, and values either side of them, besides any latency.
    st.one_of(
        st.sampled_from(BUCKETS),
        st.floats(min_value=0, max_value=10, allow_nan=False),
        st.sampled_from([b * (1 + 1e-12) for b in BUCKETS]),
    ),
)


def _exposition(registry: CollectorRegistry) -> list[str]:
    """The text exposition without prometheus_client's ``_created`` timestamps."""
    text = generate_latest(registry).decode()
    return sorted(line for line in text.splitlines() if "_created" not in line)


@settings(max_examples=60, deadline=None)
@given(st.lists(request, max_size=60))
def test_same_exposition_as_prometheus_client(requests: list[tuple[str, str, int, float]]) -> None:
    ours, theirs = CollectorRegistry(), CollectorRegistry()
    metrics = RequestMetrics()
    ours.register(metrics)
    counter = Counter("charter_http_requests", "HTTP requests", ["method", "route", "status"], registry=theirs)
    histogram = Histogram(
        "charter_http_request_duration_seconds", "HTTP request latency", ["route"], registry=theirs, buckets=BUCKETS
    )
    for method, route, status, seconds in requests:
        metrics.observe(method, route, status, seconds)
        counter.labels(method, route, str(status)).inc()
        histogram.labels(route).observe(seconds)
    assert _exposition(ours) == _exposition(theirs)
