"""The embedded store as a content source: published revisions, locales resolved field by field."""

from __future__ import annotations

import base64
from typing import Any

import sqlalchemy as sa

from charter.assets.references import delivered
from charter.assets.references import load as load_assets
from charter.assets.settings import asset_settings
from charter.content import store
from charter.content.models import Entry, Revision
from charter.delivery.envelope import Rendered, envelope, references_of
from charter.delivery.sources.base import RenderedList
from charter.exceptions import BadRequest, NotFound, UnknownLocale
from charter.runtime import Runtime
from charter.schemas.references import find_asset_references
from charter.schemas.registry import ContentType

PAGE_TYPE = "page"


def encode_cursor(entry_id: str) -> str:
    return base64.urlsafe_b64encode(entry_id.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        raise BadRequest(f"cursor {cursor!r} is not valid; use next_cursor from a previous response")
    if not raw or len(raw) > 64:
        raise BadRequest(f"cursor {cursor!r} is not valid; use next_cursor from a previous response")
    return raw


class EmbeddedSource:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        #: SQLite in WAL mode: a read never waits for a writer, so the delivery API reads on the
        #: event loop instead of hopping to a thread (PostgreSQL reads wait on the network).
        self.reads_inline = rt.engine.dialect.name == "sqlite"

    def _type(self, type_name: str) -> ContentType:
        try:
            return self.rt.registry.get(type_name)
        except NotFound:
            raise NotFound(f"unknown content type {type_name!r}")

    @staticmethod
    def check_locale(ct: ContentType, locale: str | None) -> None:
        if locale is not None and locale not in ct.locales.supported:
            raise UnknownLocale(
                f"locale {locale!r} is not available for {ct.name}; use one of {', '.join(ct.locales.supported)}"
            )

    def _lookup(self, conn: sa.Connection, ids: list[str]) -> dict[str, tuple[Entry, Revision]]:
        """The entries that references name, by id, as this source serves them (published)."""
        return {e.id: (e, r) for e, r in store.published_entries(conn, ids=ids)}

    def _render(
        self, conn: sa.Connection, ct: ContentType, entry: Entry, rev: Revision, locale: str | None
    ) -> Rendered:
        body = envelope(ct, entry, rev, locale)
        keys = [f"entry:{entry.id}"]
        refs = references_of(ct, body["data"])
        included: list[dict[str, Any]] = []
        if refs:
            keys.extend(f"entry:{r}" for r in refs)
            by_id = self._lookup(conn, refs)
            for ref in refs:
                if ref in by_id:
                    ref_entry, ref_rev = by_id[ref]
                    ref_ct = self.rt.registry.get(ref_entry.type)
                    included.append(
                        envelope(ref_ct, ref_entry, ref_rev, locale if locale in ref_ct.locales.supported else None)
                    )
        body["included"] = included
        self._assets(conn, ct, body, keys, locale)
        facts = {
            "content_id": entry.id,
            "schema_id": rev.schema_id,
            "schema_version": rev.schema_version,
            "revision": rev.number,
        }
        return Rendered(body, keys, facts)

    def _assets(
        self, conn: sa.Connection, ct: ContentType, body: dict[str, Any], keys: list[str], locale: str | None
    ) -> None:
        """``assets``: what a front end needs for each image ``data`` references; each one's
        surrogate key joins the response's, so an asset's change purges the pages showing it."""
        refs = [ref for _ptr, _c, ref in find_asset_references(ct.schema, body["data"])]
        if not refs:
            return
        config = asset_settings(self.rt.settings)
        found = load_assets(conn, refs)
        body["assets"] = {
            ref: delivered(found[ref], locale or ct.locales.default, config, self.rt.settings.secret_key)
            for ref in dict.fromkeys(refs)
            if ref in found
        }
        keys.extend(f"asset:{ref}" for ref in body["assets"])

    def page(self, slug: str, locale: str | None) -> Rendered | None:
        ct = self._type(PAGE_TYPE)
        self.check_locale(ct, locale)
        with self.rt.read() as conn:
            found = store.published_by_slug(conn, PAGE_TYPE, slug)
            return self._render(conn, ct, *found, locale) if found else None

    def entry(self, type_name: str, entry_id: str, locale: str | None) -> Rendered | None:
        ct = self._type(type_name)
        self.check_locale(ct, locale)
        with self.rt.read() as conn:
            found = store.published_by_id(conn, type_name, entry_id)
            return self._render(conn, ct, *found, locale) if found else None

    def entries(
        self, type_name: str, locale: str | None, *, cursor: str | None, limit: int, filters: dict[str, str]
    ) -> RenderedList:
        ct = self._type(type_name)
        self.check_locale(ct, locale)
        checks = self._filters(ct, filters)
        after = decode_cursor(cursor) if cursor else None
        items: list[Rendered] = []
        last: str | None = None
        more = False
        with self.rt.read() as conn:
            while len(items) < limit:
                batch = store.published_entries(conn, type_name, after=after, limit=max(limit * 2, 50))
                if not batch:
                    break
                for entry, rev in batch:
                    after = entry.id
                    rendered = self._render(conn, ct, entry, rev, locale)
                    if all(matches(rendered.body["data"].get(f), v) for f, v in checks.items()):
                        if len(items) == limit:
                            more = True
                            break
                        items.append(rendered)
                        last = entry.id
                if more:
                    break
        keys = [f"type:{type_name}"] + [k for r in items for k in r.surrogate_keys]
        return RenderedList(items, encode_cursor(last) if more and last else None, list(dict.fromkeys(keys)))

    @staticmethod
    def _filters(ct: ContentType, filters: dict[str, str]) -> dict[str, str]:
        props = ct.schema.get("properties", {})
        for name in filters:
            prop = props.get(name)
            if not isinstance(prop, dict) or prop.get("type") not in ("string", "number", "integer", "boolean"):
                scalar = [
                    k
                    for k, v in props.items()
                    if isinstance(v, dict) and v.get("type") in ("string", "number", "integer", "boolean")
                ]
                raise BadRequest(f"cannot filter {ct.name} by {name!r}; filterable fields: {', '.join(scalar)}")
        return filters


def matches(value: Any, wanted: str) -> bool:
    """Does a top-level scalar ``value`` equal the ``fields.<name>`` filter value ``wanted``?"""
    if isinstance(value, bool):
        return str(value).lower() == wanted.lower()
    if isinstance(value, int | float):
        try:
            return float(value) == float(wanted)
        except ValueError:
            return False
    return value == wanted
