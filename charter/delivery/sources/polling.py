"""Polling a CMS that sends no webhooks (Wagtail): its changes become ``source.changed`` events.

Wagtail's API v2 has no webhooks, so with ``poll_interval`` set in ``[charter.wagtail]`` Charter
lists the mapped page models every that many seconds (every locale, the ``id``, ``locale`` and
live revision of each page) and compares the listing with the previous one:

* a page that is new, or whose live revision (``published_revision``, else ``last_published_at``)
  changed, is a ``publish`` of the entry it belongs to (a translation is tied to its default-locale
  page through ``translation_of``), stamped with the page's ``last_published_at``;
* a page that left the listing (unpublished, deleted, moved out of the model) is an ``unpublish``;
  a default-locale page names its entry, a translation cannot any more (``id`` None: everything
  read from Wagtail is purged and the retrieval indexes are reconciled).

Each change is recorded like a webhook's (:func:`charter.delivery.source_events.record_source_changes`):
the cache purges, the outbox and outgoing webhooks hear of it, and the retrieval indexes re-index
the entry with its freshness lag measured from ``last_published_at``. The first listing after a
start is the baseline and records nothing (what changed while Charter was down is caught by the
retrieval reconcile at start-up; the response cache starts empty).

Every instance that runs the worker polls; with several, each records the change (purges and
webhooks are then repeated, which they tolerate).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import structlog

from charter.delivery.sources.vendor import SourceChange, parse_time

if TYPE_CHECKING:
    from charter.delivery.sources.wagtail import WagtailSource
    from charter.runtime import Runtime

log = structlog.get_logger("charter.delivery.sources")


@dataclass(frozen=True)
class Seen:
    """One live page as the last listing showed it."""

    type: str
    default_locale: bool
    stamp: str  #: its live revision id, or its last_published_at


@dataclass
class Poller:
    """The previous listing of one source and when it was taken."""

    interval: float
    pages: dict[str, Seen] | None = None
    last: float = field(default=-1e9)

    def due(self) -> bool:
        return time.monotonic() - self.last >= self.interval

    def poll(self, source: WagtailSource) -> list[SourceChange]:
        """List the source's live pages and return what changed since the previous listing."""
        self.last = time.monotonic()
        listing: dict[str, tuple[Seen, dict[str, Any]]] = {}
        for name in source.types:
            tm, ct = source._type(name)
            default = ct.locales.default
            offset = 0
            while True:
                page = source._request(
                    "pages/",
                    {
                        "type": tm.model,
                        "fields": "last_published_at,published_revision",
                        "order": "id",
                        "offset": offset,
                        "limit": 20,
                    },
                )
                items = (page or {}).get("items") or []
                for item in items:
                    stamp = item.get("published_revision") or item.get("last_published_at") or ""
                    seen = Seen(name, source._locale(ct, item) == default, str(stamp))
                    listing[str(item["id"])] = (seen, item)
                offset += len(items)
                if not items or offset >= int(((page or {}).get("meta") or {}).get("total_count", 0)):
                    break
        previous, self.pages = self.pages, {k: v for k, (v, _item) in listing.items()}
        if previous is None:
            return []  # the baseline
        changes: list[SourceChange] = []
        for page_id, (seen, item) in listing.items():
            before = previous.get(page_id)
            if before is not None and before.stamp == seen.stamp:
                continue
            entry_id = page_id if seen.default_locale else str(source._canonical_id(int(page_id)))
            changes.append(
                SourceChange(seen.type, page_id, "publish", entry_id, parse_time(item.get("last_published_at")))
            )
        for page_id, gone in previous.items():
            if page_id not in listing:
                changes.append(SourceChange(gone.type, page_id, "unpublish", page_id if gone.default_locale else None))
        return changes


def poll_source(rt: Runtime) -> float | None:
    """Worker duty: poll the content source when it asks to be polled and the interval is up;
    record what changed. Returns the wait the duty can afford."""
    source: Any = rt.source
    poller: Poller | None = getattr(source, "poller", None)
    if poller is None:
        return None
    if not poller.due():
        return max(0.0, poller.interval - (time.monotonic() - poller.last))
    from charter.delivery.source_events import record_source_changes

    changes = poller.poll(source)
    if changes:
        keys = record_source_changes(rt, rt.settings.source, changes)
        log.info("source_polled", source=rt.settings.source, changes=len(changes), keys=keys)
    return poller.interval


async def startup(app: Any, rt: Runtime) -> Any:
    """App start-up hook: without the in-process worker (``worker = false``) the app polls itself."""
    import asyncio

    if rt.settings.worker or getattr(rt.source, "poller", None) is None:
        return None

    async def loop() -> None:
        while True:
            try:
                wait = await asyncio.to_thread(poll_source, rt)
            except Exception:  # a failed poll (Wagtail down) is retried on the next tick
                log.exception("source_poll_failed", source=rt.settings.source)
                wait = None
            await asyncio.sleep(wait if wait else 1.0)

    task = asyncio.get_running_loop().create_task(loop())

    async def stop() -> None:
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass

    return stop
