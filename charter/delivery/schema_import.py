"""``charter schema import --from directus|strapi``: Charter content types from a vendor's models.

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
"""

from __future__ import annotations

import json
from dataclasses import dataclass
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

    factories = collect(rt.plugins, "register_content_sources")
    if vendor not in factories or vendor in ("embedded", "wagtail"):
        raise BadRequest(
            f"cannot import models from {vendor!r}: use directus or strapi (Wagtail's API v2 does not describe "
            "page models, and the embedded store's types are the project's files)"
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
            text = json.dumps(schema, indent=2, ensure_ascii=False) + "\n"
            changed = not path.exists() or json.loads(path.read_text(encoding="utf-8")) != schema
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            done.append(ImportedType(tm.name, path, changed, sorted(after - before), sorted(before - after)))
        return done
    finally:
        source.close()
