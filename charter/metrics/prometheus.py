"""The metrics report as Prometheus gauges (registered through charter.observability.collectors).

One gauge family per metric (``MetricDef.prometheus``, base units) with a ``window`` label, plus
``charter_metric_target{metric, op}`` and ``charter_metric_ok{metric, window}`` (1 meets target,
0 breach). A metric without data in a window has no sample there, rather than a made-up 0.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from charter.runtime import Runtime

DEFAULT_WINDOWS = ("30d", "quarter")
DEFAULT_TTL = 60.0


class MetricsCollector:
    """Computes the report at most once per ``ttl`` seconds and serves it on every scrape."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        config = rt.settings.metrics
        self.windows = tuple(config.get("prometheus_windows") or DEFAULT_WINDOWS)
        self.ttl = float(config.get("prometheus_ttl_seconds", DEFAULT_TTL))
        self._lock = threading.Lock()
        self._cached: tuple[float, list[Metric]] | None = None

    def describe(self) -> list[Metric]:
        return []

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            now = time.monotonic()
            if self._cached is None or now - self._cached[0] >= self.ttl:
                self._cached = (now, self._families())
            return iter(self._cached[1])

    def _families(self) -> list[Metric]:
        from charter.metrics.registry import METRICS
        from charter.metrics.report import build_report
        from charter.metrics.sources import git_for

        with self.rt.read() as conn:
            report = build_report(
                conn, windows=self.windows, settings_metrics=self.rt.settings.metrics, git=git_for(self.rt.settings)
            )
        families: dict[str, GaugeMetricFamily] = {}
        target = GaugeMetricFamily("charter_metric_target", "Target threshold per metric", labels=["metric", "op"])
        ok = GaugeMetricFamily(
            "charter_metric_ok", "1 when the metric meets its target, 0 on breach", labels=["metric", "window"]
        )
        targets_seen: set[str] = set()
        for r in report.results:
            definition = METRICS[r.name]
            family = families.setdefault(
                r.name,
                GaugeMetricFamily(
                    definition.prometheus, f"{definition.title}: {definition.description}", labels=["window"]
                ),
            )
            if r.value is not None:
                family.add_metric([r.window.name], r.value)
            if r.target is not None and r.name not in targets_seen:
                target.add_metric([r.name, r.target.op], r.target.threshold)
                targets_seen.add(r.name)
            if r.status in ("ok", "breach"):
                ok.add_metric([r.name, r.window.name], 1.0 if r.status == "ok" else 0.0)
        return [*families.values(), target, ok]


def collector(rt: Runtime) -> Any:
    return MetricsCollector(rt)
