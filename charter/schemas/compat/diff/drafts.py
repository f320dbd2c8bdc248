"""Schemas written for draft-07 (and draft-06/04), read as JSON Schema 2020-12.

Many teams bring schemas from tools that still write draft-07. :func:`upgrade` rewrites the
forms whose meaning changed, each exactly, and says what it rewrote:

- ``definitions`` -> ``$defs`` (and every ``#/definitions/...`` reference);
- array-form ``items`` -> ``prefixItems``, and ``additionalItems`` -> ``items``
  (``additionalItems`` beside a single ``items`` schema is ignored by draft-07: dropped);
- ``dependencies`` -> ``dependentRequired`` (name lists) and ``dependentSchemas`` (schemas);
- keywords beside a ``$ref`` (ignored by draft-07) are dropped, annotations kept;
- draft-04 boolean ``exclusiveMinimum``/``exclusiveMaximum`` -> their numeric form;
- ``$schema`` -> the 2020-12 meta-schema.

A document is read as draft-07 when its ``$schema`` names draft-04, -06 or -07, or when it has no
``$schema`` and uses a draft-07-only form. A 2020-12 document is returned unchanged.
"""

from __future__ import annotations

from typing import Any

from charter.schemas.compat.diff.keywords import ANNOTATIONS

DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"
_OLD_DRAFTS = ("draft-04", "draft-06", "draft-07")
#: Keywords whose value is one subschema, a list of them, or a name -> subschema map.
_ONE = ("additionalProperties", "items", "additionalItems", "contains", "not", "propertyNames", "if", "then", "else")
_LIST = ("allOf", "anyOf", "oneOf", "prefixItems")
_MAP = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")


def draft_of(schema: Any) -> str | None:
    """``draft-07`` (or -06/-04) when ``schema`` is written for an older draft, else None."""
    if not isinstance(schema, dict):
        return None
    declared = schema.get("$schema")
    if isinstance(declared, str):
        return next((d for d in _OLD_DRAFTS if d in declared), None)
    return "draft-07" if _uses_old_forms(schema) else None


def upgrade(schema: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """``schema`` as 2020-12, and one note per kind of rewrite (with where it happened first)."""
    draft = draft_of(schema)
    if draft is None:
        return schema, []
    found: dict[str, list[str]] = {}
    out = _walk(schema, "", found)
    if "$schema" in out:
        out["$schema"] = DRAFT_2020_12
    notes = [f"read as {draft} and converted to 2020-12:"] + [
        f"{what} (at {', '.join(where[:3]) or '/'}{' ...' if len(where) > 3 else ''})" for what, where in found.items()
    ]
    return out, notes if len(notes) > 1 else [f"read as {draft}: nothing needed converting"]


def _note(found: dict[str, list[str]], what: str, where: str) -> None:
    found.setdefault(what, []).append(where or "/")


def _walk(node: Any, where: str, found: dict[str, list[str]]) -> Any:
    if isinstance(node, list):
        return [_walk(v, where, found) for v in node]
    if not isinstance(node, dict):
        return node
    src = dict(node)
    if isinstance(src.get("$ref"), str):
        dropped = [k for k in src if k != "$ref" and k not in ANNOTATIONS and k not in ("definitions", "$defs")]
        if dropped:
            _note(found, f"keywords beside $ref dropped ({', '.join(sorted(dropped))}: draft-07 ignores them)", where)
            src = {k: v for k, v in src.items() if k not in dropped}
        if src["$ref"].startswith("#/definitions/"):
            src["$ref"] = "#/$defs/" + src["$ref"][len("#/definitions/") :]
            _note(found, "#/definitions/... references -> #/$defs/...", where)
    out: dict[str, Any] = {}
    for key, value in src.items():
        here = f"{where}/{key}"
        if key in _MAP and isinstance(value, dict):
            out[key] = {name: _walk(sub, f"{here}/{name}", found) for name, sub in value.items()}
        elif key in _LIST and isinstance(value, list):
            out[key] = [_walk(sub, f"{here}/{i}", found) for i, sub in enumerate(value)]
        elif key == "dependencies" and isinstance(value, dict):
            out[key] = {k: v if isinstance(v, list) else _walk(v, f"{here}/{k}", found) for k, v in value.items()}
        elif key in _ONE:
            out[key] = _walk(value, here, found)
        else:
            out[key] = value
    if "definitions" in out:
        defs = out.pop("definitions")
        out["$defs"] = {**defs, **(out.get("$defs") or {})} if isinstance(defs, dict) else out.get("$defs", {})
        _note(found, "definitions -> $defs", where)
    if isinstance(out.get("items"), list):
        out["prefixItems"] = out.pop("items")
        if "additionalItems" in out:
            out["items"] = out.pop("additionalItems")
            _note(found, "array-form items -> prefixItems, additionalItems -> items", where)
        else:
            _note(found, "array-form items -> prefixItems", where)
    elif "additionalItems" in out:
        out.pop("additionalItems")
        _note(found, "additionalItems beside a single items schema dropped (draft-07 ignores it)", where)
    if isinstance(out.get("dependencies"), dict):
        deps = out.pop("dependencies")
        names = {k: v for k, v in deps.items() if isinstance(v, list)}
        schemas = {k: v for k, v in deps.items() if not isinstance(v, list)}
        if names:
            out["dependentRequired"] = {**names, **(out.get("dependentRequired") or {})}
        if schemas:
            out["dependentSchemas"] = {**schemas, **(out.get("dependentSchemas") or {})}
        _note(found, "dependencies -> dependentRequired / dependentSchemas", where)
    for key, bound in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        if isinstance(out.get(key), bool):
            if out.pop(key) and isinstance(out.get(bound), int | float):
                out[key] = out.pop(bound)
            _note(found, f"draft-04 boolean {key} -> numeric {key}", where)
    return out


def _uses_old_forms(node: Any) -> bool:
    if not isinstance(node, dict):
        return False
    if isinstance(node.get("items"), list) or "additionalItems" in node or "definitions" in node:
        return True
    if isinstance(node.get("dependencies"), dict) or isinstance(node.get("exclusiveMinimum"), bool):
        return True
    return any(_uses_old_forms(sub) for sub in _subschemas(node))


def _subschemas(node: dict[str, Any]) -> list[Any]:
    out: list[Any] = []
    for key in _ONE:
        value = node.get(key)
        out.extend(value if key == "items" and isinstance(value, list) else [value])
    for key in _LIST:
        value = node.get(key)
        out.extend(value if isinstance(value, list) else [])
    for key in _MAP:
        out.extend(node[key].values() if isinstance(node.get(key), dict) else [])
    return out
