"""Update an entry: a new revision, never an overwrite, guarded by If-Match."""

from __future__ import annotations

from typing import Any

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
    slug_of,
    validate_data,
)
from charter.content.store import get_entry, get_revision
from charter.db.tables import entries
from charter.events import ENTRY_UPDATED, utcnow
from charter.exceptions import Conflict
from charter.runtime import Runtime


def update_entry(
    rt: Runtime,
    actor: Actor,
    entry_id: str,
    data: dict[str, Any],
    *,
    if_match: str | None,
    message: str | None = None,
    action: str = "update",
) -> Entry:
    """Replace the entry's content with ``data`` as revision N+1. ``if_match`` must carry the
    current ETag (PreconditionRequired without it, PreconditionFailed when stale)."""
    require(actor, Permission.WRITE)
    with rt.write() as (conn, pending):
        entry = lock_entry(conn, entry_id)
        check_if_match(entry, if_match)
        ct = rt.registry.get(entry.type)
        validate_data(conn, ct, data)
        old = get_revision(conn, entry_id, entry.current_revision).data
        slug = slug_of(ct, data)
        number = entry.current_revision + 1
        try:
            conn.execute(
                sa.update(entries)
                .where(entries.c.id == entry_id, entries.c.current_revision == entry.current_revision)
                .values(current_revision=number, slug=slug, updated_at=utcnow())
            )
        except sa.exc.IntegrityError:
            raise Conflict(f"a {ct.name} with slug {slug!r} already exists")
        append_revision(conn, actor, ct, entry_id, number, data, action, message)
        entry = get_entry(conn, entry_id)
        audit_change(conn, actor, f"entry.{action}", entry_id, old, data, revision=number)
        entry_event(conn, pending, ENTRY_UPDATED, entry, ct)
    return entry
