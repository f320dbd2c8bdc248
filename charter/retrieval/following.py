"""Which events change the indexes, and how a service catches up with the ones it did not commit.

An instance indexes the entry and release events it commits itself at once (its bus subscriber).
Everything else reaches it through the events table, which :meth:`EventFollower.sync` reads on
from a watermark:

* ``index.updated`` of another instance: that instance indexed a change, this one follows it
  (the service reads the shared rows on PostgreSQL, or re-derives them from the content).
* an entry or release event for which nobody recorded freshness within :data:`GRACE_S` (it was
  committed by a process without a loaded service): this instance indexes it and records the lag.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from charter import events as ev
from charter.retrieval.tables import retrieval_freshness

if TYPE_CHECKING:
    from charter.runtime import Runtime

ENTRY_EVENTS = (ev.ENTRY_PUBLISHED, ev.ENTRY_UNPUBLISHED, ev.ENTRY_ROLLED_BACK, ev.ENTRY_DELETED)
#: Events that name several entries in ``payload["entries"]`` (a release publishes or rolls back
#: atomically).
BATCH_EVENTS = tuple(
    name for name in (ev.RELEASE_PUBLISHED, getattr(ev, "RELEASE_ROLLED_BACK", None)) if isinstance(name, str)
)
#: A change in the other CMS behind the delivery API (docs/sources.md): the service asks the
#: content source which entries it names (:meth:`RetrievalService.event_entry_ids`).
INDEXING_EVENTS = ENTRY_EVENTS + BATCH_EVENTS + (ev.SOURCE_CHANGED,)
#: An entry event another process committed is indexed here only if nobody recorded it within this
#: many seconds (the committing instance normally does it at once).
GRACE_S = 0.5


def entry_ids(event: ev.Event) -> list[str]:
    """The entries an indexing event names (one, or a release's ``entries``)."""
    entries = event.payload.get("entries")
    if isinstance(entries, list):
        return [str(e) for e in entries]
    entry_id = event.payload.get("id")
    return [entry_id] if isinstance(entry_id, str) else []


class EventFollower:
    """One service's place in the events table.

    ``follow`` applies another instance's ``index.updated`` payload; ``apply`` indexes the
    entries of an event nobody indexed (recording its lag). The service adds to :attr:`seen` the
    id of every event it committed or handled itself, so that following never repeats it."""

    def __init__(
        self,
        rt: Runtime,
        instance: str,
        follow: Callable[[dict[str, Any]], None],
        apply: Callable[[ev.Event], object],
    ) -> None:
        self.rt = rt
        self.instance = instance
        self._follow = follow
        self._apply = apply
        self.seen: set[int] = set()
        self._watermark = 0
        self._deferred: dict[int, ev.Event] = {}

    def start(self, conn: sa.Connection) -> None:
        """Follow on from the newest event (a load reconciles everything before it)."""
        self._watermark = conn.execute(sa.select(sa.func.max(ev.events_table.c.id))).scalar() or 0

    def sync(self) -> int:
        """Catch up with changes made by other instances or processes (reads the events table).
        Returns how many events were applied."""
        with self.rt.read() as conn:
            events = ev.since(conn, self._watermark, [*INDEXING_EVENTS, ev.INDEX_UPDATED], limit=1000)
            for e in events:
                self._watermark = max(self._watermark, e.id or 0)
                if e.id not in self.seen and e.type != ev.INDEX_UPDATED:
                    self._deferred[e.id or 0] = e
            waiting = [e for e in self._deferred.values() if e.id is not None]
            done = (
                {
                    r.event_id
                    for r in conn.execute(
                        sa.select(retrieval_freshness.c.event_id).where(
                            retrieval_freshness.c.event_id.in_([e.id for e in waiting])
                        )
                    )
                }
                if waiting
                else set()
            )
        applied = 0
        for e in events:
            if e.type == ev.INDEX_UPDATED and e.id not in self.seen:
                self.seen.add(e.id or 0)
                if e.payload.get("instance") != self.instance:
                    self._follow(e.payload)
                    applied += 1
        now = datetime.now(UTC)
        for e in sorted(waiting, key=lambda e: e.id or 0):
            if e.id in done:
                self._deferred.pop(e.id or 0, None)
            elif (now - e.occurred_at).total_seconds() >= GRACE_S:
                # Nobody indexed it (it was committed by a process without a loaded service): we do.
                self._deferred.pop(e.id or 0, None)
                self.seen.add(e.id or 0)
                self._apply(e)
                applied += 1
        self.seen = {i for i in self.seen if i > self._watermark - 10_000}
        return applied
