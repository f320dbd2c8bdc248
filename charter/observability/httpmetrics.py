"""``charter_http_requests`` and ``charter_http_request_duration_seconds``, counted in plain Python.

Every request ends in :meth:`RequestMetrics.observe`, a cached delivery hit included, so this is on
the hottest path Charter has. prometheus_client's labelled ``Counter.inc`` and ``Histogram.observe``
take a lock and walk the buckets in Python for each call (1.3–1.4 µs a request here, timed alone,
against 0.4 µs for this class: about a tenth of a cached hit's own 7.7 µs). This keeps a dictionary
of counts and, per route, a list of bucket counts found by :func:`bisect.bisect_left`, and turns
them into the same two metric families when the registry is read (a scrape, or the OTLP metric
push). The exposition is what the two prometheus_client metrics gave:
``charter_http_requests_total{method,route,status}`` and the
histogram's ``_bucket{route,le}``, ``_count`` and ``_sum``.

Counts are bumped on the event loop thread, like ``Telemetry.delivery_hits``; a read from another
thread (the scrape) sees a consistent-enough snapshot (each value is read once, as an int).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.utils import floatToGoString

#: Upper bounds of the latency buckets, in seconds (``+Inf`` is implied).
BUCKETS: tuple[float, ...] = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class RequestMetrics:
    """A prometheus_client collector (``registry.register(metrics)``) of HTTP requests by method,
    route template and status, and their latency by route."""

    def __init__(self, buckets: tuple[float, ...] = BUCKETS) -> None:
        self.buckets = buckets
        self._bounds = [floatToGoString(b) for b in buckets] + ["+Inf"]
        #: (method, route, status) -> requests.
        self.counts: dict[tuple[str, str, int], int] = {}
        #: route -> per-bucket counts (not cumulative; the last is +Inf), then the sum of seconds.
        self.latency: dict[str, list[float]] = {}

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one request and its latency."""
        key = (method, route, status)
        counts = self.counts
        counts[key] = counts.get(key, 0) + 1
        row = self.latency.get(route)
        if row is None:
            row = self.latency[route] = [0.0] * (len(self.buckets) + 2)
        row[bisect_left(self.buckets, seconds)] += 1
        row[-1] += seconds

    def describe(self) -> list[Metric]:
        return []

    def collect(self) -> Iterator[Metric]:
        requests = CounterMetricFamily("charter_http_requests", "HTTP requests", labels=["method", "route", "status"])
        for (method, route, status), n in list(self.counts.items()):
            requests.add_metric([method, route, str(status)], n)
        latency = HistogramMetricFamily(
            "charter_http_request_duration_seconds", "HTTP request latency", labels=["route"]
        )
        for route, live in list(self.latency.items()):
            row = list(live)  # one read of a row the event loop may be bumping
            total = 0.0
            buckets: list[tuple[str, float]] = []
            for bound, share in zip(self._bounds, row[:-1], strict=True):
                total += share
                buckets.append((bound, total))
            latency.add_metric([route], buckets, row[-1])
        yield requests
        yield latency
