"""The write primitives every content action shares: permission, validation, appending a
revision, and recording the event and audit entry — always inside the caller's transaction."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from charter.assets.references import reference_errors as asset_errors
from charter.audit import diff, record_audit
from charter.auth.roles import Actor, Permission
from charter.content.models import Entry
from charter.db.tables import entries, revisions
from charter.events import ENTRY_EVENTS, Event, record, utcnow
from charter.exceptions import ErrorDetail, Forbidden, PreconditionFailed, PreconditionRequired, ValidationFailed
from charter.schemas.references import find_references
from charter.schemas.registry import ContentType
from charter.schemas.validation import pointer


def require(actor: Actor, permission: Permission) -> None:
    if not actor.can(permission):
        raise Forbidden(f"role {actor.role.value!r} may not {permission.value}")


def check_if_match(entry: Entry, if_match: str | None, *, required: bool = True) -> None:
    """Optimistic concurrency (RFC 9110 §13.1.1): the client must name the revision it edited."""
    if if_match is None:
        if required:
            raise PreconditionRequired(
                f"send If-Match: {entry.etag} (the ETag of the revision you edited) to change this entry"
            )
        return
    tags = [t.strip() for t in if_match.split(",")]
    if "*" in tags or entry.etag in tags or f"W/{entry.etag}" in tags:
        return
    raise PreconditionFailed(
        f"entry {entry.id} has changed: current ETag is {entry.etag} (revision {entry.current_revision}), "
        f"you sent {if_match}",
        extra={"current_revision": entry.current_revision, "etag": entry.etag},
    )


def validate_data(conn: sa.Connection, ct: ContentType, data: Any) -> None:
    """Schema validation plus referential integrity (entries, and assets with their constraints:
    :mod:`charter.assets.references`); raises ValidationFailed listing every error."""
    errors = ct.validate(data) + nul_errors(data)
    if not errors:
        errors.extend(_reference_errors(conn, ct, data))
        errors.extend(asset_errors(conn, ct.schema, data))
    if errors:
        raise ValidationFailed(detail=f"{len(errors)} error(s) validating {ct.schema_id} {ct.version}", errors=errors)


def nul_errors(value: Any, path: tuple[Any, ...] = ()) -> list[ErrorDetail]:
    """NUL characters anywhere in keys or strings: no backend stores them alike (PostgreSQL's
    JSONB refuses them), so they are refused on every backend."""
    if isinstance(value, str):
        return [ErrorDetail(pointer(path), "text must not contain NUL characters", "nul")] if "\x00" in value else []
    errors: list[ErrorDetail] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if "\x00" in str(key):
                errors.append(ErrorDetail(pointer((*path, key)), "field names must not contain NUL characters", "nul"))
            errors.extend(nul_errors(item, (*path, key)))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            errors.extend(nul_errors(item, (*path, i)))
    return errors


def _reference_errors(conn: sa.Connection, ct: ContentType, data: dict[str, Any]) -> list[ErrorDetail]:
    wanted: dict[str, list[tuple[str, str]]] = {}
    for loc, doc in data.items():
        for ptr, target, ref in find_references(ct.schema, doc):
            wanted.setdefault(ref, []).append((f"/{loc}{ptr}", target))
    if not wanted:
        return []
    rows = conn.execute(
        sa.select(entries.c.id, entries.c.type).where(entries.c.id.in_(list(wanted)), entries.c.deleted_at.is_(None))
    )
    found = {r.id: r.type for r in rows}
    errors = []
    for ref, places in wanted.items():
        for ptr, target in places:
            if ref not in found:
                errors.append(ErrorDetail(ptr, f"referenced entry {ref!r} does not exist", "x-charter-ref"))
            elif found[ref] != target:
                errors.append(ErrorDetail(ptr, f"entry {ref!r} is a {found[ref]}, not a {target}", "x-charter-ref"))
    return errors


def slug_of(ct: ContentType, data: dict[str, Any]) -> str | None:
    if not ct.slug_field:
        return None
    value = (data.get(ct.locales.default) or {}).get(ct.slug_field)
    return str(value) if value is not None else None


def append_revision(
    conn: sa.Connection,
    actor: Actor,
    ct: ContentType,
    entry_id: str,
    number: int,
    data: dict[str, Any],
    action: str,
    message: str | None,
) -> None:
    conn.execute(
        sa.insert(revisions).values(
            entry_id=entry_id,
            number=number,
            data=data,
            schema_id=ct.schema_id,
            schema_version=ct.version,
            author=f"{actor.kind}:{actor.name}",
            created_at=utcnow(),
            message=message,
            action=action,
        )
    )


def entry_event(
    conn: sa.Connection,
    pending: list[Event],
    event_type: str,
    entry: Entry,
    ct: ContentType,
    revision: int | None = None,
    **extra: Any,
) -> None:
    """Record an ``entry.*`` event (its dataclass in :mod:`charter.events.types`: ``extra`` are
    the fields that type adds, e.g. ``previous_revision`` for ``entry.published``)."""
    typed = ENTRY_EVENTS[event_type](
        id=entry.id,
        type=entry.type,
        revision=revision if revision is not None else entry.current_revision,
        slug=entry.slug,
        schema_id=ct.schema_id,
        schema_version=ct.version,
        **extra,
    )
    pending.append(record(conn, typed.event(domain=ct.domain)))


def audit_change(
    conn: sa.Connection, actor: Actor, action: str, entry_id: str, old: Any, new: Any, **detail: Any
) -> None:
    record_audit(conn, actor, action, "entry", entry_id, {"diff": diff(old, new), **detail})


def lock_entry(conn: sa.Connection, entry_id: str, *, include_deleted: bool = False) -> Entry:
    """Read an entry for update (row lock on PostgreSQL; SQLite writers are already serialised)."""
    from charter.content.store import get_entry

    if conn.dialect.name == "postgresql":
        conn.execute(sa.select(entries.c.id).where(entries.c.id == entry_id).with_for_update())
    return get_entry(conn, entry_id, include_deleted=include_deleted)
