"""Publish and unpublish: move the published-revision pointer, atomically, with its event."""

from __future__ import annotations

import sqlalchemy as sa

from charter.auth.roles import Actor, Permission
from charter.content.ai_risk import check_publish
from charter.content.models import Entry
from charter.content.revisions import audit_change, check_if_match, entry_event, lock_entry, require
from charter.content.store import get_entry, get_revision
from charter.content.workflow import check_direct_change
from charter.db.tables import entries
from charter.events import ENTRY_PUBLISHED, ENTRY_UNPUBLISHED, utcnow
from charter.exceptions import BadRequest
from charter.runtime import Runtime


def publish_entry(
    rt: Runtime, actor: Actor, entry_id: str, *, revision: int | None = None, if_match: str | None = None
) -> Entry:
    """Publish ``revision`` (default: the current one). Idempotent when it is already published."""
    require(actor, Permission.PUBLISH)
    with rt.write() as (conn, pending):
        entry = lock_entry(conn, entry_id)
        check_if_match(entry, if_match, required=False)
        number = revision or entry.current_revision
        if number < 1 or number > entry.current_revision:
            raise BadRequest(f"entry {entry_id} has no revision {number} (current: {entry.current_revision})")
        get_revision(conn, entry_id, number)
        if entry.published_revision == number:
            return entry
        check_direct_change(rt.settings, actor, entry.type, "publish")
        check_publish(conn, actor, entry_id)
        ct = rt.registry.get(entry.type)
        conn.execute(
            sa.update(entries).where(entries.c.id == entry_id).values(published_revision=number, published_at=utcnow())
        )
        previous = entry.published_revision
        entry = get_entry(conn, entry_id)
        audit_change(
            conn, actor, "entry.publish", entry_id, {"published_revision": previous}, {"published_revision": number}
        )
        entry_event(conn, pending, ENTRY_PUBLISHED, entry, ct, revision=number, previous_revision=previous)
    return entry


def unpublish_entry(rt: Runtime, actor: Actor, entry_id: str) -> Entry:
    """Take an entry off the delivery API. Idempotent."""
    require(actor, Permission.PUBLISH)
    with rt.write() as (conn, pending):
        entry = lock_entry(conn, entry_id)
        if entry.published_revision is None:
            return entry
        check_direct_change(rt.settings, actor, entry.type, "unpublish")
        ct = rt.registry.get(entry.type)
        conn.execute(
            sa.update(entries).where(entries.c.id == entry_id).values(published_revision=None, published_at=None)
        )
        previous = entry.published_revision
        entry = get_entry(conn, entry_id)
        audit_change(
            conn, actor, "entry.unpublish", entry_id, {"published_revision": previous}, {"published_revision": None}
        )
        entry_event(conn, pending, ENTRY_UNPUBLISHED, entry, ct, revision=previous)
    return entry
