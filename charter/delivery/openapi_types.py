"""The content types in the OpenAPI document: one schema per content type and major version, and
the delivery envelope that carries it, so OpenAPI tooling (openapi-typescript, client generators,
schemathesis) sees the same contract ``charter types generate`` writes.

Names follow the TypeScript types (:mod:`charter.frontend.typescript`): ``PageV1`` is the document,
``PageV1Hero`` a ``$defs`` entry, ``PageV1Envelope`` the delivery envelope with ``data`` typed. The
schemas are the content types' own JSON Schema 2020-12 (OpenAPI 3.1's dialect): ``$defs`` are hoisted
into ``components/schemas`` and local ``$ref`` rewritten to them; ``$id`` and ``$schema`` are dropped
(kept as ``x-charter-schema-id``) so references resolve against the document. The root
``x-charter-content-types`` maps each type name to its envelope's reference.
"""

from __future__ import annotations

import copy
from typing import Any

from charter.frontend.typescript import pascal, type_prefix
from charter.schemas.registry import ContentType, Registry

COMPONENTS = "#/components/schemas/"


def _rewrite(node: Any, defs: dict[str, str]) -> Any:
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value.startswith(("#/$defs/", "#/definitions/")):
                name = value.rpartition("/")[2]
                out[key] = COMPONENTS + defs.get(name, name)
            else:
                out[key] = _rewrite(value, defs)
        return out
    if isinstance(node, list):
        return [_rewrite(v, defs) for v in node]
    return node


def content_type_schemas(ct: ContentType) -> dict[str, Any]:
    """Component name -> schema for one content type: the document, its ``$defs``, its envelope."""
    prefix = type_prefix(ct)
    schema = copy.deepcopy(ct.schema)
    raw_defs = {**(schema.pop("definitions", None) or {}), **(schema.pop("$defs", None) or {})}
    defs = {name: prefix + pascal(name) for name in raw_defs}
    for key in ("$id", "$schema"):
        schema.pop(key, None)
    out: dict[str, Any] = {prefix: {**_rewrite(schema, defs), "x-charter-schema-id": ct.schema_id}}
    for name, sub in raw_defs.items():
        out[defs[name]] = _rewrite(sub, defs)
    out[prefix + "Envelope"] = {
        "description": f"The delivery envelope of a {ct.name!r} entry ({ct.schema_id} {ct.version}).",
        "allOf": [
            {"$ref": COMPONENTS + "Envelope"},
            {
                "type": "object",
                "properties": {
                    "type": {"const": ct.name},
                    "schema": {
                        "type": "object",
                        "properties": {"id": {"const": ct.schema_id}, "version": {"type": "string"}},
                    },
                    "data": {"$ref": COMPONENTS + prefix},
                },
            },
        ],
    }
    return out


def add_content_types(document: dict[str, Any], registry: Registry) -> dict[str, Any]:
    """``document`` with every content type's schemas in ``components/schemas`` (in place)."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    index: dict[str, str] = {}
    for ct in sorted(registry, key=lambda c: (c.name, c.major)):
        schemas.update(content_type_schemas(ct))
        index[ct.name] = COMPONENTS + type_prefix(ct) + "Envelope"
    document["x-charter-content-types"] = index
    return document


def install(app: Any, registry: Registry) -> None:
    """Make ``app.openapi()`` carry the content types (built once, like FastAPI's own document)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None or "x-charter-content-types" not in app.openapi_schema:
            app.openapi_schema = add_content_types(build(), registry)
        return app.openapi_schema

    app.openapi = openapi
