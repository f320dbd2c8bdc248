"""The inputs of one metrics computation: the relevant events, read once, and the git history.

:class:`MetricContext` loads every event type the requested metrics read (one query per type,
oldest first) up to the latest window end, so computing ten metrics over three windows reads the
database a handful of times, and every metric in a report sees the same snapshot.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from charter import events as ev
from charter.db.tables import events as events_table
from charter.events import Event
from charter.metrics.git import GitHistory
from charter.metrics.windows import Window

#: Event types whose metrics only look inside the window: read from the earliest window start.
WINDOWED = frozenset({ev.EVAL_COMPLETED, ev.TOKENS_DIVERGENCE, ev.INDEX_UPDATED})


@dataclass
class MetricContext:
    events: dict[str, list[Event]]
    git: GitHistory | None = None
    #: DORA scope: production by default; ``services`` empty means every service.
    environment: str = "production"
    services: tuple[str, ...] = ()
    now: datetime | None = None
    targets: dict[str, Any] = field(default_factory=dict)
    _cache: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def load(
        cls, conn: sa.Connection, types: Iterable[str], since: datetime | None = None, **options: Any
    ) -> MetricContext:
        """Read the events of ``types``. Deployments, incidents and schema releases are read in
        full (a deployment's lead time and failure depend on earlier ones); the high-volume types
        in :data:`WINDOWED` only from ``since`` (the earliest window start) on."""
        wanted = sorted(set(types))
        by_type: dict[str, list[Event]] = {t: [] for t in wanted}
        full = [t for t in wanted if t not in WINDOWED or since is None]
        windowed = [t for t in wanted if t in WINDOWED and since is not None]
        queries = []
        if full:
            queries.append(sa.select(events_table).where(events_table.c.type.in_(full)))
        if windowed:
            queries.append(
                sa.select(events_table).where(events_table.c.type.in_(windowed), events_table.c.occurred_at >= since)
            )
        for q in queries:
            for r in conn.execute(q.order_by(events_table.c.occurred_at, events_table.c.id)):
                by_type[r.type].append(Event(r.type, r.payload or {}, r.domain or "", r.occurred_at, r.id))
        return cls(events=by_type, **options)

    def of(self, event_type: str, window: Window | None = None) -> list[Event]:
        found = self.events.get(event_type, [])
        if window is None:
            return found
        return [e for e in found if window.start <= e.occurred_at < window.end]

    def memo(self, key: str, factory: Any) -> Any:
        if key not in self._cache:
            self._cache[key] = factory()
        return self._cache[key]
