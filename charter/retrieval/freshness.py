"""Freshness: how long a published change took to become searchable, and whether that met the SLO.

A :class:`Change` is one entry's change in one index (indexed or removed), stamped with when the
content changed and when the index could answer with it. Recording a change writes a
``retrieval_freshness`` row and an ``index.updated`` event, plus ``index.freshness_breached``
when the lag is over the index's ``freshness_slo``; :func:`freshness_stats` summarises the rows
per index (what ``charter index status`` and ``GET /v1/retrieval/status`` show).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from charter import events as ev
from charter.retrieval.tables import retrieval_freshness

if TYPE_CHECKING:
    from charter.retrieval.contract import Contract
    from charter.retrieval.index import Chunk
    from charter.runtime import Runtime


@dataclass
class Change:
    """One entry's change in one index: what was indexed or removed, and how long it took."""

    index: str
    entry_id: str
    revision: int | None
    op: str  # index | remove
    event_type: str
    event_id: int | None
    changed_at: datetime
    searchable_at: datetime
    locales: list[str]
    chunks: int

    @property
    def lag_ms(self) -> float:
        return max(0.0, (self.searchable_at - self.changed_at).total_seconds() * 1000.0)

    def payload(self, instance: str, slo_s: float) -> dict[str, Any]:
        """The ``index.updated`` event payload (documented in :mod:`charter.events`)."""
        return {
            "index": self.index,
            "entry_id": self.entry_id,
            "revision": self.revision,
            "op": self.op,
            "event_type": self.event_type,
            "event_id": self.event_id,
            "changed_at": self.changed_at.isoformat(),
            "searchable_at": self.searchable_at.isoformat(),
            "lag_ms": round(self.lag_ms, 3),
            "freshness_slo_ms": slo_s * 1000.0,
            "locales": self.locales,
            "chunks": self.chunks,
            "instance": instance,
        }


def changes_for(
    entry_id: str,
    revision: int | None,
    wanted: dict[tuple[str, str], list[Chunk]],
    removed: set[tuple[str, str]],
    event: ev.Event | None,
    changed_at: datetime | None,
) -> list[Change]:
    """One change per (index, locale) an entry was just written to (``wanted``) or removed from,
    searchable now; the lag runs from ``event`` (or ``changed_at``, or now)."""
    now = datetime.now(UTC)
    written = [(key, revision, "index", len(chunks)) for key, chunks in wanted.items()]
    written += [(key, None, "remove", 0) for key in removed]
    source, event_id = (event.type, event.id) if event else ("reconcile", None)
    changed = (changed_time(event) if event else changed_at) or now
    return [
        Change(index, entry_id, rev, op, source, event_id, changed, now, [locale], count)
        for (index, locale), rev, op, count in written
    ]


def changed_time(event: ev.Event) -> datetime:
    """When the content an event reports changed: the payload's ``changed_at`` where the event
    carries one (``source.changed``: the other CMS's own timestamp of the edit), else when the
    event occurred."""
    stamped = event.payload.get("changed_at")
    if isinstance(stamped, str):
        try:
            when = datetime.fromisoformat(stamped)
        except ValueError:
            return event.occurred_at
        return when if when.tzinfo else when.replace(tzinfo=UTC)
    return event.occurred_at


def merge_changes(changes: list[Change]) -> list[Change]:
    """One change per (index, entry, op), with the locales it covered."""
    merged: dict[tuple[str, str, str], Change] = {}
    for c in changes:
        key = (c.index, c.entry_id, c.op)
        if key in merged:
            m = merged[key]
            m.locales = sorted({*m.locales, *c.locales})
            m.chunks += c.chunks
            m.searchable_at = max(m.searchable_at, c.searchable_at)
        else:
            merged[key] = Change(**{**c.__dict__, "locales": list(c.locales)})
    return list(merged.values())


def record_changes(conn: sa.Connection, contract: Contract, changes: list[Change], instance: str) -> list[ev.Event]:
    """Record each change in the caller's transaction: its ``retrieval_freshness`` row, its
    ``index.updated`` event and, over the index's SLO, ``index.freshness_breached``. Returns the
    recorded events, in order, for the caller to publish once the transaction commits."""
    recorded: list[ev.Event] = []
    for change in changes:
        slo = contract.indexes[change.index].freshness_slo
        conn.execute(
            sa.insert(retrieval_freshness).values(
                index_name=change.index,
                entry_id=change.entry_id,
                revision=change.revision,
                op=change.op,
                event_type=change.event_type,
                event_id=change.event_id,
                changed_at=change.changed_at,
                searchable_at=change.searchable_at,
                lag_ms=change.lag_ms,
            )
        )
        payload = change.payload(instance, slo)
        recorded.append(ev.record(conn, ev.Event(ev.INDEX_UPDATED, payload, domain="retrieval")))
        if change.lag_ms > slo * 1000.0:
            recorded.append(ev.record(conn, ev.Event(ev.INDEX_FRESHNESS_BREACHED, payload, domain="retrieval")))
    return recorded


def freshness_stats(rt: Runtime, contract: Contract | None = None) -> dict[str, dict[str, Any]]:
    """Publish-to-searchable lag per index over the last 50,000 changes: count, p50, p95, max (ms)
    and, given the contract, how many changes breached the index's freshness SLO."""
    t = retrieval_freshness
    by_index: dict[str, list[float]] = {}
    with rt.read() as conn:
        for r in conn.execute(sa.select(t.c.index_name, t.c.lag_ms).order_by(t.c.id.desc()).limit(50_000)):
            by_index.setdefault(r.index_name, []).append(float(r.lag_ms))
    out: dict[str, dict[str, Any]] = {}
    for name, lags in by_index.items():
        ordered = sorted(lags)
        stats: dict[str, Any] = {
            "count": len(lags),
            "p50_ms": _percentile(ordered, 50),
            "p95_ms": _percentile(ordered, 95),
            "max_ms": ordered[-1],
        }
        if contract is not None and name in contract.indexes:
            slo_ms = contract.indexes[name].freshness_slo * 1000.0
            stats["slo_breaches"] = sum(1 for lag in lags if lag > slo_ms)
        out[name] = stats
    return out


def _percentile(ordered: list[float], q: float) -> float:
    pos = (len(ordered) - 1) * q / 100.0
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)
