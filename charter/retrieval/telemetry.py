"""Retrieval's spans and metrics: each index searched, the fusion, the routing and the answer.

``retrieval.search {index}`` spans (``charter.retrieval.index``, ``.locale``, ``.method``
``bm25|dense|dense_in_database``, ``.hits``) sit under ``retrieval.search``; the per-index time is
also the ``charter_retrieval_search_duration_seconds`` histogram by ``index`` and ``method``,
recorded whether or not spans are. Spans are built only when a processor records them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from prometheus_client import Histogram

from charter.observability.spans import span

if TYPE_CHECKING:
    from charter.observability.telemetry import Telemetry

BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5)
_lock = threading.Lock()


def search_latency(telemetry: Telemetry) -> Histogram:
    """``charter_retrieval_search_duration_seconds`` on ``telemetry``'s registry (registered once)."""
    with _lock:
        found = telemetry.extra.get("retrieval_latency")
        if isinstance(found, Histogram):
            return found
        histogram = Histogram(
            "charter_retrieval_search_duration_seconds",
            "Time to search one index (one locale) for a query",
            ["index", "method"],
            registry=telemetry.registry,
            buckets=BUCKETS,
        )
        telemetry.extra["retrieval_latency"] = histogram
        return histogram


@contextmanager
def index_search(telemetry: Telemetry, index: str, locale: str, method: str) -> Iterator[dict[str, Any]]:
    """Time one index's search; the caller puts ``hits`` (a count) into the yielded dict."""
    found: dict[str, Any] = {}
    started = time.perf_counter()
    with span(
        telemetry,
        f"retrieval.search {index}",
        {"charter.retrieval.index": index, "charter.retrieval.locale": locale, "charter.retrieval.method": method},
    ) as current:
        yield found
        if current.is_recording():
            current.set_attribute("charter.retrieval.hits", int(found.get("hits", 0)))
    search_latency(telemetry).labels(index, method).observe(time.perf_counter() - started)
