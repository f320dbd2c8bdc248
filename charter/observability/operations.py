"""Operators' gauges computed at scrape time: delivery cache hits and misses, webhook backlog,
retrieval freshness lag. Registered through :data:`charter.observability.collectors.COLLECTORS`.

The database-reading families (backlog, freshness) are recomputed at most every ``TTL`` seconds,
so a scrape every few seconds costs two small queries a quarter minute.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from charter.runtime import Runtime

TTL = 15.0


class OperationsCollector:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self._lock = threading.Lock()
        self._cached: tuple[float, list[Metric]] | None = None

    def describe(self) -> list[Metric]:
        return []

    def collect(self) -> Iterator[Metric]:
        telemetry = self.rt.telemetry
        cache = CounterMetricFamily(
            "charter_delivery_cache_requests",
            "Delivery requests answered from the response cache (hit) or rendered (miss)",
            labels=["result"],
        )
        cache.add_metric(["hit"], telemetry.delivery_hits)
        cache.add_metric(["miss"], telemetry.delivery_misses)
        with self._lock:
            now = time.monotonic()
            if self._cached is None or now - self._cached[0] >= TTL:
                self._cached = (now, self._from_database())
            stored = self._cached[1]
        return iter([cache, *stored])

    def _from_database(self) -> list[Metric]:
        from charter.retrieval.freshness import freshness_stats
        from charter.webhooks.tables import webhook_deliveries

        backlog = GaugeMetricFamily(
            "charter_webhook_backlog", "Webhook deliveries not yet done, by status", labels=["status"]
        )
        oldest = GaugeMetricFamily(
            "charter_webhook_oldest_pending_seconds", "Age of the oldest pending webhook delivery"
        )
        d = webhook_deliveries.c
        with self.rt.read() as conn:
            counts: dict[str, int] = dict(
                conn.execute(
                    sa.select(d.status, sa.func.count())
                    .where(d.status.in_(("pending", "delivering")))
                    .group_by(d.status)
                ).all()
            )
            first = conn.execute(sa.select(sa.func.min(d.created_at)).where(d.status == "pending")).scalar()
        for status in ("pending", "delivering"):
            backlog.add_metric([status], float(counts.get(status, 0)))
        if first is not None:
            from charter.events import _aware, utcnow

            oldest.add_metric([], max(0.0, (utcnow() - _aware(first)).total_seconds()))
        else:
            oldest.add_metric([], 0.0)
        lag = GaugeMetricFamily(
            "charter_retrieval_freshness_lag_seconds",
            "Publish-to-searchable lag of the last changes per index (quantile 0.5, 0.95, 1 = max)",
            labels=["index", "quantile"],
        )
        stats: dict[str, Any] = freshness_stats(self.rt)
        for index, s in stats.items():
            for quantile, key in (("0.5", "p50_ms"), ("0.95", "p95_ms"), ("1", "max_ms")):
                lag.add_metric([index, quantile], float(s[key]) / 1000.0)
        return [backlog, oldest, lag]


def collector(rt: Runtime) -> Any:
    return OperationsCollector(rt)
