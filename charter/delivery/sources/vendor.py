"""What every adapter onto another CMS's REST API shares (Directus, Strapi, a plugin's own).

A :class:`VendorSource` turns the vendor's published items into Charter's v1 envelope so that a
front end cannot tell which CMS is behind the delivery API:

* **Identity**: an entry's id is the vendor's id of its default-locale item (Directus: the primary
  key; Strapi: the ``documentId``), whichever locale is read.
* **Locales**: the items of the locales a request may fall back through are read and the content
  type's fallback chain is applied field by field, exactly as for the embedded store
  (:meth:`charter.schemas.registry.ContentType.resolve`); only ``x-charter.localized`` fields are
  taken from a translation.
* **References**: values at ``x-charter-ref`` positions are vendor ids; the entries they name are
  read and returned in ``included``, and their ``entry:<id>`` surrogate keys are added.
* **Validation**: every document is validated against its content type before it is served. A
  vendor item that does not validate is never served half-shaped: the request fails with a 502
  problem (:class:`charter.exceptions.SourceContentInvalid`) that names the item and lists the
  errors, and the failure is logged (``source_content_invalid``).

An implementer provides the vendor's reads (:meth:`VendorSource.fetch_by_id`,
:meth:`VendorSource.fetch_list`, :meth:`VendorSource.fetch_translations`) and the vendor's item
facts (:meth:`VendorSource.item_id`, :meth:`VendorSource.item_field`, ...); the options of source
``name`` are the table ``[charter.sources.<name>]`` (docs/sources.md).
"""

from __future__ import annotations

import base64
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import structlog

from charter import egress
from charter.content.models import Entry, Revision
from charter.delivery.envelope import Rendered
from charter.delivery.sources.base import RenderedList
from charter.delivery.sources.embedded import PAGE_TYPE, EmbeddedSource
from charter.exceptions import BadRequest, ConfigError, NotFound, SourceContentInvalid, UpstreamUnavailable
from charter.runtime import Runtime
from charter.schemas.references import find_references
from charter.schemas.registry import ContentType

log = structlog.get_logger("charter.delivery.sources")

#: The largest page read from a vendor in one request.
CHUNK = 100


@dataclass(frozen=True)
class TypeMap:
    """How one Charter content type reads from one vendor collection (``[charter.sources.<name>.types.<type>]``)."""

    name: str
    collection: str
    #: Charter field -> vendor field (default: the same name).
    fields: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, source: str, name: str, raw: Any, extra: frozenset[str] = frozenset()) -> TypeMap:
        where = f"[charter.sources.{source}.types.{name}]"
        if not isinstance(raw, dict) or not isinstance(raw.get("collection"), str) or not raw["collection"]:
            raise ConfigError(f"{where} needs collection = '<the {source} collection>'")
        fields = raw.get("fields") or {}
        if not isinstance(fields, dict):
            raise ConfigError(f"{where}: fields maps Charter fields to {source} fields")
        unknown = set(raw) - {"collection", "fields"} - extra
        if unknown:
            known = ", ".join(["collection", "fields", *sorted(extra)])
            raise ConfigError(f"{where}: unknown option(s) {', '.join(sorted(unknown))}; use {known}")
        return cls(name, raw["collection"], {str(k): str(v) for k, v in fields.items()})

    def vendor_field(self, name: str) -> str:
        return self.fields.get(name, name)


@dataclass(frozen=True)
class SourceChange:
    """One change a vendor's webhook reported, tied to Charter's names."""

    type: str  #: the Charter content type
    vendor_id: str  #: the vendor's id of the changed item (a translation's own id)
    action: str  #: create | update | delete | publish | unpublish
    entry_id: str | None  #: the entry it belongs to, or None when that cannot be told (a deleted translation)
    #: When the vendor says the item changed (its updated_at), where the webhook or a read tells;
    #: the event's ``occurred_at``, so retrieval's freshness lag runs from the editor's save.
    changed_at: datetime | None = None

    def surrogate_keys(self, source: str) -> list[str]:
        """What the change makes stale: the entry (and every page that includes it) and its type's
        lists; a change that cannot be tied to an entry, everything read from the source."""
        keys = [f"entry:{self.entry_id}"] if self.entry_id else [f"source:{source}"]
        return [*keys, f"type:{self.type}"]


@dataclass
class Fetched:
    """One page of a vendor listing: its items and the total that match."""

    items: list[dict[str, Any]]
    total: int


class VendorSource:
    """Base of the adapters onto other CMSs; see the module docstring for the contract."""

    #: The source's name (``source = "<name>"``, ``[charter.sources.<name>]``).
    name = "vendor"
    #: The options the subclass reads besides url, token, token_env, timeout, types, locales and webhook_secret.
    extra_options: frozenset[str] = frozenset()
    #: The options of a type's table the subclass reads besides collection and fields.
    type_options: frozenset[str] = frozenset()
    #: Whether the vendor's ids repeat across collections (Directus's integer keys do): the
    #: retrieval indexes, which hold several types in one index, then name an entry
    #: ``<type>:<id>`` (:meth:`index_id`), a form :meth:`entry` also reads.
    ids_per_collection = False
    #: Set on the copy :meth:`previewing` returns: the entry whose draft it reads (and its type,
    #: where the token's id names it: ``<type>:<id>``).
    preview_id: str | None = None
    preview_type: str | None = None

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        options = dict(rt.settings.sources.get(self.name) or {})
        where = f"[charter.sources.{self.name}]"
        url = os.environ.get(f"CHARTER_{self.name.upper()}_URL") or options.get("url")
        if not isinstance(url, str) or not url:
            raise ConfigError(f"source = {self.name!r} needs url in {where} (or CHARTER_{self.name.upper()}_URL)")
        unknown = (
            set(options)
            - {"url", "token", "token_env", "timeout", "types", "locales", "webhook_secret"}
            - self.extra_options
        )
        if unknown:
            raise ConfigError(f"{where}: unknown option(s) {', '.join(sorted(unknown))} (docs/sources.md)")
        self.url = url.rstrip("/")
        self.options = options
        token_env = options.get("token_env") or f"CHARTER_{self.name.upper()}_TOKEN"
        self.token: str = str(os.environ.get(str(token_env)) or options.get("token") or "")
        types = options.get("types") or {}
        if not isinstance(types, dict) or not types:
            raise ConfigError(f"source = {self.name!r} needs [charter.sources.{self.name}.types.<type>] tables")
        self.types = {name: TypeMap.from_dict(self.name, name, raw, self.type_options) for name, raw in types.items()}
        for name in self.types:
            try:
                rt.registry.get(name)
            except NotFound:
                raise ConfigError(f"[charter.sources.{self.name}.types.{name}]: {name!r} is not a content type")
        self.by_collection = {tm.collection: tm for tm in self.types.values()}
        secret_env = f"CHARTER_{self.name.upper()}_WEBHOOK_SECRET"
        self.webhook_secret: str = str(os.environ.get(secret_env) or options.get("webhook_secret") or "")
        self.locale_codes: dict[str, str] = {str(k): str(v) for k, v in (options.get("locales") or {}).items()}
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        try:
            self.http = egress.client(
                egress.policy_for(rt.settings),
                base_url=self.url + "/",
                timeout=float(options.get("timeout", 10)),
                headers=headers,
            )
        except egress.Refused as exc:
            raise ConfigError(f"{where} url {self.url!r} is refused: {exc}") from None

    def close(self) -> None:
        self.http.close()

    # -- what an adapter implements ----------------------------------------------------------

    def fetch_by_id(self, tm: TypeMap, ct: ContentType, entry_id: str, *, draft: bool = False) -> dict[str, Any] | None:
        """The published default-locale item with this id, or None; with ``draft``, the version an
        editor is working on (published or not), for previews."""
        raise NotImplementedError

    def fetch_list(self, tm: TypeMap, ct: ContentType, equals: dict[str, str], offset: int, limit: int) -> Fetched:
        """Published default-locale items whose vendor fields equal ``equals``, ordered by id."""
        raise NotImplementedError

    def fetch_translations(
        self, tm: TypeMap, ct: ContentType, item: dict[str, Any], locales: list[str], *, draft: bool = False
    ) -> dict[str, dict[str, Any]]:
        """``{vendor locale: published item}`` of ``item``'s translations into ``locales`` (vendor
        codes); with ``draft``, their draft versions."""
        raise NotImplementedError

    def webhook_changes(self, payload: Any) -> list[SourceChange]:
        """The changes a webhook call from the vendor reports (an unknown collection: none). A
        payload that is not the vendor's webhook shape is a :class:`BadRequest`."""
        raise NotFound(f"source {self.name!r} takes no webhooks")

    def model_fields(self, tm: TypeMap) -> list[Any]:
        """The vendor's description of ``tm``'s collection as
        :class:`charter.delivery.schema_import.VendorField` values (``charter schema import``),
        convention fields (status, locale, ids, timestamps) left out."""
        raise BadRequest(f"source {self.name!r} cannot describe its models")

    def item_id(self, item: dict[str, Any]) -> str:
        return str(item["id"])

    def item_field(self, tm: TypeMap, item: dict[str, Any], name: str) -> Any:
        return item.get(tm.vendor_field(name))

    def item_published_at(self, item: dict[str, Any]) -> str | None:
        return None

    def item_updated_at(self, item: dict[str, Any]) -> datetime | None:
        """When the vendor last changed the item (its own timestamp), or None."""
        return None

    def item_revision(self, item: dict[str, Any]) -> int:
        """The item's revision: by default its :meth:`item_updated_at` as a Unix time in seconds
        (so it grows with every saved change, as an embedded revision number does); 0 when the
        vendor keeps no timestamp."""
        updated = self.item_updated_at(item)
        return int(updated.timestamp()) if updated is not None else 0

    # -- the ContentSource interface ---------------------------------------------------------

    def page(self, slug: str, locale: str | None) -> Rendered | None:
        tm, ct = self._type(PAGE_TYPE)
        EmbeddedSource.check_locale(ct, locale)
        slug_field = tm.vendor_field(ct.slug_field or "slug")
        if self.preview_id is not None and self.preview_type in (None, tm.name):
            draft = self.fetch_by_id(tm, ct, self.preview_id, draft=True)
            if draft is not None and self.item_field(tm, draft, ct.slug_field or "slug") == slug:
                return self._render(tm, ct, draft, locale)
        found = self.fetch_list(tm, ct, {slug_field: slug}, 0, 1).items
        if found and self._is_previewed(tm, found[0]):
            return None  # the previewed draft moved the page to another slug
        return self._render(tm, ct, found[0], locale) if found else None

    def entry(self, type_name: str, entry_id: str, locale: str | None) -> Rendered | None:
        tm, ct = self._type(type_name)
        EmbeddedSource.check_locale(ct, locale)
        named, vendor_id = self.split_index_id(entry_id)
        if named not in (None, type_name):
            return None
        item = self._fetch(tm, ct, vendor_id)
        return self._render(tm, ct, item, locale) if item is not None else None

    def entries(
        self, type_name: str, locale: str | None, *, cursor: str | None, limit: int, filters: dict[str, str]
    ) -> RenderedList:
        tm, ct = self._type(type_name)
        EmbeddedSource.check_locale(ct, locale)
        EmbeddedSource._filters(ct, filters)
        equals = {tm.vendor_field(name): value for name, value in filters.items()}
        offset = decode_offset(cursor) if cursor else 0
        items: list[dict[str, Any]] = []
        total = 0
        while len(items) < limit:
            page = self.fetch_list(tm, ct, equals, offset + len(items), min(CHUNK, limit - len(items)))
            total = page.total
            items.extend(page.items)
            if not page.items or offset + len(items) >= total:
                break
        if self.preview_id is not None:
            # The previewed entry's draft stands in for its published version (a draft that is
            # not published yet is not listed: lists page through the vendor's published items).
            items = [
                (self._fetch(tm, ct, self.item_id(item)) or item) if self._is_previewed(tm, item) else item
                for item in items
            ]
        rendered = [self._render(tm, ct, item, locale) for item in items]
        more = offset + len(items) < total
        keys = [f"type:{type_name}"] + [k for r in rendered for k in r.surrogate_keys] + [f"source:{self.name}"]
        return RenderedList(rendered, encode_offset(offset + len(items)) if more else None, list(dict.fromkeys(keys)))

    # -- rendering ---------------------------------------------------------------------------

    def _render(self, tm: TypeMap, ct: ContentType, item: dict[str, Any], locale: str | None) -> Rendered:
        body = self._envelope(tm, ct, item, locale)
        refs = _references(ct.schema, body["data"])
        included: list[dict[str, Any]] = []
        for ref_type, ref_id in refs:
            if ref_type not in self.types:
                continue
            ref_tm, ref_ct = self._type(ref_type)
            ref_item = self._fetch(ref_tm, ref_ct, ref_id)
            if ref_item is None:
                continue  # as for the embedded store: an unpublished reference is left out of included
            ref_locale = locale if locale in ref_ct.locales.supported else None
            included.append(self._envelope(ref_tm, ref_ct, ref_item, ref_locale))
        body["included"] = included
        keys = [f"entry:{body['id']}"] + [f"entry:{ref_id}" for _t, ref_id in refs] + [f"source:{self.name}"]
        facts = {
            "content_id": body["id"],
            "schema_id": ct.schema_id,
            "schema_version": ct.version,
            "revision": body["revision"],
            "source": self.name,
        }
        if self.preview_id is not None:
            return Rendered(body, [], {**facts, "preview": "entry"})  # a preview is never cached
        return Rendered(body, list(dict.fromkeys(keys)), facts)

    def _envelope(self, tm: TypeMap, ct: ContentType, item: dict[str, Any], locale: str | None) -> dict[str, Any]:
        default = ct.locales.default
        translations = {default: item}
        wanted = [code for code in ct.locales.chain(locale or default) if code != default]
        if wanted and ct.localized:
            by_vendor = self.fetch_translations(
                tm, ct, item, [self.vendor_locale(c) for c in wanted], draft=self._is_previewed(tm, item)
            )
            for code in wanted:
                if self.vendor_locale(code) in by_vendor:
                    translations[code] = by_vendor[self.vendor_locale(code)]
        data: dict[str, dict[str, Any]] = {}
        for code, translation in translations.items():
            doc = self._document(tm, ct, translation)
            data[code] = doc if code == default else {k: v for k, v in doc.items() if k in ct.localized}
        doc, resolved = ct.resolve(data, locale)
        entry_id = self.item_id(item)
        check_served(self.name, ct, entry_id, doc, f"{tm.collection}, locale {resolved}")
        shown = translations[resolved]
        return {
            "id": entry_id,
            "type": ct.name,
            "schema": {"id": ct.schema_id, "version": ct.version},
            "locale": {"requested": locale or default, "resolved": resolved},
            # Every item the document was built from counts: a change to the default locale's
            # non-localised price changes a German page as much as the German title does.
            "revision": max(self.item_revision(t) for t in translations.values()),
            "published_at": self.item_published_at(shown),
            "data": doc,
        }

    def _document(self, tm: TypeMap, ct: ContentType, item: dict[str, Any]) -> dict[str, Any]:
        """One vendor item as a Charter document (before locale resolution); empty values are left out."""
        doc: dict[str, Any] = {}
        for name in ct.schema.get("properties") or {}:
            value = self.item_field(tm, item, name)
            if value is not None and value != "" and value != []:
                doc[name] = value
        return doc

    # -- previews ----------------------------------------------------------------------------

    def previewing(self, entry_id: str) -> VendorSource:
        """A copy of this source that reads ``entry_id``'s draft (Strapi: ``status=draft``;
        Directus: the item whatever its status) wherever the entry appears, and everything else as
        published; its renders carry no surrogate keys (a preview is never cached)."""
        copy = object.__new__(type(self))
        copy.__dict__.update(self.__dict__)
        copy.preview_type, copy.preview_id = self.split_index_id(entry_id)
        return copy

    def has_entry(self, entry_id: str) -> bool:
        """Whether some mapped type has an entry (draft or published) with this id: what minting
        a preview token checks."""
        named, vendor_id = self.split_index_id(entry_id)
        for tm in self.types.values():
            if named in (None, tm.name) and self.fetch_by_id(tm, self._type(tm.name)[1], vendor_id, draft=True):
                return True
        return False

    def _previewed(self, tm: TypeMap, entry_id: str) -> bool:
        return entry_id == self.preview_id and self.preview_type in (None, tm.name)

    def _is_previewed(self, tm: TypeMap, item: dict[str, Any]) -> bool:
        return self.preview_id is not None and self._previewed(tm, self.item_id(item))

    def _fetch(self, tm: TypeMap, ct: ContentType, entry_id: str) -> dict[str, Any] | None:
        """An entry's item as this source serves it: the draft when it is the previewed entry."""
        return self.fetch_by_id(tm, ct, entry_id, draft=self._previewed(tm, entry_id))

    # -- retrieval -----------------------------------------------------------------------------

    def index_id(self, type_name: str, entry_id: str) -> str:
        """The id the retrieval indexes (and answers' citations) give an entry: its entry id, or
        ``<type>:<id>`` where the vendor's ids repeat across collections."""
        return f"{type_name}:{entry_id}" if self.ids_per_collection else entry_id

    def split_index_id(self, value: str) -> tuple[str | None, str]:
        """``(type, entry id)`` of an :meth:`index_id` (type None: the id alone)."""
        if self.ids_per_collection and ":" in value:
            type_name, _, entry_id = value.partition(":")
            if type_name in self.types:
                return type_name, entry_id
        return None, value

    def index_ids(self, payload: dict[str, Any]) -> list[str] | None:
        """The index ids a ``source.changed`` payload makes stale; None when that cannot be told
        (a deleted item that may have been a translation: the indexes are then reconciled)."""
        type_name, entry_id = str(payload.get("type")), payload.get("id")
        if isinstance(entry_id, str):
            return [self.index_id(type_name, entry_id)]
        vendor_id = payload.get("vendor_id")
        if payload.get("action") == "delete" and isinstance(vendor_id, str):
            return None
        return []

    def published_entries(
        self, types: list[str] | None = None, ids: list[str] | None = None
    ) -> list[tuple[Entry, Revision]]:
        """The vendor's published entries of ``types`` (every mapped type when None), or those
        with the index ids ``ids``, as the embedded store's (Entry, Revision) pairs: what the
        retrieval indexes are built from. A revision's data holds the default locale whole and
        each other locale's own localised fields (as Charter stores them); ids are
        :meth:`index_id`, revision numbers :meth:`item_revision`. An item that does not validate
        against its content type is left out and logged (``source_content_invalid``)."""
        names = [t for t in (types if types is not None else list(self.types)) if t in self.types]
        out: list[tuple[Entry, Revision]] = []
        if ids is not None:
            for value in ids:
                named, entry_id = self.split_index_id(value)
                for name in names:
                    if named not in (None, name):
                        continue
                    tm, ct = self._type(name)
                    item = self.fetch_by_id(tm, ct, entry_id)
                    pair = self._stored(tm, ct, item) if item is not None else None
                    if pair is not None:
                        out.append(pair)
                        break
            return out
        for name in names:
            tm, ct = self._type(name)
            offset = 0
            while True:
                page = self.fetch_list(tm, ct, {}, offset, CHUNK)
                for item in page.items:
                    pair = self._stored(tm, ct, item)
                    if pair is not None:
                        out.append(pair)
                offset += len(page.items)
                if not page.items or offset >= page.total:
                    break
        return out

    def _stored(self, tm: TypeMap, ct: ContentType, item: dict[str, Any]) -> tuple[Entry, Revision] | None:
        default = ct.locales.default
        others = [code for code in ct.locales.supported if code != default]
        read = [item]
        data: dict[str, Any] = {default: self._document(tm, ct, item)}
        if others and ct.localized:
            found = self.fetch_translations(tm, ct, item, [self.vendor_locale(c) for c in others])
            for code in others:
                version = found.get(self.vendor_locale(code))
                if version is None:
                    continue
                read.append(version)
                own = {k: v for k, v in self._document(tm, ct, version).items() if k in ct.localized}
                if own:
                    data[code] = own
        entry_id = self.item_id(item)
        key = self.index_id(ct.name, entry_id)

        def when() -> tuple[int, datetime, datetime | None]:
            stamps = [t for t in (self.item_updated_at(i) for i in read) if t is not None]
            updated = max(stamps) if stamps else datetime.now(UTC)
            return max(self.item_revision(i) for i in read), updated, parse_time(self.item_published_at(item))

        slug = data.get(default, {}).get(ct.slug_field) if ct.slug_field else None
        return published_copy(self.name, ct, data, entry_id, key, slug, when, where=f"{tm.collection}, not indexed")

    # -- helpers -----------------------------------------------------------------------------

    def _type(self, name: str) -> tuple[TypeMap, ContentType]:
        tm = self.types.get(name)
        if tm is None:
            raise NotFound(f"unknown content type {name!r}")
        return tm, self.rt.registry.get(name)

    def vendor_locale(self, code: str) -> str:
        """The vendor's code for a Charter locale (``[charter.sources.<name>.locales]``; default: the same)."""
        return self.locale_codes.get(code, code)

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """One call to the vendor's API: the JSON body, or None on 404. A vendor that is down or
        answers oddly is an :class:`UpstreamUnavailable` (502); a query it refuses (400), a
        :class:`BadRequest`."""
        try:
            response = self.http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise UpstreamUnavailable(f"{self.name} at {self.url} is unreachable: {type(exc).__name__}: {exc}")
        if response.status_code == 404:
            return None
        if response.status_code == 400:
            raise BadRequest(f"{self.name} refused the query: {response.text[:300]}")
        if response.status_code in (401, 403):
            raise UpstreamUnavailable(
                f"{self.name} at {self.url} refused Charter's token ({response.status_code}) for {path}; "
                f"check token / token_env in [charter.sources.{self.name}]"
            )
        if response.status_code >= 300:
            raise UpstreamUnavailable(f"{self.name} at {self.url} answered {response.status_code} for {path}")
        try:
            return response.json()
        except ValueError:
            raise UpstreamUnavailable(f"{self.name} at {self.url} answered {path} with something that is not JSON")


def _log_invalid(source: str, ct: ContentType, entry_id: str, where: str, errors: Sequence[Any]) -> None:
    """``source_content_invalid``: an item of another CMS that does not validate, and why (20 errors at most)."""
    log.warning(
        "source_content_invalid",
        source=source,
        type=ct.name,
        entry_id=entry_id,
        where=where,
        errors=[e.to_dict() for e in errors[:20]],
    )


def check_served(source: str, ct: ContentType, entry_id: str, doc: dict[str, Any], where: str) -> None:
    """Refuse to serve a document read from another CMS that does not validate against its content
    type: log ``source_content_invalid`` and raise :class:`SourceContentInvalid` (a 502 problem
    naming the item and listing the errors)."""
    errors = ct.validate_document(doc)
    if not errors:
        return
    _log_invalid(source, ct, entry_id, where, errors)
    raise SourceContentInvalid(
        f"{source} item {entry_id} ({where}) does not validate against {ct.schema_id}; "
        f"it is not served until it is fixed in {source}",
        errors=errors[:20],
        extra={"source": source, "entry_id": entry_id, "content_type": ct.name},
    )


def parse_time(value: Any) -> datetime | None:
    """A vendor's ISO 8601 timestamp as an aware datetime (None when absent or unreadable)."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def encode_offset(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode().rstrip("=")


def decode_offset(cursor: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        if raw.startswith("o:") and raw[2:].isdigit() and len(raw) < 12:
            return int(raw[2:])
    except (ValueError, UnicodeDecodeError):
        pass
    raise BadRequest(f"cursor {cursor!r} is not valid; use next_cursor from a previous response")


def _references(schema: dict[str, Any], doc: dict[str, Any]) -> list[tuple[str, str]]:
    seen: dict[tuple[str, str], None] = {}
    for _ptr, target, ref in find_references(schema, doc):
        seen[(target, str(ref))] = None
    return list(seen)


def published_copy(
    source: str,
    ct: ContentType,
    data: dict[str, Any],
    entry_id: str,
    key: str,
    slug: Any,
    when: Callable[[], tuple[int, datetime, datetime | None]],
    *,
    where: str,
) -> tuple[Entry, Revision] | None:
    """A vendor item's published content as Charter's own ``(Entry, Revision)`` (what retrieval
    indexes and the delivery API's envelope is built from), or None, logged, when ``data`` (by
    locale) does not validate against ``ct``: such an item is left out rather than served broken.

    ``entry_id`` is the vendor's id (logged), ``key`` the id Charter keeps, ``when`` gives the
    revision number, the last update and the publication time (None: the last update), read only
    for valid content. One place for every vendor source (Strapi, Directus, Wagtail)."""
    errors = ct.validate(data)
    if errors:
        _log_invalid(source, ct, entry_id, where, errors)
        return None
    number, updated, published = when()
    published = published or updated
    author = f"source:{source}"
    entry = Entry(
        id=key,
        type=ct.name,
        slug=str(slug) if slug is not None else None,
        current_revision=number,
        published_revision=number,
        published_at=published,
        created_at=published,
        updated_at=updated,
        deleted_at=None,
        created_by=author,
    )
    revision = Revision(
        entry_id=key,
        number=number,
        data=data,
        schema_id=ct.schema_id,
        schema_version=ct.version,
        author=author,
        created_at=updated,
        message=None,
        action="publish",
    )
    return entry, revision
