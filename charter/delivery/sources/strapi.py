"""A Strapi 5 project (REST API) as a content source (``source = "strapi"``).

Each Charter content type reads from one Strapi collection type (``[charter.sources.strapi.types.<type>]``:
``collection`` is its plural API id, ``plans`` for ``/api/plans``; ``model`` its singular name,
which Strapi's webhooks use, default: ``collection`` without a trailing ``s``; ``fields`` maps
Charter fields to Strapi attributes). Strapi's own features carry the rest:

* **Draft & Publish**: only published documents are read (``status=published``);
* **Internationalization**: the entry id is the ``documentId``, shared by every locale of a
  document; a locale's version is read with ``?locale=``; non-localised attributes are the same in
  every locale, as Charter's non-localised fields are;
* ``json`` attributes hold structured values such as a page's ``sections``; values at
  ``x-charter-ref`` positions are ``documentId`` strings.

Charter reads with an API token (``token``, or the variable ``token_env`` names, default
``CHARTER_STRAPI_TOKEN``): a read-only token is enough. Strapi's webhooks (``entry.create``,
``entry.update``, ``entry.delete``, ``entry.publish``, ``entry.unpublish``) post to
``POST /v1/sources/strapi/events`` (docs/sources.md).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from charter.delivery.sources.vendor import Fetched, SourceChange, TypeMap, VendorSource, parse_time
from charter.exceptions import BadRequest
from charter.schemas.registry import ContentType

#: Attributes Strapi keeps for itself (not content).
CONVENTIONS = frozenset(
    {"documentId", "createdAt", "updatedAt", "publishedAt", "createdBy", "updatedBy", "localizations", "locale"}
)
WEBHOOK_EVENTS = ("entry.create", "entry.update", "entry.delete", "entry.publish", "entry.unpublish")


class StrapiSource(VendorSource):
    name = "strapi"
    type_options = frozenset({"model"})

    def _path(self, tm: TypeMap, document_id: str | None = None) -> str:
        return f"api/{tm.collection}" + (f"/{document_id}" if document_id else "")

    def fetch_by_id(self, tm: TypeMap, ct: ContentType, entry_id: str, *, draft: bool = False) -> dict[str, Any] | None:
        """With ``draft``: the document's draft version (``status=draft``), which Strapi keeps
        beside the published one and which holds an editor's unpublished changes."""
        return self._one(tm, entry_id, self.vendor_locale(ct.locales.default), draft)

    def _one(self, tm: TypeMap, document_id: str, locale: str, draft: bool = False) -> dict[str, Any] | None:
        status = "draft" if draft else "published"
        body = self.request("GET", self._path(tm, document_id), params={"locale": locale, "status": status})
        data = (body or {}).get("data")
        return data if isinstance(data, dict) else None

    def fetch_list(self, tm: TypeMap, ct: ContentType, equals: dict[str, str], offset: int, limit: int) -> Fetched:
        params: dict[str, Any] = {
            "locale": self.vendor_locale(ct.locales.default),
            "status": "published",
            "sort": "id:asc",
            "pagination[start]": offset,
            "pagination[limit]": limit,
            "pagination[withCount]": "true",
        }
        for field, value in equals.items():
            params[f"filters[{field}][$eq]"] = value
        body = self.request("GET", self._path(tm), params=params) or {}
        items = body.get("data") or []
        total = ((body.get("meta") or {}).get("pagination") or {}).get("total", len(items))
        return Fetched(list(items), int(total))

    def fetch_translations(
        self, tm: TypeMap, ct: ContentType, item: dict[str, Any], locales: list[str], *, draft: bool = False
    ) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        for code in locales:
            version = self._one(tm, str(item["documentId"]), code, draft)
            if version is not None:
                found[code] = version
        return found

    def item_id(self, item: dict[str, Any]) -> str:
        return str(item["documentId"])

    def item_published_at(self, item: dict[str, Any]) -> str | None:
        value = item.get("publishedAt")
        return str(value) if value else None

    def item_updated_at(self, item: dict[str, Any]) -> datetime | None:
        return parse_time(item.get("updatedAt"))

    def model_fields(self, tm: TypeMap) -> list[Any]:
        """Strapi's content-type-builder API, ``GET /api/content-type-builder/content-types/api::<model>.<model>``
        (a token allowed to read it: full access, or a custom token with that permission)."""
        from charter.delivery.schema_import import VendorField

        model = self._model(tm)
        body = self.request("GET", f"api/content-type-builder/content-types/api::{model}.{model}")
        if body is None:
            raise BadRequest(f"Strapi has no content type api::{model}.{model}")
        attributes = (((body.get("data") or {}).get("schema")) or {}).get("attributes") or {}
        kinds = {
            "string": "string",
            "text": "string",
            "richtext": "string",
            "email": "string",
            "uid": "string",
            "enumeration": "string",
            "integer": "integer",
            "biginteger": "integer",
            "float": "number",
            "decimal": "number",
            "boolean": "boolean",
            "datetime": "datetime",
            "date": "date",
            "json": "json",
        }
        out = []
        for name, attr in attributes.items():
            if not isinstance(attr, dict) or name in CONVENTIONS:
                continue
            out.append(
                VendorField(
                    name,
                    kinds.get(str(attr.get("type")), "other"),
                    required=bool(attr.get("required")),
                    enum=tuple(str(v) for v in attr.get("enum") or ()),
                    max_length=attr.get("maxLength") if isinstance(attr.get("maxLength"), int) else None,
                )
            )
        return out

    def webhook_changes(self, payload: Any) -> list[SourceChange]:
        """A Strapi webhook: ``{"event": "entry.update", "model": "plan", "uid", "entry": {...}}``;
        other events (``media.*``) and models Charter does not read change nothing."""
        if not isinstance(payload, dict) or not isinstance(payload.get("event"), str):
            raise BadRequest("a Strapi webhook body is an object with event, model and entry")
        event = payload["event"]
        if not event.startswith("entry."):
            return []
        if event not in WEBHOOK_EVENTS:
            raise BadRequest(f"Strapi event {event[:80]!r} is not one of {', '.join(WEBHOOK_EVENTS)}")
        model, entry = payload.get("model"), payload.get("entry")
        if not isinstance(model, str) or not isinstance(entry, dict):
            raise BadRequest("a Strapi entry webhook names its model and carries the entry")
        tm = next((t for t in self.types.values() if self._model(t) == model), None)
        if tm is None:
            return []
        document_id = entry.get("documentId")
        if not isinstance(document_id, str) or not document_id:
            raise BadRequest("the Strapi entry has no documentId")
        action = event.removeprefix("entry.")
        changed_at = parse_time(entry.get("publishedAt" if action == "publish" else "updatedAt"))
        return [SourceChange(tm.name, document_id, action, document_id, changed_at)]

    def _model(self, tm: TypeMap) -> str:
        model = self.options["types"][tm.name].get("model")
        if isinstance(model, str) and model:
            return model
        return tm.collection[:-1] if tm.collection.endswith("s") else tm.collection
