"""Read-only queries behind admin lists: entries with their current content, filtered by type,
status, locale and text. Writes never happen here; they go through the content actions."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from charter.admin.forms.schema import ASSET_REF
from charter.assets.actions import list_assets
from charter.content import store
from charter.content.models import Entry
from charter.db.tables import entries, revisions
from charter.schemas.registry import Registry

TITLE_FIELDS = ("title", "name", "claim", "question", "label")


def display_title(registry: Registry, type_name: str, data: dict[str, Any], slug: str | None = None) -> str:
    """What an editor calls an entry: its title (or name, claim...) in the default locale."""
    default = registry.get(type_name).locales.default if type_name in registry else "en"
    doc = data.get(default) if isinstance(data, dict) else None
    if isinstance(doc, dict):
        for key in TITLE_FIELDS:
            value = doc.get(key)
            if isinstance(value, str) and value.strip():
                return value.strip()
    return slug or "(untitled)"


@dataclass(frozen=True)
class Row:
    entry: Entry
    title: str
    locales: list[str]
    author: str


def _search_clause(q: str) -> sa.ColumnElement[bool]:
    text = sa.func.lower(sa.cast(revisions.c.data, sa.Text))
    needle = q.lower()
    escaped = json.dumps(needle)[1:-1]  # JSON text may hold non-ASCII as \\u escapes
    clauses = [
        sa.func.lower(sa.func.coalesce(entries.c.slug, "")).contains(needle, autoescape=True),
        text.contains(needle, autoescape=True),
    ]
    if escaped != needle:
        clauses.append(text.contains(escaped, autoescape=True))
    return sa.or_(*clauses)


def _has_locale(conn: sa.Connection, locale: str) -> sa.ColumnElement[bool]:
    """The current revision holds values for ``locale`` (a JSON key test on either database)."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import JSONB

        return sa.type_coerce(revisions.c.data, JSONB).has_key(locale)
    return sa.func.json_type(revisions.c.data, '$."' + locale.replace('"', "") + '"').is_not(None)


def content_page(
    conn: sa.Connection,
    registry: Registry,
    *,
    type_name: str | None = None,
    status: str | None = None,
    locale: str | None = None,
    q: str | None = None,
    page: int = 1,
    per_page: int = 25,
) -> tuple[list[Row], int]:
    """One page of entries, newest change first, and how many match in all."""
    joined = entries.join(
        revisions, sa.and_(revisions.c.entry_id == entries.c.id, revisions.c.number == entries.c.current_revision)
    )
    where: list[sa.ColumnElement[bool]] = []
    if type_name:
        where.append(entries.c.type == type_name)
    if status:
        where.append(store._status_clause(status))
    else:
        where.append(entries.c.deleted_at.is_(None))
    if locale:
        where.append(_has_locale(conn, locale))
    if q:
        where.append(_search_clause(q))
    total = conn.execute(sa.select(sa.func.count()).select_from(joined).where(*where)).scalar_one()
    rows = conn.execute(
        sa.select(entries, revisions.c.data, revisions.c.author)
        .select_from(joined)
        .where(*where)
        .order_by(entries.c.updated_at.desc(), entries.c.id)
        .limit(per_page)
        .offset((max(page, 1) - 1) * per_page)
    )
    out = []
    for r in rows:
        entry = Entry.from_row(r)
        data = r.data if isinstance(r.data, dict) else {}
        out.append(Row(entry, display_title(registry, entry.type, data, entry.slug), list(data), r.author))
    return out, int(total)


def reference_options(conn: sa.Connection, registry: Registry, types: set[str]) -> dict[str, list[tuple[str, str]]]:
    """For each referenced type, the live entries an editor may pick: (id, "Title (slug) · status");
    for asset references (:data:`~charter.admin.forms.schema.ASSET_REF`), the media library's assets:
    (id, "file name · width×height · alt text")."""
    out: dict[str, list[tuple[str, str]]] = {}
    if ASSET_REF in types:
        out[ASSET_REF] = [
            (a.id, f"{a.filename} · {a.width}×{a.height} · {a.alt_for(None) or 'no alt text'}")
            for a in list_assets(conn, limit=200)
        ]
    for type_name in sorted(types - {ASSET_REF}):
        rows, _ = content_page(conn, registry, type_name=type_name, per_page=500)
        out[type_name] = sorted(
            ((r.entry.id, f"{r.title} ({r.entry.slug or r.entry.id[:8]}) · {r.entry.status}") for r in rows),
            key=lambda o: o[1].lower(),
        )
    return out
