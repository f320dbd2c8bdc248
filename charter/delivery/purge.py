"""Cache purge on publish, unpublish, delete and rollback, by surrogate key."""

from __future__ import annotations

import structlog

from charter import events as ev
from charter.runtime import Runtime

log = structlog.get_logger("charter.cache")

PURGING_EVENTS = (
    ev.ENTRY_PUBLISHED,
    ev.ENTRY_UNPUBLISHED,
    ev.ENTRY_DELETED,
    ev.ENTRY_ROLLED_BACK,
    ev.RELEASE_PUBLISHED,
    ev.RELEASE_ROLLED_BACK,
    ev.ASSET_UPDATED,
    ev.ASSET_DELETED,
    ev.SOURCE_CHANGED,
)


def surrogate_keys_for(event: ev.Event) -> list[str]:
    """The surrogate keys an event invalidates: the entry (and so every page that references it)
    and its type's lists. A release names all its entries; an asset's change names the asset; a
    change in another CMS (``source.changed``) names its keys."""
    payload = event.payload
    if event.type.startswith("asset."):
        return [f"asset:{payload['id']}"]
    if event.type == ev.SOURCE_CHANGED:
        return list(payload.get("keys") or [])
    ids = payload.get("entries") or ([payload["id"]] if "id" in payload else [])
    types = payload.get("types") or ([payload["type"]] if "type" in payload else [])
    return [f"entry:{i}" for i in ids] + [f"type:{t}" for t in types]


def install(rt: Runtime) -> None:
    def purge(event: ev.Event) -> None:
        keys = surrogate_keys_for(event)
        removed = rt.cache.purge(keys)
        # A purge that found nothing cached is not news: a bulk import or publish of thousands of
        # entries into a cold cache would otherwise log a line per entry.
        (log.info if removed else log.debug)("cache_purge", event_type=event.type, keys=keys, removed=removed)

    rt.bus.subscribe(purge, PURGING_EVENTS)
