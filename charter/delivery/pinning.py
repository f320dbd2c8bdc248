"""Consumers pinning an old schema major on the delivery API.

After a migration from ``page.v1`` to ``page.v2``, a consumer that sends ``Charter-Schema:
page.v1`` keeps receiving, for each entry, the last revision published under ``page.v1``, with
``Deprecation`` (RFC 9745: when the migration made it deprecated) and ``Sunset`` (RFC 8594: the
migration's sunset date) headers, until the sunset; after it, 410 Gone. Naming the current major
(or sending no header) is the normal response.

The delivery routes call :func:`pinned_response` (one entry or page) or
:func:`pinned_list_response` (``/v1/entries/{type}``) first; each returns None when the request
does not pin an old major, so the change to the routes is one line each. Pinned responses are not
kept in the response cache (they change only on unpublish, delete or rollback, and are rare).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime
from typing import Any

import orjson
import sqlalchemy as sa
from fastapi import Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from charter.content import store
from charter.db.tables import content_types, entries
from charter.delivery.http_caching import etag_of, if_none_match, public_cache_control
from charter.events import utcnow
from charter.exceptions import BadRequest, CharterError, NotFound
from charter.runtime import Runtime
from charter.schemas.registry import ContentType
from charter.schemas.tables import schema_migration_entries, schema_migrations

HEADER = "Charter-Schema"
_ID = re.compile(r"^([a-z][a-z0-9]*(?:-[a-z0-9]+)*)\.v([1-9]\d*)$")


class SchemaSunset(CharterError):
    status = 410
    type_slug = "schema-sunset"
    title = "Schema major retired"


@dataclass(frozen=True)
class Pin:
    schema_id: str
    run_id: int
    current_schema_id: str
    deprecated_at: datetime
    sunset: datetime | None


def _requested(header: str, type_name: str) -> str | None:
    """The schema id the header names for ``type_name`` (a comma-separated list is allowed)."""
    for part in header.split(","):
        value = part.strip()
        if not value:
            continue
        m = _ID.match(value)
        if not m:
            raise BadRequest(f"{HEADER}: {value[:80]!r} is not a schema id such as 'page.v1'")
        if m.group(1) == type_name:
            return value
    return None


def resolve_pin(rt: Runtime, type_name: str, header: str | None) -> Pin | None:
    """The pin a request's ``Charter-Schema`` header asks for, or None for a normal response.
    BadRequest for a major that is not served; SchemaSunset after the sunset date."""
    if not header:
        return None
    wanted = _requested(header, type_name)
    if wanted is None:
        return None
    try:
        ct = rt.registry.get(type_name)
    except NotFound:
        return None  # the route reports the unknown type
    if wanted == ct.schema_id:
        return None
    with rt.read() as conn:
        row = conn.execute(
            sa.select(schema_migrations)
            .where(
                schema_migrations.c.content_type == type_name,
                schema_migrations.c.from_schema_id == wanted,
                schema_migrations.c.status == "applied",
            )
            .order_by(schema_migrations.c.id.desc())
        ).first()
    if row is None:
        raise BadRequest(f"{wanted} is not served; {type_name} is {ct.schema_id} (send {HEADER}: {ct.schema_id})")
    if row.sunset is not None and utcnow() >= row.sunset:
        raise SchemaSunset(
            f"{wanted} was retired on {row.sunset.date().isoformat()}; {type_name} is now {row.to_schema_id}",
            extra={"sunset": row.sunset.isoformat(), "successor": row.to_schema_id},
        )
    return Pin(wanted, row.id, ct.schema_id, row.applied_at, row.sunset)


def _old_type(conn: sa.Connection, name: str, schema_id: str) -> ContentType | None:
    row = conn.execute(
        sa.select(content_types).where(content_types.c.schema_id == schema_id).order_by(content_types.c.id.desc())
    ).first()
    if row is None:
        return None
    return ContentType(name=name, major=int(schema_id.rsplit(".v", 1)[1]), version=row.version, schema=row.schema)


def _envelope_of(
    conn: sa.Connection, rt: Runtime, ct: ContentType, entry_id: str, revision: int, locale: str | None
) -> dict[str, Any]:
    from charter.delivery.envelope import envelope, references_of

    entry = store.get_entry(conn, entry_id)
    rev = store.get_revision(conn, entry_id, revision)
    body = envelope(ct, entry, rev, locale)
    refs = references_of(ct, body["data"])
    included = []
    for ref_entry, ref_rev in store.published_entries(conn, ids=refs) if refs else []:
        ref_ct = rt.registry.get(ref_entry.type)
        included.append(envelope(ref_ct, ref_entry, ref_rev, locale if locale in ref_ct.locales.supported else None))
    body["included"] = included
    return body


def _pinned_type(conn: sa.Connection, rt: Runtime, pin: Pin, type_name: str, locale: str | None) -> ContentType:
    ct = _old_type(conn, type_name, pin.schema_id) or rt.registry.get(type_name)
    if locale is not None and locale not in ct.locales.supported:
        from charter.exceptions import UnknownLocale

        raise UnknownLocale(
            f"locale {locale!r} is not available for {pin.schema_id}; use one of {', '.join(ct.locales.supported)}"
        )
    return ct


def render_pinned(
    rt: Runtime,
    pin: Pin,
    type_name: str,
    *,
    slug: str | None = None,
    entry_id: str | None = None,
    locale: str | None = None,
) -> dict[str, Any] | None:
    """The v1 envelope of the entry as last published under ``pin.schema_id``; None if there is none."""
    with rt.read() as conn:
        q = sa.select(schema_migration_entries).where(schema_migration_entries.c.migration_id == pin.run_id)
        q = (
            q.where(schema_migration_entries.c.old_slug == slug)
            if slug is not None
            else q.where(schema_migration_entries.c.entry_id == entry_id)
        )
        row = conn.execute(q).first()
        if row is None or row.before_published is None:
            return None
        entry_row = conn.execute(sa.select(entries).where(entries.c.id == row.entry_id)).first()
        if entry_row is None or entry_row.deleted_at is not None or entry_row.published_revision is None:
            return None  # unpublished or deleted since: gone for every major
        ct = _pinned_type(conn, rt, pin, type_name, locale)
        return _envelope_of(conn, rt, ct, row.entry_id, row.before_published, locale)


def render_pinned_list(
    rt: Runtime,
    pin: Pin,
    type_name: str,
    *,
    locale: str | None,
    cursor: str | None,
    limit: int,
    filters: dict[str, str],
) -> dict[str, Any]:
    """The list body (``items``, ``next_cursor``, ``limit``) of every entry of the type as last
    published under ``pin.schema_id`` and still published, ordered by id like the current list.
    ``fields.<name>`` filters apply to the old major's data and must name its scalar fields; the
    cursor is the same kind as the current list's (the id of the last item), so pages never skip
    or repeat an entry. Entries created after the migration were never published under the old
    major and are not listed."""
    from charter.delivery.sources.embedded import EmbeddedSource, decode_cursor, encode_cursor, matches

    after = decode_cursor(cursor) if cursor else None
    items: list[dict[str, Any]] = []
    more = False
    with rt.read() as conn:
        ct = _pinned_type(conn, rt, pin, type_name, locale)
        checks = EmbeddedSource._filters(ct, filters)
        sme = schema_migration_entries
        while not more:
            q = (
                sa.select(sme.c.entry_id, sme.c.before_published)
                .join(entries, entries.c.id == sme.c.entry_id)
                .where(
                    sme.c.migration_id == pin.run_id,
                    sme.c.before_published.is_not(None),
                    entries.c.type == type_name,
                    entries.c.deleted_at.is_(None),
                    entries.c.published_revision.is_not(None),
                )
                .order_by(sme.c.entry_id)
                .limit(max(limit * 2, 50))
            )
            if after is not None:
                q = q.where(sme.c.entry_id > after)
            batch = conn.execute(q).all()
            if not batch:
                break
            for row in batch:
                body = _envelope_of(conn, rt, ct, row.entry_id, row.before_published, locale)
                if not all(matches(body["data"].get(f), v) for f, v in checks.items()):
                    after = row.entry_id
                    continue
                if len(items) == limit:
                    more = True
                    break
                items.append(body)
                after = row.entry_id
    return {"items": items, "next_cursor": encode_cursor(items[-1]["id"]) if more else None, "limit": limit}


def headers_for(pin: Pin) -> dict[str, str]:
    out = {
        HEADER: pin.schema_id,
        "Deprecation": f"@{int(pin.deprecated_at.timestamp())}",
        "Vary": HEADER,
    }
    if pin.sunset is not None:
        out["Sunset"] = format_datetime(pin.sunset, usegmt=True)
    return out


def surrogate_keys(type_name: str, body: dict[str, Any]) -> str:
    """``Surrogate-Key`` of a pinned response: its type and the entries it shows, so a cache in front
    (docs/edge.md) drops it on their unpublish, rollback or a migration of the type."""
    ids = [item["id"] for item in body["items"]] if "items" in body else [body["id"]]
    return " ".join([f"type:{type_name}", *(f"entry:{i}" for i in ids)])


def _respond(request: Request, rt: Runtime, pin: Pin, type_name: str, body: dict[str, Any]) -> Response:
    raw = orjson.dumps(body)
    etag = etag_of(raw)
    headers = {
        **headers_for(pin),
        "ETag": etag,
        "Cache-Control": public_cache_control(rt.settings.cache_max_age),
        "Surrogate-Key": surrogate_keys(type_name, body),
    }
    if if_none_match(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    return Response(raw, media_type="application/json", headers=headers)


async def pinned_response(
    request: Request,
    type_name: str,
    *,
    slug: str | None = None,
    entry_id: str | None = None,
    locale: str | None = None,
) -> Response | None:
    """The delivery response for a request pinning an old major, or None to answer normally."""
    rt: Runtime = request.app.state.runtime
    pin = await run_in_threadpool(resolve_pin, rt, type_name, request.headers.get(HEADER))
    if pin is None:
        return None
    body = await run_in_threadpool(render_pinned, rt, pin, type_name, slug=slug, entry_id=entry_id, locale=locale)
    if body is None:
        what = f"page {slug!r}" if slug is not None else f"{type_name} {entry_id!r}"
        raise NotFound(f"no {what} was published under {pin.schema_id}")
    return _respond(request, rt, pin, type_name, body)


async def pinned_list_response(
    request: Request,
    type_name: str,
    *,
    locale: str | None,
    cursor: str | None,
    limit: int,
    filters: dict[str, str],
) -> Response | None:
    """The list response for a request pinning an old major, or None to answer normally."""
    rt: Runtime = request.app.state.runtime
    pin = await run_in_threadpool(resolve_pin, rt, type_name, request.headers.get(HEADER))
    if pin is None:
        return None
    body = await run_in_threadpool(
        lambda: render_pinned_list(rt, pin, type_name, locale=locale, cursor=cursor, limit=limit, filters=filters)
    )
    return _respond(request, rt, pin, type_name, body)
