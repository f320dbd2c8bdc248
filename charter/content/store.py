"""Reads of entries and revisions. Writes live in :mod:`charter.content.actions`."""

from __future__ import annotations

import sqlalchemy as sa
import structlog

from charter.content.models import Entry, Revision
from charter.content.models import _aware as aware
from charter.db.tables import entries, revisions
from charter.exceptions import NotFound
from charter.strictjson import servable, unservable_record

log = structlog.get_logger("charter.content")

STATUSES = ("draft", "published", "changed", "deleted")


def get_entry(conn: sa.Connection, entry_id: str, *, include_deleted: bool = False) -> Entry:
    row = conn.execute(sa.select(entries).where(entries.c.id == entry_id)).first()
    if row is None or (row.deleted_at is not None and not include_deleted):
        raise NotFound(f"entry {entry_id!r} not found")
    return Entry.from_row(row)


def _status_clause(status: str) -> sa.ColumnElement[bool]:
    live = entries.c.deleted_at.is_(None)
    if status == "deleted":
        return entries.c.deleted_at.is_not(None)
    if status == "draft":
        return sa.and_(live, entries.c.published_revision.is_(None))
    if status == "published":
        return sa.and_(live, entries.c.published_revision == entries.c.current_revision)
    if status == "changed":
        return sa.and_(
            live, entries.c.published_revision.is_not(None), entries.c.published_revision != entries.c.current_revision
        )
    raise ValueError(status)


def list_entries(
    conn: sa.Connection,
    type_name: str | None = None,
    status: str | None = None,
    *,
    after: str | None = None,
    limit: int | None = None,
    search: str | None = None,
) -> list[Entry]:
    """Entries ordered by id (stable for cursor pagination); deleted ones only when asked for."""
    q = sa.select(entries).order_by(entries.c.id)
    if type_name:
        q = q.where(entries.c.type == type_name)
    q = q.where(_status_clause(status)) if status else q.where(entries.c.deleted_at.is_(None))
    if after:
        q = q.where(entries.c.id > after)
    if search:
        q = q.where(entries.c.slug.contains(search, autoescape=True))
    if limit:
        q = q.limit(limit)
    return [Entry.from_row(r) for r in conn.execute(q)]


def get_revision(conn: sa.Connection, entry_id: str, number: int) -> Revision:
    row = conn.execute(
        sa.select(revisions).where(revisions.c.entry_id == entry_id, revisions.c.number == number)
    ).first()
    if row is None:
        raise NotFound(f"revision {number} of entry {entry_id!r} not found")
    return _served(Revision.from_row(row))


def list_revisions(conn: sa.Connection, entry_id: str) -> list[Revision]:
    """The entry's revisions, oldest first; one holding a value that cannot be served is left out
    (and logged) rather than failing the list (``charter doctor`` finds it)."""
    rows = conn.execute(sa.select(revisions).where(revisions.c.entry_id == entry_id).order_by(revisions.c.number))
    return [rev for rev in (Revision.from_row(r) for r in rows) if _servable_or_logged(rev)]


def _served(rev: Revision) -> Revision:
    """``rev`` when its data can be served back; else UnservableRecord (409), never a 500 later."""
    problem = servable(rev.data)
    if problem is not None:
        raise unservable_record(f"revision {rev.number} of entry {rev.entry_id}", problem)
    return rev


def _servable_or_logged(rev: Revision) -> bool:
    problem = servable(rev.data)
    if problem is not None:
        log.warning("unservable_revision_skipped", entry_id=rev.entry_id, revision=rev.number, pointer=problem.pointer)
    return problem is None


def _published_query() -> sa.Select[tuple[object, ...]]:
    return (
        sa.select(
            entries,
            revisions.c.data,
            revisions.c.schema_id,
            revisions.c.schema_version,
            revisions.c.author,
            revisions.c.created_at.label("rev_created_at"),
            revisions.c.message,
            revisions.c.action,
        )
        .join(
            revisions, sa.and_(revisions.c.entry_id == entries.c.id, revisions.c.number == entries.c.published_revision)
        )
        .where(entries.c.deleted_at.is_(None), entries.c.published_revision.is_not(None))
    )


def _pair(row: sa.Row[tuple[object, ...]]) -> tuple[Entry, Revision]:
    entry = Entry.from_row(row)
    rev = Revision(
        entry_id=entry.id,
        number=entry.published_revision or 0,
        data=row.data,
        schema_id=row.schema_id,
        schema_version=row.schema_version,
        author=row.author,
        created_at=aware(row.rev_created_at),  # type: ignore[arg-type]
        message=row.message,
        action=row.action,
    )
    return entry, rev


def published_entries(
    conn: sa.Connection,
    type_name: str | None = None,
    *,
    after: str | None = None,
    limit: int | None = None,
    ids: list[str] | None = None,
) -> list[tuple[Entry, Revision]]:
    """Published entries with their published revision, ordered by id."""
    q = _published_query().order_by(entries.c.id)
    if type_name:
        q = q.where(entries.c.type == type_name)
    if after:
        q = q.where(entries.c.id > after)
    if ids is not None:
        q = q.where(entries.c.id.in_(ids))
    if limit:
        q = q.limit(limit)
    return [pair for pair in (_pair(r) for r in conn.execute(q)) if _servable_or_logged(pair[1])]


# The delivery API's two point reads, built once with bound parameters: SQLAlchemy then finds their
# compiled SQL in its cache instead of building and compiling a statement per request.
_BY_SLUG = _published_query().where(entries.c.type == sa.bindparam("type"), entries.c.slug == sa.bindparam("slug"))
_BY_ID = _published_query().where(entries.c.type == sa.bindparam("type"), entries.c.id == sa.bindparam("id"))


def published_by_slug(conn: sa.Connection, type_name: str, slug: str) -> tuple[Entry, Revision] | None:
    row = conn.execute(_BY_SLUG, {"type": type_name, "slug": slug}).first()
    return _checked(_pair(row)) if row is not None else None


def published_by_id(conn: sa.Connection, type_name: str, entry_id: str) -> tuple[Entry, Revision] | None:
    row = conn.execute(_BY_ID, {"type": type_name, "id": entry_id}).first()
    return _checked(_pair(row)) if row is not None else None


def _checked(pair: tuple[Entry, Revision]) -> tuple[Entry, Revision]:
    _served(pair[1])
    return pair
