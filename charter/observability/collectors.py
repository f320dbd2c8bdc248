"""Prometheus collectors contributed by other domains, served at ``/metrics``.

A domain's plugin registers ``factory`` on the ``register_metric_collectors`` hook. The factory is
called once per runtime,
on the first scrape, as ``factory(runtime)`` and returns a ``prometheus_client`` collector: an
object whose ``collect()`` yields metric families. ``collect()`` runs on every scrape in a worker
thread, so it may read the database, but it should cache what is expensive. A collector that
raises is logged and left out of that scrape; the rest of ``/metrics`` is still served.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import structlog
from prometheus_client.metrics_core import Metric

if TYPE_CHECKING:
    from charter.runtime import Runtime


log = structlog.get_logger("charter.observability")
_lock = threading.Lock()


class _Guarded:
    """Keeps one failing collector from failing the whole scrape."""

    def __init__(self, name: str, inner: Any) -> None:
        self.name = name
        self.inner = inner

    def describe(self) -> list[Metric]:
        return []  # no registration-time collect(): metrics are computed on scrape only

    def collect(self) -> Iterator[Metric]:
        try:
            families = list(self.inner.collect())
        except Exception:
            log.exception("collector_failed", collector=self.name)
            return iter(())
        return iter(families)


def install(rt: Runtime) -> None:
    """Register every collector on the ``register_metric_collectors`` hook on ``rt``'s Prometheus
    registry, once."""
    from charter.plugins import collect

    telemetry = rt.telemetry
    with _lock:
        if telemetry.extra.get("collectors_installed"):
            return
        for name, factory in collect(rt.plugins, "register_metric_collectors").items():
            telemetry.registry.register(_Guarded(name, factory(rt)))
        telemetry.extra["collectors_installed"] = True
