"""``charter schema import --from directus|strapi|wagtail``: Charter content types from a vendor's models.

For each content type mapped in ``[charter.sources.<vendor>.types]`` the vendor describes its
collection's fields (Directus ``GET /fields/<collection>``, Strapi's content-type-builder API
``GET /api/content-type-builder/content-types/<uid>``); :func:`schema_from_fields` turns them into
the type's JSON Schema and :func:`import_content_types` writes it over the project's file, so a
change a vendor's editor made to a model shows up in ``git diff`` and ``charter schema check`` like
any other schema change.

What the vendor cannot describe is kept from the project's current schema: ``x-charter`` (locales,
slug, policy), ``$id``, ``title``, ``$defs``, and the schema of a JSON field (``sections``: the
vendor knows only "JSON"). Fields the adapter reads as conventions (status, locale, translation
pointer, timestamps, ids) are not content and are left out. The ``version`` is kept; ``charter
schema check`` says which bump the change needs.

Wagtail's API v2 does not describe page models, so ``--from wagtail`` infers each mapped type's
fields from its live pages instead (:func:`import_wagtail`, :mod:`charter.delivery.schema_infer`)
and says so in the file (``x-charter-import``) and in the command's output.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from charter.exceptions import BadRequest
from charter.runtime import Runtime


@dataclass(frozen=True)
class VendorField:
    """One field of a vendor model, in the vendor-neutral terms the import needs."""

    name: str  #: the vendor's field name
    kind: str  #: string | integer | number | boolean | json | datetime | date | other
    required: bool = False
    enum: tuple[str, ...] = ()
    max_length: int | None = None


@dataclass(frozen=True)
class ImportedType:
    name: str
    path: Path
    changed: bool
    added: list[str]
    removed: list[str]
    #: ``--from wagtail``: how many live pages the schema was inferred from (None: read from the model).
    inferred_from_pages: int | None = None
    #: Why nothing was written for this type (a Wagtail model no type maps, a type with no live page).
    skipped: str | None = None
    #: ``--from wagtail``: fields whose project schema accepts every value seen, kept as they were.
    kept: list[str] = field(default_factory=list)


KIND_SCHEMA: dict[str, dict[str, Any]] = {
    "string": {"type": "string"},
    "integer": {"type": "integer"},
    "number": {"type": "number"},
    "boolean": {"type": "boolean"},
    "datetime": {"type": "string", "format": "date-time"},
    "date": {"type": "string", "format": "date"},
}


def schema_from_fields(
    current: dict[str, Any], charter_names: dict[str, str], fields: list[VendorField]
) -> dict[str, Any]:
    """``current`` with its properties and ``required`` rebuilt from the vendor's ``fields``
    (``charter_names`` maps vendor field names to Charter's)."""
    old_props: dict[str, Any] = current.get("properties") or {}
    props: dict[str, Any] = {}
    required: list[str] = []
    for f in fields:
        name = charter_names.get(f.name, f.name)
        old = old_props.get(name)
        if f.kind in KIND_SCHEMA:
            prop: dict[str, Any] = dict(KIND_SCHEMA[f.kind])
            if f.enum:
                prop["enum"] = list(f.enum)
            if f.max_length and f.kind == "string":
                prop["maxLength"] = f.max_length
            if isinstance(old, dict) and old.get("type") == prop.get("type"):
                # Constraints the vendor does not model (pattern, minLength, minimum...) stay as they were.
                prop = {**{k: v for k, v in old.items() if k not in prop}, **prop}
        else:  # JSON and anything the vendor cannot describe: the project's own schema, or anything
            prop = old if isinstance(old, dict) else {}
        props[name] = prop
        if f.required:
            required.append(name)
    out = {k: v for k, v in current.items() if k not in ("properties", "required")}
    out["required"] = required
    out["properties"] = props
    return out


def import_content_types(rt: Runtime, vendor: str, out_dir: Path | None = None) -> list[ImportedType]:
    """Write each mapped content type's schema from ``vendor``'s models into ``out_dir`` (default:
    the project's content-types folder); what changed, per type."""
    from charter.plugins import collect

    if vendor == "wagtail":
        return import_wagtail(rt, out_dir)
    factories = collect(rt.plugins, "register_content_sources")
    if vendor not in factories or vendor == "embedded":
        raise BadRequest(
            f"cannot import models from {vendor!r}: use directus, strapi or wagtail (the embedded store's types "
            "are the project's files)"
        )
    source = factories[vendor](rt)
    try:
        target = out_dir or rt.settings.content_types_dir
        done: list[ImportedType] = []
        for tm in source.types.values():
            ct = rt.registry.get(tm.name)
            fields = source.model_fields(tm)
            names = {v: k for k, v in tm.fields.items()}
            schema = schema_from_fields(ct.schema, names, fields)
            path = Path(target) / (ct.path.name if ct.path else f"{tm.name}.schema.json")
            before = set((ct.schema.get("properties") or {}).keys())
            after = set(schema["properties"])
            changed = _write(path, schema)
            done.append(ImportedType(tm.name, path, changed, sorted(after - before), sorted(before - after)))
        return done
    finally:
        source.close()


def _write(path: Path, schema: dict[str, Any]) -> bool:
    """Write ``schema`` as the import writes every file; whether it differs from what was there."""
    text = json.dumps(schema, indent=2, ensure_ascii=False) + "\n"
    changed = not path.exists() or json.loads(path.read_text(encoding="utf-8")) != schema
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return changed


#: Wagtail API fields the adapter reads as conventions (identity, locale, revision, times), not content.
WAGTAIL_CONVENTIONS = frozenset({"id", "meta", "last_published_at", "published_revision"})


def _accepts(root: dict[str, Any], prop: dict[str, Any], values: list[Any]) -> bool:
    """Whether ``prop`` (a property of the schema ``root``, whose ``$defs`` it may name) accepts every value."""
    from jsonschema import Draft202012Validator, FormatChecker
    from jsonschema.exceptions import SchemaError

    schema = {"$defs": root["$defs"], **prop} if isinstance(root.get("$defs"), dict) else prop
    try:
        validator = Draft202012Validator(schema, format_checker=FormatChecker())
        return all(validator.is_valid(v) for v in values)
    except (SchemaError, LookupError, ValueError):  # an unresolvable $ref: not a schema to keep
        return False


def schema_from_documents(
    current: dict[str, Any], docs: list[dict[str, Any]], vendor: str
) -> tuple[dict[str, Any], list[str]]:
    """``current`` with its properties and ``required`` inferred from ``docs`` (and the fields kept
    from ``current`` because their schema accepts every value seen). A field's inferred schema
    replaces the project's only when the project's rejects a value the vendor holds, so references
    (``x-charter-ref``), ``$defs`` and constraints the data cannot show (lengths, patterns) stay."""
    from charter.delivery.schema_infer import infer_document

    inferred = infer_document(docs)
    old_props: dict[str, Any] = current.get("properties") or {}
    props: dict[str, Any] = {}
    kept: list[str] = []
    for name, prop in inferred["properties"].items():
        old = old_props.get(name)
        if isinstance(old, dict) and _accepts(current, old, [d[name] for d in docs if d.get(name) is not None]):
            props[name] = old
            kept.append(name)
        else:
            props[name] = prop
    out = {k: v for k, v in current.items() if k not in ("properties", "required", "x-charter-import")}
    out["x-charter-import"] = {"from": vendor, "inferred_from_pages": len(docs), "kept": kept}
    out["required"] = inferred["required"]
    out["properties"] = props
    return out, kept


def import_wagtail(rt: Runtime, out_dir: Path | None = None) -> list[ImportedType]:
    """``--from wagtail``: each mapped type's schema inferred from its live pages (every locale).

    The page types are the ``meta.type`` of the site's live pages (``GET /api/v2/pages/``); each
    mapped one's pages are read whole (``?type=<app.Model>&fields=*``), turned into the documents the
    adapter serves (fields named back, StreamFields as sections, chosen pages as entry ids) and
    their schema inferred. A model no ``[charter.wagtail.types]`` table maps, and a mapped type with
    no live page, are reported as skipped; nothing is written for them."""
    from charter.delivery.sources.wagtail import CHUNK, WagtailSource

    source = WagtailSource(rt)
    try:
        target = Path(out_dir or rt.settings.content_types_dir)
        seen: dict[str, int] = {}
        for item in _all_pages(source, {}, CHUNK):
            model = str(item.get("meta", {}).get("type", ""))
            seen[model] = seen.get(model, 0) + 1
        done: list[ImportedType] = []
        for model, count in seen.items():
            if model.lower() not in source.by_model:
                why = f"{count} live page(s) of {model}, which no [charter.wagtail.types.<type>] table maps"
                done.append(ImportedType(model, target, False, [], [], 0, skipped=why))
        for tm in source.types.values():
            ct = rt.registry.get(tm.name)
            path = target / (ct.path.name if ct.path else f"{tm.name}.schema.json")
            if tm.model.lower() not in {m.lower() for m in seen}:
                why = f"no live page of {tm.model}: nothing to infer from, the file is left as it was"
                done.append(ImportedType(tm.name, path, False, [], [], 0, skipped=why))
                continue
            items = _all_pages(source, {"type": tm.model, "fields": "*"}, CHUNK)
            docs = [_wagtail_document(source, tm, ct, item) for item in items]
            schema, kept = schema_from_documents(ct.schema, docs, "wagtail")
            before = set((ct.schema.get("properties") or {}).keys())
            after = set(schema["properties"])
            changed = _write(path, schema)
            added, removed = sorted(after - before), sorted(before - after)
            done.append(ImportedType(tm.name, path, changed, added, removed, len(docs), kept=kept))
        return done
    finally:
        source.close()


def _all_pages(source: Any, params: dict[str, Any], chunk: int) -> list[dict[str, Any]]:
    """Every live page the listing ``params`` select, in every locale, read ``chunk`` at a time."""
    items: list[dict[str, Any]] = []
    while True:
        page = source._request("pages/", {**params, "order": "id", "offset": len(items), "limit": chunk})
        if page is None:
            return items
        items.extend(page["items"])
        if not page["items"] or len(items) >= int(page["meta"]["total_count"]):
            return items


def _wagtail_document(source: Any, tm: Any, ct: Any, item: dict[str, Any]) -> dict[str, Any]:
    """One Wagtail page as the document the adapter serves, with every API field it carries (not
    only the content type's current ones): so a field added in Wagtail is seen."""
    from charter.delivery.sources.wagtail import _canonical_refs, _section

    names = {v: k for k, v in tm.fields.items()}
    streams = {v: k for k, v in tm.streams.items()}
    doc: dict[str, Any] = {}
    if ct.slug_field and ct.slug_field not in tm.fields:
        doc[ct.slug_field] = item.get("meta", {}).get("slug")
    for key, value in item.items():
        if key in WAGTAIL_CONVENTIONS:
            continue
        if key in streams:
            doc[streams[key]] = [_section(block) for block in value or []]
        else:
            doc[names.get(key, key)] = value
    doc = {k: v for k, v in doc.items() if v is not None and v != ""}
    mapped: dict[str, Any] = _canonical_refs(ct.schema, doc, source._canonical_id)
    return mapped
