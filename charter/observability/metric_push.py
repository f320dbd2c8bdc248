"""Push the Prometheus registry to an OTLP collector: one set of metrics, two ways out.

Every Charter metric is defined once, in the instance's ``prometheus_client`` registry, and served
at ``/metrics`` for scraping. With ``metrics_exporter = "otlp"`` a background thread also reads
that registry every ``metric_export_interval_ms`` and sends it as OTLP (counters as cumulative
monotonic sums, gauges as gauges, histograms as cumulative explicit-bucket histograms), so no
request ever records a metric twice. Names keep their Prometheus spelling without the ``_total``
suffix, which a Prometheus backend adds back to counters when it ingests OTLP.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterable
from typing import Any

import structlog
from opentelemetry.sdk.metrics.export import (
    AggregationTemporality,
    Gauge,
    Histogram,
    HistogramDataPoint,
    Metric,
    MetricExportResult,
    MetricsData,
    NumberDataPoint,
    ResourceMetrics,
    ScopeMetrics,
    Sum,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from prometheus_client import CollectorRegistry
from prometheus_client.metrics_core import Metric as Family

from charter import __version__

log = structlog.get_logger("charter.observability")
_SCOPE = InstrumentationScope("charter", __version__)


def _nanos(seconds: float | None, default: int) -> int:
    return int(seconds * 1e9) if seconds else default


def _labels(sample_labels: dict[str, str], drop: str = "") -> tuple[tuple[str, str], ...]:
    return tuple(sorted((k, v) for k, v in sample_labels.items() if k != drop))


def convert(families: Iterable[Family], now: int, started: int) -> list[Metric]:
    """OTLP metrics for Prometheus metric families (``counter``, ``gauge``, ``histogram``; others skipped)."""
    out: list[Metric] = []
    for family in families:
        if family.type == "counter":
            created = {_labels(s.labels): s.value for s in family.samples if s.name.endswith("_created")}
            points = [
                NumberDataPoint(dict(s.labels), _nanos(created.get(_labels(s.labels)), started), now, s.value)
                for s in family.samples
                if s.name.endswith("_total")
            ]
            data: Any = Sum(points, AggregationTemporality.CUMULATIVE, is_monotonic=True)
        elif family.type == "gauge":
            data = Gauge([NumberDataPoint(dict(s.labels), started, now, s.value) for s in family.samples])
        elif family.type == "histogram":
            data = Histogram(_histogram_points(family, now, started), AggregationTemporality.CUMULATIVE)
        else:
            continue
        if data.data_points:
            out.append(Metric(family.name, family.documentation, family.unit or None, data))
    return out


def _histogram_points(family: Family, now: int, started: int) -> list[HistogramDataPoint]:
    series: dict[tuple[tuple[str, str], ...], dict[str, Any]] = {}
    for s in family.samples:
        key = _labels(s.labels, drop="le")
        entry = series.setdefault(key, {"buckets": [], "sum": 0.0, "count": 0, "created": None})
        if s.name.endswith("_bucket"):
            entry["buckets"].append((float(s.labels["le"]), s.value))
        elif s.name.endswith("_sum"):
            entry["sum"] = s.value
        elif s.name.endswith("_count"):
            entry["count"] = int(s.value)
        elif s.name.endswith("_created"):
            entry["created"] = s.value
    points = []
    for key, entry in series.items():
        cumulative = sorted(entry["buckets"])
        bounds = [le for le, _ in cumulative if not math.isinf(le)]
        counts, previous = [], 0.0
        for _, value in cumulative:
            counts.append(int(value - previous))
            previous = value
        points.append(
            HistogramDataPoint(
                attributes=dict(key),
                start_time_unix_nano=_nanos(entry["created"], started),
                time_unix_nano=now,
                count=entry["count"],
                sum=entry["sum"],
                bucket_counts=counts,
                explicit_bounds=bounds,
                min=None,  # type: ignore[arg-type]  # Prometheus keeps no min/max: left unset in OTLP
                max=None,  # type: ignore[arg-type]
            )
        )
    return points


class MetricPusher:
    """A daemon thread exporting ``registry`` every ``interval`` seconds; stopped by :meth:`shutdown`.

    A failed export (collector down) is logged once per failure streak and retried at the next
    interval; nothing is queued, since the next export carries the cumulative values anyway."""

    def __init__(self, registry: CollectorRegistry, exporter: Any, resource: Resource, interval: float) -> None:
        self.registry = registry
        self.exporter = exporter
        self.resource = resource
        self.interval = interval
        self.started = time.time_ns()
        self.exports = 0
        self._failing = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="charter-metric-push", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.push()

    def push(self) -> bool:
        """Export once now; True when the collector accepted it."""
        try:
            metrics = convert(self.registry.collect(), time.time_ns(), self.started)
            data = MetricsData([ResourceMetrics(self.resource, [ScopeMetrics(_SCOPE, metrics, "")], "")])
            ok = self.exporter.export(data) is MetricExportResult.SUCCESS
        except Exception:  # a collector (or a DB-reading collector) failing must not kill the thread
            log.exception("metric_push_failed")
            ok = False
        if not ok and not self._failing:
            log.warning("metric_push_refused", endpoint=str(getattr(self.exporter, "_endpoint", "")))
        self._failing = not ok
        self.exports += ok
        return ok

    def shutdown(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)  # an export in flight is bounded by its own timeout
        self.exporter.shutdown()
