"""Create an entry: validate, then write the entry and its first revision in one transaction."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa

from charter.auth.roles import Actor, Permission
from charter.content.models import Entry
from charter.content.revisions import append_revision, audit_change, entry_event, require, slug_of, validate_data
from charter.content.store import get_entry
from charter.db.tables import entries
from charter.events import ENTRY_CREATED, utcnow
from charter.exceptions import BadRequest, Conflict
from charter.runtime import Runtime


def create_entry(
    rt: Runtime,
    actor: Actor,
    type_name: str,
    data: dict[str, Any],
    *,
    message: str | None = None,
    entry_id: str | None = None,
) -> Entry:
    """Create a draft entry of ``type_name``. Raises ValidationFailed (nothing stored), Conflict on a
    duplicate slug or id, Forbidden without the write permission."""
    require(actor, Permission.WRITE)
    ct = rt.registry.get(type_name)
    if entry_id is not None:
        try:
            entry_id = str(uuid.UUID(entry_id))
        except ValueError:
            raise BadRequest(f"entry id {entry_id!r} is not a UUID")
    entry_id = entry_id or str(uuid.uuid4())
    now = utcnow()
    with rt.write() as (conn, pending):
        validate_data(conn, ct, data)
        slug = slug_of(ct, data)
        _check_unique(conn, ct.name, slug, entry_id)
        try:
            conn.execute(
                sa.insert(entries).values(
                    id=entry_id,
                    type=ct.name,
                    slug=slug,
                    current_revision=1,
                    published_revision=None,
                    published_at=None,
                    created_at=now,
                    updated_at=now,
                    deleted_at=None,
                    created_by=f"{actor.kind}:{actor.name}",
                )
            )
        except sa.exc.IntegrityError:
            raise Conflict(f"a {ct.name} with slug {slug!r} already exists")
        append_revision(conn, actor, ct, entry_id, 1, data, "create", message)
        entry = get_entry(conn, entry_id)
        audit_change(conn, actor, "entry.create", entry_id, {}, data, revision=1)
        entry_event(conn, pending, ENTRY_CREATED, entry, ct)
    return entry


def _check_unique(conn: sa.Connection, type_name: str, slug: str | None, entry_id: str) -> None:
    if conn.execute(sa.select(entries.c.id).where(entries.c.id == entry_id)).first():
        raise Conflict(f"entry {entry_id} already exists")
    if slug is None:
        return
    clash = conn.execute(
        sa.select(entries.c.id).where(
            entries.c.type == type_name, entries.c.slug == slug, entries.c.deleted_at.is_(None)
        )
    ).first()
    if clash:
        raise Conflict(
            f"a {type_name} with slug {slug!r} already exists (entry {clash.id})", extra={"existing_id": clash.id}
        )
