"""The delivery source a preview token reads: :class:`EmbeddedSource` through the token's overlay
(:func:`charter.content.preview_overlay.build_overlay`): published content with the entry's draft
or the release's items applied; with another CMS as the content source, :class:`VendorPreview`:
that CMS's published content with the entry's draft read from the CMS itself (docs/sources.md)."""

from __future__ import annotations

from typing import Any, Protocol

import sqlalchemy as sa

from charter.auth.preview import PreviewToken
from charter.auth.preview_register import check_live
from charter.content import store
from charter.content.models import Entry, Revision
from charter.content.preview_overlay import Overlaid, build_overlay
from charter.delivery.envelope import Rendered
from charter.delivery.sources.base import RenderedList
from charter.delivery.sources.embedded import EmbeddedSource, decode_cursor, encode_cursor, matches
from charter.runtime import Runtime
from charter.schemas.registry import ContentType


class PreviewSource(EmbeddedSource):
    """:class:`EmbeddedSource` seen through a preview token's overlay.

    With ``check_register`` (what :func:`preview_source` builds for a delivery request) the first
    read confirms, in the same transaction as the content it reads, that the token is on record
    and not revoked (:func:`charter.auth.preview_register.check_live`): Unauthorized otherwise.
    Without it the source renders for the server itself (the admin showing a viewer a draft)."""

    def __init__(self, rt: Runtime, token: PreviewToken, *, check_register: bool = True) -> None:
        super().__init__(rt)
        self.token = token
        self.check_register = check_register

    def _overlay(self, conn: sa.Connection) -> dict[str, Overlaid]:
        cached: dict[str, Overlaid] | None = getattr(self, "_cached_overlay", None)
        if cached is None:
            if self.check_register:
                check_live(conn, self.token)
            cached = build_overlay(self.rt, conn, self.token)
            self._cached_overlay = cached
        return cached

    def _lookup(self, conn: sa.Connection, ids: list[str]) -> dict[str, tuple[Entry, Revision]]:
        overlay = self._overlay(conn)
        found = {e.id: (e, r) for e, r in store.published_entries(conn, ids=[i for i in ids if i not in overlay])}
        for i in ids:
            o = overlay.get(i)
            if o is not None and o.revision is not None:
                found[i] = (o.entry, o.revision)
        return found

    def _render(
        self, conn: sa.Connection, ct: ContentType, entry: Entry, rev: Revision, locale: str | None
    ) -> Rendered:
        # As published (references through _lookup, so the overlay shows), but with no surrogate
        # keys: a preview is never cached.
        rendered = super()._render(conn, ct, entry, rev, locale)
        return Rendered(rendered.body, [], {**rendered.facts, "preview": self.token.scope})

    def page(self, slug: str, locale: str | None) -> Rendered | None:
        ct = self._type("page")
        self.check_locale(ct, locale)
        with self.rt.read() as conn:
            overlay = self._overlay(conn)
            for o in overlay.values():
                if o.entry.type == "page" and o.entry.slug == slug and o.revision is not None:
                    return self._render(conn, ct, o.entry, o.revision, locale)
            found = store.published_by_slug(conn, "page", slug)
            if found is None or found[0].id in overlay:
                return None  # not published, or the preview unpublishes it or moves its slug
            return self._render(conn, ct, *found, locale)

    def entry(self, type_name: str, entry_id: str, locale: str | None) -> Rendered | None:
        ct = self._type(type_name)
        self.check_locale(ct, locale)
        with self.rt.read() as conn:
            o = self._overlay(conn).get(entry_id)
            if o is not None:
                if o.revision is None or o.entry.type != type_name:
                    return None
                return self._render(conn, ct, o.entry, o.revision, locale)
            found = store.published_by_id(conn, type_name, entry_id)
            return self._render(conn, ct, *found, locale) if found else None

    def entries(
        self, type_name: str, locale: str | None, *, cursor: str | None, limit: int, filters: dict[str, str]
    ) -> RenderedList:
        ct = self._type(type_name)
        self.check_locale(ct, locale)
        checks = self._filters(ct, filters)
        after = decode_cursor(cursor) if cursor else None
        with self.rt.read() as conn:
            overlay = self._overlay(conn)
            pairs = {e.id: (e, r) for e, r in store.published_entries(conn, type_name) if e.id not in overlay}
            for o in overlay.values():
                if o.entry.type == type_name and o.revision is not None:
                    pairs[o.entry.id] = (o.entry, o.revision)
            items: list[Rendered] = []
            more = False
            last = None
            for entry_id in sorted(pairs):
                if after is not None and entry_id <= after:
                    continue
                rendered = self._render(conn, ct, *pairs[entry_id], locale)
                if all(matches(rendered.body["data"].get(f), v) for f, v in checks.items()):
                    if len(items) == limit:
                        more = True
                        break
                    items.append(rendered)
                    last = entry_id
        return RenderedList(items, encode_cursor(last) if more and last else None, [])


class Preview(Protocol):
    """What the delivery API reads a preview through: a content source and the token it honours."""

    token: PreviewToken

    def page(self, slug: str, locale: str | None) -> Rendered | None: ...

    def entry(self, type_name: str, entry_id: str, locale: str | None) -> Rendered | None: ...

    def entries(
        self, type_name: str, locale: str | None, *, cursor: str | None, limit: int, filters: dict[str, str]
    ) -> RenderedList: ...


class VendorPreview:
    """An entry's draft in another CMS (Strapi's draft version, a Directus item whatever its
    status, :meth:`~charter.delivery.sources.vendor.VendorSource.previewing`), everything else as
    published; renders carry no surrogate keys. The token is checked against the register once,
    when the preview is opened (the reads are the other CMS's, outside Charter's database)."""

    def __init__(self, rt: Runtime, token: PreviewToken) -> None:
        from charter.exceptions import BadRequest

        source: Any = rt.source
        if not hasattr(source, "previewing"):
            raise BadRequest(f"source {rt.settings.source!r} cannot read drafts, so it has no previews")
        if token.scope != "entry":
            raise BadRequest(
                f"a {token.scope} preview needs the embedded store (releases are Charter's); "
                f"this server delivers from {rt.settings.source!r}, which previews single entries"
            )
        with rt.read() as conn:
            check_live(conn, token)
        self.token = token
        self.source = source.previewing(token.id)

    def page(self, slug: str, locale: str | None) -> Rendered | None:
        found: Rendered | None = self.source.page(slug, locale)
        return found

    def entry(self, type_name: str, entry_id: str, locale: str | None) -> Rendered | None:
        found: Rendered | None = self.source.entry(type_name, entry_id, locale)
        return found

    def entries(
        self, type_name: str, locale: str | None, *, cursor: str | None, limit: int, filters: dict[str, str]
    ) -> RenderedList:
        found: RenderedList = self.source.entries(type_name, locale, cursor=cursor, limit=limit, filters=filters)
        return RenderedList(found.items, found.next_cursor, [])


def check_preview_target(rt: Runtime, scope: str, target_id: str) -> None:
    """Before a preview token is minted for another CMS's entry: NotFound unless the CMS has an
    entry (draft or published) with that id; BadRequest for a release (releases are Charter's)."""
    from charter.exceptions import BadRequest, NotFound

    source: Any = rt.source
    if scope != "entry" or not hasattr(source, "has_entry"):
        raise BadRequest(f"source {rt.settings.source!r} previews single entries (scope entry), not {scope}s")
    if not source.has_entry(target_id):
        raise NotFound(f"{rt.settings.source} has no entry {target_id[:80]!r}")


def preview_source(rt: Runtime, raw_token: str) -> Preview:
    """Verify a preview token (Unauthorized when forged or expired) and return its source, which
    refuses a revoked or unrecorded token on its first read (Unauthorized): the register is the
    shared database, so a revocation holds at once on every app instance. With another CMS as the
    content source, the entry's draft is read from that CMS (:class:`VendorPreview`)."""
    from charter.auth.preview import verify

    token = verify(rt.settings, raw_token)
    if rt.settings.source != "embedded":
        return VendorPreview(rt, token)
    return PreviewSource(rt, token)
