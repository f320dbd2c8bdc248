"""Delete an entry: a soft delete that unpublishes it and frees its slug; history is kept."""

from __future__ import annotations

import sqlalchemy as sa

from charter.auth.roles import Actor, Permission
from charter.content.models import Entry
from charter.content.revisions import (
    append_revision,
    audit_change,
    check_if_match,
    entry_event,
    lock_entry,
    require,
)
from charter.content.store import get_entry, get_revision
from charter.content.workflow import check_direct_change
from charter.db.tables import entries
from charter.events import ENTRY_DELETED, utcnow
from charter.runtime import Runtime


def delete_entry(rt: Runtime, actor: Actor, entry_id: str, *, if_match: str | None) -> Entry:
    """Delete needs the write permission, and the publish permission when the entry is live."""
    require(actor, Permission.WRITE)
    with rt.write() as (conn, pending):
        entry = lock_entry(conn, entry_id)
        check_if_match(entry, if_match)
        if entry.published_revision is not None:
            require(actor, Permission.PUBLISH)
            check_direct_change(rt.settings, actor, entry.type, "delete")
        ct = rt.registry.get(entry.type)
        data = get_revision(conn, entry_id, entry.current_revision).data
        number = entry.current_revision + 1
        now = utcnow()
        conn.execute(
            sa.update(entries)
            .where(entries.c.id == entry_id)
            .values(current_revision=number, published_revision=None, deleted_at=now, updated_at=now)
        )
        append_revision(conn, actor, ct, entry_id, number, data, "delete", None)
        entry = get_entry(conn, entry_id, include_deleted=True)
        audit_change(conn, actor, "entry.delete", entry_id, {}, {}, revision=number)
        entry_event(conn, pending, ENTRY_DELETED, entry, ct, was_published=entry.published_revision is not None)
    return entry
