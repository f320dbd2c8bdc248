"""A Wagtail site (API v2) as a content source: its published pages in Charter's v1 envelope.

Each Charter content type maps onto one Wagtail page model (``[charter.wagtail.types.<type>]``):
``model`` names it (``app_label.ModelName``), ``fields`` maps Charter fields to Wagtail API fields
(default: the same name; the slug field reads ``meta.slug``) and ``streams`` maps Charter fields to
StreamFields whose blocks are intents (block ``feature_grid`` -> ``{"intent": "feature-grid", ...}``).

Identity: an entry's id is the Wagtail page id of its default-locale translation, whichever locale
is read; page-chooser values at ``x-charter-ref`` positions are mapped to those ids. Locales: every
translation is read (``translation_of``) and the content type's fallback chain is applied field
by field, exactly as for the embedded store (:meth:`charter.schemas.registry.ContentType.resolve`).
The adapter never writes to Wagtail and keeps no state but its HTTP connection pool.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any

import httpx

from charter import egress
from charter.delivery.envelope import Rendered
from charter.delivery.sources.base import RenderedList
from charter.delivery.sources.embedded import PAGE_TYPE, EmbeddedSource
from charter.delivery.sources.vendor import check_served, parse_time, published_copy
from charter.exceptions import BadRequest, ConfigError, NotFound, UpstreamUnavailable
from charter.runtime import Runtime
from charter.schemas.registry import ContentType
from charter.schemas.validation import resolve_local_ref

#: Wagtail's default WAGTAILAPI_LIMIT_MAX: listings are read in chunks of at most this many.
CHUNK = 20


@dataclass(frozen=True)
class TypeMap:
    """How one Charter content type reads from one Wagtail page model."""

    name: str
    model: str
    fields: dict[str, str] = field(default_factory=dict)
    streams: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, name: str, raw: Any) -> TypeMap:
        if not isinstance(raw, dict) or not isinstance(raw.get("model"), str) or "." not in raw["model"]:
            raise ConfigError(f"[charter.wagtail.types.{name}] needs model = 'app_label.ModelName'")
        fields, streams = raw.get("fields") or {}, raw.get("streams") or {}
        if not isinstance(fields, dict) or not isinstance(streams, dict):
            raise ConfigError(
                f"[charter.wagtail.types.{name}]: fields and streams map Charter fields to Wagtail fields"
            )
        return cls(
            name,
            raw["model"],
            {str(k): str(v) for k, v in fields.items()},
            {str(k): str(v) for k, v in streams.items()},
        )


class WagtailSource:
    def __init__(self, rt: Runtime) -> None:
        settings = rt.settings
        if not settings.wagtail_url:
            raise ConfigError("source = 'wagtail' needs wagtail_url (the Wagtail site, e.g. http://127.0.0.1:8001)")
        self.rt = rt
        self.url = settings.wagtail_url.rstrip("/")
        config = settings.wagtail or {}
        types = config.get("types") or {}
        if not isinstance(types, dict) or not types:
            raise ConfigError("source = 'wagtail' needs [charter.wagtail.types.<type>] tables (docs/delivery-api.md)")
        self.types = {name: TypeMap.from_dict(name, raw) for name, raw in types.items()}
        for name in self.types:
            rt.registry.get(name)  # each mapped type must be a content type of the project
        self.by_model = {tm.model.lower(): tm for tm in self.types.values()}
        self.locale_codes: dict[str, str] = {str(k): str(v) for k, v in (config.get("locales") or {}).items()}
        interval = config.get("poll_interval", 0)
        if not isinstance(interval, int | float) or isinstance(interval, bool) or interval < 0:
            raise ConfigError("[charter.wagtail] poll_interval is a number of seconds (0: no polling)")
        from charter.delivery.sources.polling import Poller

        #: Wagtail sends no webhooks: with ``poll_interval`` its changes are polled (docs/sources.md).
        self.poller = Poller(float(interval)) if interval else None
        try:
            self.http = egress.client(
                egress.policy_for(settings), base_url=self.url + "/api/v2/", timeout=float(config.get("timeout", 10))
            )
        except egress.Refused as exc:
            raise ConfigError(f"wagtail_url {self.url!r} is refused: {exc}") from None

    def close(self) -> None:
        self.http.close()

    # -- the ContentSource interface ---------------------------------------------------------

    def page(self, slug: str, locale: str | None) -> Rendered | None:
        tm, ct = self._type(PAGE_TYPE)
        EmbeddedSource.check_locale(ct, locale)
        found = self._list(tm, ct, {"slug": slug}, limit=1)
        return self._render(tm, ct, found[0], locale) if found else None

    def entry(self, type_name: str, entry_id: str, locale: str | None) -> Rendered | None:
        tm, ct = self._type(type_name)
        EmbeddedSource.check_locale(ct, locale)
        if not entry_id.isdigit() or len(entry_id) > 18:
            return None
        item = self._get(f"pages/{entry_id}/")
        if item is None or item["meta"].get("type", "").lower() != tm.model.lower():
            return None
        if self._locale(ct, item) != ct.locales.default:
            return None  # ids name the default-locale translation
        return self._render(tm, ct, item, locale)

    def entries(
        self, type_name: str, locale: str | None, *, cursor: str | None, limit: int, filters: dict[str, str]
    ) -> RenderedList:
        tm, ct = self._type(type_name)
        EmbeddedSource.check_locale(ct, locale)
        EmbeddedSource._filters(ct, filters)
        query = {self._wagtail_field(tm, ct, name): value for name, value in filters.items()}
        query["locale"] = self._wagtail_locale(ct.locales.default)
        offset = _decode_offset(cursor) if cursor else 0
        items: list[dict[str, Any]] = []
        total = 0
        while len(items) < limit:
            page = self._query(
                tm, {**query, "order": "id", "offset": offset + len(items), "limit": min(CHUNK, limit - len(items))}
            )
            total = int(page["meta"]["total_count"])
            items.extend(page["items"])
            if not page["items"] or offset + len(items) >= total:
                break
        rendered = [self._render(tm, ct, item, locale) for item in items]
        more = offset + len(items) < total
        keys = [f"type:{type_name}"] + [k for r in rendered for k in r.surrogate_keys]
        return RenderedList(rendered, _encode_offset(offset + len(items)) if more else None, list(dict.fromkeys(keys)))

    # -- rendering ---------------------------------------------------------------------------

    def _render(self, tm: TypeMap, ct: ContentType, item: dict[str, Any], locale: str | None) -> Rendered:
        translations = self._translations(tm, ct, item, locale)
        body = self._envelope(tm, ct, translations, locale)
        included: list[dict[str, Any]] = []
        refs = _references(ct.schema, body["data"])
        for ref_type, ref_id in refs:
            if ref_type not in self.types:
                continue
            ref_tm, ref_ct = self._type(ref_type)
            ref_item = self._get(f"pages/{ref_id}/")
            if ref_item is None:
                continue
            ref_locale = locale if locale in ref_ct.locales.supported else None
            included.append(
                self._envelope(ref_tm, ref_ct, self._translations(ref_tm, ref_ct, ref_item, ref_locale), ref_locale)
            )
        body["included"] = included
        keys = [f"entry:{body['id']}"] + [f"entry:{ref_id}" for _t, ref_id in refs]
        facts = {
            "content_id": body["id"],
            "schema_id": ct.schema_id,
            "schema_version": ct.version,
            "revision": body["revision"],
            "source": "wagtail",
        }
        return Rendered(body, list(dict.fromkeys(keys)), facts)

    def _translations(
        self, tm: TypeMap, ct: ContentType, item: dict[str, Any], locale: str | None
    ) -> dict[str, dict[str, Any]]:
        """``{charter locale: Wagtail item}`` for the locales ``locale`` may fall back through; the
        default-locale translation is always present."""
        found = {self._locale(ct, item): item}
        wanted = set(ct.locales.chain(locale or ct.locales.default))
        if wanted - set(found):
            for other in self._query(tm, {"translation_of": item["id"], "limit": CHUNK})["items"]:
                code = self._locale(ct, other)
                if code in wanted:
                    found[code] = other
        if ct.locales.default not in found:
            raise UpstreamUnavailable(f"Wagtail page {item['id']} has no {ct.locales.default!r} translation")
        return found

    def _envelope(
        self, tm: TypeMap, ct: ContentType, translations: dict[str, dict[str, Any]], locale: str | None
    ) -> dict[str, Any]:
        default = ct.locales.default
        data: dict[str, dict[str, Any]] = {}
        for code, item in translations.items():
            doc = _canonical_refs(ct.schema, self._document(tm, ct, item), self._canonical_id)
            data[code] = doc if code == default else {k: v for k, v in doc.items() if k in ct.localized}
        doc, resolved = ct.resolve(data, locale)
        shown = translations[resolved]
        check_served("wagtail", ct, str(translations[default]["id"]), doc, f"{tm.model}, locale {resolved}")
        return {
            "id": str(translations[default]["id"]),
            "type": ct.name,
            "schema": {"id": ct.schema_id, "version": ct.version},
            "locale": {"requested": locale or default, "resolved": resolved},
            "revision": _revision(shown),
            "published_at": _iso(shown.get("last_published_at") or shown["meta"].get("first_published_at")),
            "data": doc,
        }

    def _document(self, tm: TypeMap, ct: ContentType, item: dict[str, Any]) -> dict[str, Any]:
        """One translation as a Charter document (before locale resolution)."""
        doc: dict[str, Any] = {}
        for name in ct.schema.get("properties") or {}:
            if name in tm.streams:
                value: Any = [_section(block) for block in item.get(tm.streams[name]) or []]
            elif name == ct.slug_field and name not in tm.fields:
                value = item["meta"].get("slug")
            else:
                value = item.get(tm.fields.get(name, name))
            if value is not None and value != "":
                doc[name] = value
        return doc

    def _canonical_id(self, page_id: Any) -> Any:
        """The default-locale translation's id for a chosen page (any locale's id)."""
        if not isinstance(page_id, int):
            return page_id
        item = self._get(f"pages/{page_id}/")
        if item is None:
            return str(page_id)
        tm = self.by_model.get(item["meta"].get("type", "").lower())
        if tm is None:
            return str(page_id)
        _tm, ct = self._type(tm.name)
        if self._locale(ct, item) == ct.locales.default:
            return str(page_id)
        wagtail_default = self._wagtail_locale(ct.locales.default)
        found = self._query(tm, {"translation_of": page_id, "locale": wagtail_default, "limit": 1})["items"]
        return str(found[0]["id"]) if found else str(page_id)

    # -- retrieval -----------------------------------------------------------------------------

    def published_entries(self, types: list[str] | None = None, ids: list[str] | None = None) -> list[tuple[Any, Any]]:
        """The live pages of ``types`` (or with the page ids ``ids``) as (Entry, Revision) pairs
        for the retrieval indexes: the default-locale page's id, every translation's localised
        fields, the newest live revision of them as the revision number. A page that does not
        validate against its content type is left out and logged (``source_content_invalid``)."""
        names = [t for t in (types if types is not None else list(self.types)) if t in self.types]
        items: list[tuple[TypeMap, ContentType, dict[str, Any]]] = []
        if ids is not None:
            for page_id in ids:
                item = self._get(f"pages/{page_id}/") if page_id.isdigit() and len(page_id) < 19 else None
                tm = self.by_model.get(str((item or {}).get("meta", {}).get("type", "")).lower())
                if item is None or tm is None or tm.name not in names:
                    continue
                ct = self._type(tm.name)[1]
                if self._locale(ct, item) == ct.locales.default:
                    items.append((tm, ct, item))
        else:
            for name in names:
                tm, ct = self._type(name)
                query = {"locale": self._wagtail_locale(ct.locales.default), "order": "id"}
                offset = 0
                while True:
                    page = self._query(tm, {**query, "offset": offset, "limit": CHUNK})
                    items.extend((tm, ct, item) for item in page["items"])
                    offset += len(page["items"])
                    if not page["items"] or offset >= int(page["meta"]["total_count"]):
                        break
        out = []
        for tm, ct, item in items:
            pair = self._stored(tm, ct, item)
            if pair is not None:
                out.append(pair)
        return out

    def index_ids(self, payload: dict[str, Any]) -> list[str] | None:
        """The pages a ``source.changed`` payload names (Wagtail page ids are site-wide)."""
        entry_id = payload.get("id")
        if isinstance(entry_id, str):
            return [entry_id]
        return None if payload.get("action") == "delete" else []

    def _stored(self, tm: TypeMap, ct: ContentType, item: dict[str, Any]) -> tuple[Any, Any] | None:
        from datetime import UTC, datetime

        default = ct.locales.default
        translations = self._translations(tm, ct, item, None)
        if len(ct.locales.supported) > 1 and ct.localized:
            for other in self._query(tm, {"translation_of": item["id"], "limit": CHUNK})["items"]:
                translations.setdefault(self._locale(ct, other), other)
        data: dict[str, Any] = {}
        for code, version in translations.items():
            if code not in ct.locales.supported:
                continue
            doc = _canonical_refs(ct.schema, self._document(tm, ct, version), self._canonical_id)
            own = doc if code == default else {k: v for k, v in doc.items() if k in ct.localized}
            if own:
                data[code] = own
        entry_id = str(item["id"])

        def when() -> tuple[int, datetime, datetime | None]:
            stamps = [
                t
                for t in (
                    parse_time(v.get("last_published_at") or v["meta"].get("first_published_at"))
                    for v in translations.values()
                )
                if t is not None
            ]
            return max(_revision(v) for v in translations.values()), max(stamps) if stamps else datetime.now(UTC), None

        slug = data.get(default, {}).get(ct.slug_field) if ct.slug_field else item["meta"].get("slug")
        return published_copy("wagtail", ct, data, entry_id, entry_id, slug, when, where=f"{tm.model}, not indexed")

    # -- Wagtail API plumbing ----------------------------------------------------------------

    def _type(self, name: str) -> tuple[TypeMap, ContentType]:
        tm = self.types.get(name)
        if tm is None:
            raise NotFound(f"unknown content type {name!r}")
        return tm, self.rt.registry.get(name)

    def _wagtail_locale(self, code: str) -> str:
        return self.locale_codes.get(code, code.lower())

    def _locale(self, ct: ContentType, item: dict[str, Any]) -> str:
        wagtail = str(item["meta"].get("locale", "")).lower()
        for code in ct.locales.supported:
            if self._wagtail_locale(code).lower() == wagtail:
                return code
        return wagtail

    def _wagtail_field(self, tm: TypeMap, ct: ContentType, name: str) -> str:
        if name == ct.slug_field and name not in tm.fields:
            return "slug"
        return tm.fields.get(name, name)

    def _list(self, tm: TypeMap, ct: ContentType, params: dict[str, Any], limit: int) -> list[dict[str, Any]]:
        query = {**params, "locale": self._wagtail_locale(ct.locales.default), "limit": limit}
        items: list[dict[str, Any]] = self._query(tm, query)["items"]
        return items

    def _query(self, tm: TypeMap, params: dict[str, Any]) -> dict[str, Any]:
        result = self._request("pages/", {"type": tm.model, "fields": "*", **params})
        if result is None:  # Wagtail answers 404 for an unknown locale or translation_of page
            return {"meta": {"total_count": 0}, "items": []}
        return result

    def _get(self, path: str) -> dict[str, Any] | None:
        return self._request(path, {})

    def _request(self, path: str, params: dict[str, Any]) -> dict[str, Any] | None:
        try:
            response = self.http.get(path, params=params)
        except httpx.HTTPError as exc:
            raise UpstreamUnavailable(f"Wagtail at {self.url} is unreachable: {type(exc).__name__}: {exc}")
        if response.status_code == 404:
            return None
        if response.status_code == 400:
            try:
                message = response.json().get("message", response.text)
            except ValueError:
                message = response.text
            raise BadRequest(f"Wagtail refused the query: {str(message)[:300]}")
        if response.status_code != 200:
            raise UpstreamUnavailable(f"Wagtail at {self.url} answered {response.status_code} for {path}")
        try:
            body: dict[str, Any] = response.json()
        except ValueError:
            raise UpstreamUnavailable(f"Wagtail at {self.url} answered {path} with something that is not JSON")
        return body


def _revision(item: dict[str, Any]) -> int:
    """A page's revision: its live revision's id where the site exposes ``published_revision``
    (Wagtail's revision ids only grow), else its ``last_published_at`` as a Unix time; 0 when
    neither is exposed."""
    if isinstance(item.get("published_revision"), int):
        return int(item["published_revision"])
    when = parse_time(item.get("last_published_at"))
    return int(when.timestamp()) if when is not None else 0


def _section(block: Any) -> Any:
    """A stream block as an intent-discriminated section; empty optional values are left out."""
    if not isinstance(block, dict) or "type" not in block:
        return block
    value = block.get("value")
    out: dict[str, Any] = {"intent": str(block["type"]).replace("_", "-")}
    if isinstance(value, dict):
        out.update(_without_empty(value))
    return out


def _without_empty(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_empty(v) for k, v in value.items() if v is not None and v != ""}
    if isinstance(value, list):
        return [_without_empty(v) for v in value]
    return value


def _iso(value: Any) -> str | None:
    if not value:
        return None
    text = str(value)
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _encode_offset(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode().rstrip("=")


def _decode_offset(cursor: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        if raw.startswith("o:") and raw[2:].isdigit() and len(raw) < 12:
            return int(raw[2:])
    except (ValueError, UnicodeDecodeError):
        pass
    raise BadRequest(f"cursor {cursor!r} is not valid; use next_cursor from a previous response")


def _canonical_refs(root: dict[str, Any], doc: dict[str, Any], canonical: Any) -> dict[str, Any]:
    """``doc`` with every value at an ``x-charter-ref`` position replaced by ``canonical(value)``."""
    mapped: dict[str, Any] = _map_refs(root, root, doc, canonical, 0)
    return mapped


def _map_refs(root: dict[str, Any], schema: Any, value: Any, fn: Any, depth: int) -> Any:
    if depth > 32 or not isinstance(schema, dict):
        return value
    if "$ref" in schema:
        value = _map_refs(root, resolve_local_ref(root, schema["$ref"]), value, fn, depth + 1)
    if schema.get("x-charter-ref") and not isinstance(value, dict | list):
        return fn(value)
    for keyword in ("oneOf", "anyOf", "allOf"):
        for branch in schema.get(keyword) or []:
            resolved = (
                resolve_local_ref(root, branch["$ref"]) if isinstance(branch, dict) and "$ref" in branch else branch
            )
            if isinstance(value, dict) and isinstance(resolved, dict) and "intent" in value:
                intent = (resolved.get("properties") or {}).get("intent") or {}
                if intent.get("const", value["intent"]) != value["intent"]:
                    continue
            value = _map_refs(root, resolved, value, fn, depth + 1)
    if isinstance(value, dict):
        props = schema.get("properties") or {}
        return {k: _map_refs(root, props[k], v, fn, depth + 1) if k in props else v for k, v in value.items()}
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        return [_map_refs(root, schema["items"], v, fn, depth + 1) for v in value]
    return value


def _references(schema: dict[str, Any], doc: dict[str, Any]) -> list[tuple[str, str]]:
    from charter.schemas.references import find_references

    seen: dict[tuple[str, str], None] = {}
    for _ptr, target, ref in find_references(schema, doc):
        seen[(target, ref)] = None
    return list(seen)
