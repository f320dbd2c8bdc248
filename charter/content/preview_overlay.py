"""The content a preview token may see: published content with one overlay applied.

:func:`build_overlay` computes the overlay; :class:`charter.delivery.sources.preview.PreviewSource`
delivers through it.

An entry token overlays that entry's current draft; a release token overlays every item of the
release as it will publish (new entries, new content, pinned revisions, unpublished entries
hidden). Everything else is the published state, so a page previewed with a release token shows
exactly what the site will show once the release publishes, references included.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import sqlalchemy as sa

from charter.auth.preview import PreviewToken
from charter.content import store
from charter.content.models import Entry, Revision
from charter.content.releases import get_release
from charter.content.revisions import slug_of
from charter.exceptions import NotFound
from charter.runtime import Runtime


@dataclass(frozen=True)
class Overlaid:
    entry: Entry
    revision: Revision | None  # None: hidden (unpublished by the release)


def build_overlay(rt: Runtime, conn: sa.Connection, token: PreviewToken) -> dict[str, Overlaid]:
    if token.scope == "entry":
        try:
            entry = store.get_entry(conn, token.id)
        except NotFound:
            raise NotFound(f"the entry this preview token is for ({token.id}) no longer exists")
        rev = store.get_revision(conn, entry.id, entry.current_revision)
        return {entry.id: Overlaid(replace(entry, published_revision=rev.number), rev)}
    try:
        rel = get_release(conn, token.id)
    except NotFound:
        raise NotFound(f"the release this preview token is for ({token.id}) no longer exists")
    if rel.status in ("published", "rolled_back"):
        return {}
    overlay: dict[str, Overlaid] = {}
    for item in rel.items:
        ct = rt.registry.get(item.type)
        if item.action == "create":
            now = rel.updated_at
            entry = Entry(
                item.entry_id,
                item.type,
                slug_of(ct, item.data or {}),
                1,
                1,
                rel.scheduled_at,
                now,
                now,
                None,
                item.added_by,
            )
            rev = Revision(
                item.entry_id, 1, item.data or {}, ct.schema_id, ct.version, item.added_by, now, None, "create"
            )
            overlay[item.entry_id] = Overlaid(entry, rev)
            continue
        try:
            entry = store.get_entry(conn, item.entry_id)
        except NotFound:
            continue
        if item.action == "unpublish":
            overlay[entry.id] = Overlaid(entry, None)
        elif item.data is not None:
            number = entry.current_revision + 1
            rev = Revision(
                entry.id, number, item.data, ct.schema_id, ct.version, item.added_by, rel.updated_at, None, "update"
            )
            slug = slug_of(ct, item.data)
            overlay[entry.id] = Overlaid(
                replace(
                    entry, slug=slug, current_revision=number, published_revision=number, published_at=rel.scheduled_at
                ),
                rev,
            )
        else:
            rev = store.get_revision(conn, entry.id, item.revision or entry.current_revision)
            overlay[entry.id] = Overlaid(
                replace(entry, published_revision=rev.number, published_at=rel.scheduled_at), rev
            )
    return overlay
