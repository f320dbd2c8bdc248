"""``charter content export --from <source>``: another CMS's published content as Charter's JSONL,
ready for ``charter content import`` into the embedded store.

Every published default-locale item of each mapped type is read with its translations into every
locale the type supports; the rows carry the per-locale data Charter stores (the default locale whole,
other locales their localised fields). Ids are stable UUIDs derived from the source, the type and
the vendor id (so a re-export updates rather than duplicates), and references are rewritten to
those ids. An item whose data does not validate against the content type is not exported; it is
counted and named with its first errors, so nothing half-shaped reaches the store.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import IO, Any

from charter.delivery.sources.vendor import TypeMap, VendorSource
from charter.delivery.sources.wagtail import _canonical_refs as map_references
from charter.exceptions import BadRequest
from charter.runtime import Runtime
from charter.schemas.registry import ContentType

NAMESPACE = uuid.UUID("2f6c7a56-4c1e-4d6e-9a3e-5b8f0e1c2d24")


@dataclass
class ExportCounts:
    exported: dict[str, int] = field(default_factory=dict)  #: per content type
    skipped: list[str] = field(default_factory=list)  #: "type vendor-id: why"

    def to_dict(self) -> dict[str, Any]:
        return {"exported": self.exported, "skipped": self.skipped}


def charter_id(source: str, type_name: str, vendor_id: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"{source}/{type_name}/{vendor_id}"))


def export_from_source(rt: Runtime, source_name: str, out: IO[str], type_name: str | None = None) -> ExportCounts:
    """Write ``source_name``'s published content as import rows to ``out``; what moved and what did not."""
    from charter.plugins import collect

    factories = collect(rt.plugins, "register_content_sources")
    if source_name not in factories or source_name == "embedded":
        raise BadRequest(f"cannot export from {source_name!r}: name a configured vendor source (directus, strapi)")
    source = factories[source_name](rt)
    if not isinstance(source, VendorSource):
        source.close()
        raise BadRequest(f"source {source_name!r} cannot list its content for an export (docs/sources.md)")
    counts = ExportCounts()
    try:
        for tm in source.types.values():
            if type_name and tm.name != type_name:
                continue
            ct = rt.registry.get(tm.name)
            counts.exported[tm.name] = 0
            for item in _all_items(source, tm, ct):
                row, why = _row(source, tm, ct, item)
                if row is None:
                    counts.skipped.append(f"{tm.name} {source.item_id(item)}: {why}")
                    continue
                out.write(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n")
                counts.exported[tm.name] += 1
    finally:
        source.close()
    return counts


def _all_items(source: VendorSource, tm: TypeMap, ct: ContentType) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    while True:
        page = source.fetch_list(tm, ct, {}, len(items), 100)
        items.extend(page.items)
        if not page.items or len(items) >= page.total:
            return items


def _row(source: VendorSource, tm: TypeMap, ct: ContentType, item: dict[str, Any]) -> tuple[dict[str, Any] | None, str]:
    default = ct.locales.default
    others = [code for code in ct.locales.supported if code != default]
    translations = source.fetch_translations(tm, ct, item, [source.vendor_locale(c) for c in others]) if others else {}

    def refs(value: Any) -> Any:
        target = ref_types.get(str(value))
        return charter_id(source.name, target, str(value)) if target else value

    # A reference names an entry of the type its schema position says (x-charter-ref).
    ref_types = {ref: target for target, ref in _refs(ct.schema, source._document(tm, ct, item))}
    data: dict[str, Any] = {default: map_references(ct.schema, source._document(tm, ct, item), refs)}
    for code in others:
        version = translations.get(source.vendor_locale(code))
        if version is None:
            continue
        doc = source._document(tm, ct, version)
        ref_types.update({ref: target for target, ref in _refs(ct.schema, doc)})
        localized = {k: v for k, v in map_references(ct.schema, doc, refs).items() if k in ct.localized}
        if localized:
            data[code] = localized
    errors = ct.validate(data)
    if errors:
        return None, "; ".join(f"{e.pointer or '/'} {e.message}" for e in errors[:3])
    row = {"id": charter_id(source.name, tm.name, source.item_id(item)), "type": tm.name, "status": "published"}
    return {**row, "data": data}, ""


def _refs(schema: dict[str, Any], doc: dict[str, Any]) -> list[tuple[str, str]]:
    from charter.schemas.references import find_references

    return [(target, str(ref)) for _ptr, target, ref in find_references(schema, doc)]
