"""A Directus project (REST API, v10/v11) as a content source (``source = "directus"``).

Each Charter content type reads from one Directus collection (``[charter.sources.directus.types.<type>]``:
``collection``, ``fields``). The collection follows the conventions below, each field name an option
of ``[charter.sources.directus]`` (docs/sources.md):

* ``status_field`` (``status``) and ``published`` (``published``): only published items are served;
* ``locale_field`` (``locale``): the item's locale (the vendor code, see ``locales``); an item in the
  content type's default locale is the entry, and its primary key is the entry's id;
* ``translation_field`` (``translation_of``): a translation's pointer to the default-locale item;
* ``published_at_field`` (``date_updated``, else ``date_created``) and ``revision_field`` (none: 0).

JSON fields (Directus type ``json``) hold structured values such as a page's ``sections``; values at
``x-charter-ref`` positions are primary keys of default-locale items. Charter reads with a static
token (``token``, or the variable ``token_env`` names, default ``CHARTER_DIRECTUS_TOKEN``) and never
writes to Directus.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from charter.delivery.sources.vendor import Fetched, SourceChange, TypeMap, VendorSource, parse_time
from charter.exceptions import BadRequest
from charter.runtime import Runtime
from charter.schemas.registry import ContentType

OPTIONS = frozenset(
    {"status_field", "published", "locale_field", "translation_field", "published_at_field", "revision_field"}
)


class DirectusSource(VendorSource):
    name = "directus"
    extra_options = OPTIONS
    #: Directus's default primary keys are integers per collection (page 1 and plan 1).
    ids_per_collection = True

    def __init__(self, rt: Runtime) -> None:
        super().__init__(rt)
        o = self.options
        self.status_field = str(o.get("status_field", "status"))
        self.published = str(o.get("published", "published"))
        self.locale_field = str(o.get("locale_field", "locale"))
        self.translation_field = str(o.get("translation_field", "translation_of"))
        self.published_at_field = str(o.get("published_at_field", "date_updated"))
        self.revision_field = str(o.get("revision_field", ""))

    def _base_filter(self, ct: ContentType, draft: bool = False) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        if self.status_field and not draft:
            out.append({self.status_field: {"_eq": self.published}})
        if self.locale_field:
            out.append({self.locale_field: {"_eq": self.vendor_locale(ct.locales.default)}})
        return out

    def _items(self, tm: TypeMap, conditions: list[dict[str, Any]], **params: Any) -> Fetched:
        query = {"filter": json.dumps({"_and": conditions}), "fields": "*", "sort": "id", **params}
        body = self.request("GET", f"items/{tm.collection}", params=query)
        if body is None:
            return Fetched([], 0)
        items = body.get("data") or []
        total = int((body.get("meta") or {}).get("filter_count", len(items)))
        return Fetched(list(items), total)

    def fetch_by_id(self, tm: TypeMap, ct: ContentType, entry_id: str, *, draft: bool = False) -> dict[str, Any] | None:
        """With ``draft``: the item whatever its status (a draft item, or a published one an
        editor is changing: Directus edits items in place)."""
        try:
            found = self._items(tm, [{"id": {"_eq": entry_id}}, *self._base_filter(ct, draft)], limit=1).items
        except BadRequest:
            return None  # not an id this collection can have (Directus refuses "abc" for an integer key)
        return found[0] if found else None

    def fetch_list(self, tm: TypeMap, ct: ContentType, equals: dict[str, str], offset: int, limit: int) -> Fetched:
        conditions = [*self._base_filter(ct), *({f: {"_eq": v}} for f, v in equals.items())]
        return self._items(tm, conditions, limit=limit, offset=offset, meta="filter_count")

    def fetch_translations(
        self, tm: TypeMap, ct: ContentType, item: dict[str, Any], locales: list[str], *, draft: bool = False
    ) -> dict[str, dict[str, Any]]:
        if not self.locale_field or not self.translation_field:
            return {}
        conditions: list[dict[str, Any]] = [
            {self.translation_field: {"_eq": item["id"]}},
            {self.locale_field: {"_in": locales}},
        ]
        if self.status_field and not draft:
            conditions.append({self.status_field: {"_eq": self.published}})
        found = self._items(tm, conditions, limit=len(locales) * 2).items
        return {str(t.get(self.locale_field)): t for t in found}

    def webhook_changes(self, payload: Any) -> list[SourceChange]:
        """A Flow's ``{{$trigger}}`` on an item event (``items.create``, ``items.update``,
        ``items.delete``): ``{"event", "collection", "key" | "keys", "payload"}``."""
        if not isinstance(payload, dict) or not isinstance(payload.get("event"), str):
            raise BadRequest("a Directus webhook body is a Flow's {{$trigger}}: an object with event and collection")
        event, collection = payload["event"], payload.get("collection")
        action = event.rsplit(".", 1)[-1]
        if action not in ("create", "update", "delete") or not isinstance(collection, str):
            raise BadRequest(f"Directus event {event[:80]!r} is not an item create, update or delete")
        tm = self.by_collection.get(collection)
        if tm is None:
            return []  # a collection Charter does not read
        raw_keys, raw_changed = payload.get("keys"), payload.get("payload")
        keys: list[Any] = raw_keys if isinstance(raw_keys, list) else [payload.get("key")]
        changed: dict[str, Any] = raw_changed if isinstance(raw_changed, dict) else {}
        if action == "update" and self.status_field in changed:
            action = "publish" if changed[self.status_field] == self.published else "unpublish"
        ct = self.rt.registry.get(tm.name)
        out = []
        for key in keys[:1000]:
            if not isinstance(key, str | int) or isinstance(key, bool):
                raise BadRequest("Directus item keys are strings or integers")
            entry_id, changed_at = self._entry_of(tm, ct, str(key), action)
            out.append(SourceChange(tm.name, str(key), action, entry_id, changed_at))
        return out

    def _entry_of(self, tm: TypeMap, ct: ContentType, key: str, action: str) -> tuple[str | None, datetime | None]:
        """The entry an item belongs to (itself, or the default-locale item it translates) and
        when Directus last changed it."""
        if action == "delete":
            return None, None  # gone: whether it was a translation cannot be told any more
        wanted = ("id", self.locale_field, self.translation_field, "date_updated", "date_created")
        try:
            body = self.request(
                "GET", f"items/{tm.collection}/{key}", params={"fields": ",".join(f for f in wanted if f)}
            )
        except BadRequest:
            return None, None
        item = (body or {}).get("data") or {}
        if not item:
            return None, None
        changed_at = self.item_updated_at(item)
        default = self.vendor_locale(ct.locales.default)
        if (
            self.locale_field
            and item.get(self.locale_field) not in (None, default)
            and item.get(self.translation_field)
        ):
            return str(item[self.translation_field]), changed_at
        return str(item.get("id", key)), changed_at

    def model_fields(self, tm: TypeMap) -> list[Any]:
        """``GET /fields/<collection>`` (needs a token that may read the schema, e.g. an admin's)."""
        from charter.delivery.schema_import import VendorField

        body = self.request("GET", f"fields/{tm.collection}")
        if body is None:
            raise BadRequest(f"Directus has no collection {tm.collection!r}")
        conventions = {
            "id",
            self.status_field,
            self.locale_field,
            self.translation_field,
            self.published_at_field,
            self.revision_field,
            "date_created",
            "date_updated",
            "user_created",
            "user_updated",
            "sort",
        }
        kinds = {
            "string": "string",
            "text": "string",
            "uuid": "string",
            "hash": "string",
            "integer": "integer",
            "bigInteger": "integer",
            "float": "number",
            "decimal": "number",
            "boolean": "boolean",
            "timestamp": "datetime",
            "dateTime": "datetime",
            "date": "date",
        }
        out = []
        for f in body.get("data") or []:
            name = str(f.get("field"))
            schema, meta = f.get("schema") or {}, f.get("meta") or {}
            if name in conventions or f.get("type") == "alias":
                continue
            choices = ((meta.get("options") or {}).get("choices")) or []
            enum = tuple(str(c.get("value")) for c in choices if isinstance(c, dict) and "value" in c)
            out.append(
                VendorField(
                    name,
                    kinds.get(str(f.get("type")), "json" if f.get("type") == "json" else "other"),
                    required=bool(meta.get("required")) or schema.get("is_nullable") is False,
                    enum=enum,
                    max_length=schema.get("max_length") if f.get("type") == "string" else None,
                )
            )
        return out

    def item_published_at(self, item: dict[str, Any]) -> str | None:
        value = item.get(self.published_at_field) or item.get("date_created")
        if not value:
            return None
        text = str(value)
        return text[:-5] + "Z" if text.endswith(".000Z") else text

    def item_updated_at(self, item: dict[str, Any]) -> datetime | None:
        return parse_time(item.get("date_updated")) or parse_time(item.get("date_created"))

    def item_revision(self, item: dict[str, Any]) -> int:
        """``revision_field`` when configured; else ``date_updated`` (or ``date_created``) as a Unix time."""
        if self.revision_field:
            value = item.get(self.revision_field)
            return int(value) if isinstance(value, int) and not isinstance(value, bool) else 0
        return super().item_revision(item)
