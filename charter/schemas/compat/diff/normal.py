"""Equivalent forms of one subschema made one before comparing, and what cannot be compared in place.

Decides which rewrites keep exactly the same set of valid instances, so that a rewrite is not
reported as a change:

- ``allOf`` conditions are conjuncts: a condition that shares no keyword (and no interacting
  keyword) with its parent is merged into it (``{"allOf": [{"type": "string"}]}`` is
  ``{"type": "string"}``); a one-alternative ``anyOf``/``oneOf`` is its alternative;
- ``not`` is pushed inward by De Morgan: ``not not A`` is ``A``, ``not anyOf [A, B]`` is
  ``allOf [not A, not B]``;
- with no ``properties``/``patternProperties``, ``maxProperties: 0`` is ``additionalProperties:
  false``; with no ``prefixItems``, ``maxItems: 0`` is ``items: false``;
- ``unevaluatedProperties``/``unevaluatedItems`` beside no in-place applicator (``allOf``,
  ``anyOf``, ``oneOf``, ``if``/``then``/``else``, ``dependentSchemas``, ``$ref``, and
  ``contains`` for items) see only their siblings' annotations: they mean
  ``additionalProperties``/``items`` when those are absent and nothing when present.

:func:`opaque_unevaluated` names the ``unevaluated*`` keyword that is left: it depends on what
every applicator below it evaluates, so the differ classifies every change below it as breaking
both ways (JSON Schema 2020-12 §11).
"""

from __future__ import annotations

from typing import Any

from charter.schemas.compat.diff.keywords import ANNOTATIONS
from charter.schemas.compat.diff.values import intersect_types

#: In-place applicators whose annotations ``unevaluated*`` reads (2020-12 §10.2, §11).
_PROPERTY_APPLICATORS = ("allOf", "anyOf", "oneOf", "if", "then", "else", "dependentSchemas", "$ref", "$dynamicRef")
_ITEM_APPLICATORS = ("allOf", "anyOf", "oneOf", "if", "then", "else", "$ref", "$dynamicRef", "contains")
#: Keywords whose meaning depends on a sibling: they may only be merged together.
_GROUPS = (
    frozenset({"properties", "patternProperties", "additionalProperties", "unevaluatedProperties"}),
    frozenset({"prefixItems", "items", "unevaluatedItems", "contains"}),
    frozenset({"contains", "minContains", "maxContains"}),
    frozenset({"if", "then", "else"}),
)
#: A condition carrying one of these is never merged into its parent.
_IDENTITY = frozenset({"$id", "$anchor", "$dynamicAnchor", "$defs", "definitions", "$ref", "$dynamicRef"})


def normalise(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` (a dict, ``$ref`` already followed) in the canonical form described above.
    Never mutates its argument; subschemas are normalised when the walk reaches them."""
    out = _reduce_unevaluated(dict(schema))
    out = _flatten(out)
    out = _reduce_unevaluated(out)
    props = out.get("properties") or out.get("patternProperties")
    if out.get("maxProperties") == 0 and not props and "unevaluatedProperties" not in out:
        del out["maxProperties"]
        out["additionalProperties"] = False
    if out.get("maxItems") == 0 and not out.get("prefixItems") and "unevaluatedItems" not in out:
        del out["maxItems"]
        out["items"] = False
    if isinstance(out.get("type"), list) and len(out["type"]) == 1:
        out["type"] = out["type"][0]
    return out


def opaque_unevaluated(schema: dict[str, Any]) -> str | None:
    """The ``unevaluated*`` keyword of a normalised schema that could not be reduced, if any."""
    for key in ("unevaluatedProperties", "unevaluatedItems"):
        if key in schema:
            return key
    return None


def _reduce_unevaluated(schema: dict[str, Any]) -> dict[str, Any]:
    for key, plain, applicators in (
        ("unevaluatedProperties", "additionalProperties", _PROPERTY_APPLICATORS),
        ("unevaluatedItems", "items", _ITEM_APPLICATORS),
    ):
        if key not in schema or any(a in schema for a in applicators):
            continue
        value = schema.pop(key)
        if plain not in schema:
            schema[plain] = value
    return schema


def _conjuncts(schema: dict[str, Any]) -> list[Any]:
    """The conditions a schema's ``allOf`` (and its De Morgan rewrites) stands for."""
    out: list[Any] = []
    for branch in schema.get("allOf") or []:
        out.append(branch)
    neg = schema.get("not")
    if isinstance(neg, dict) and not (set(neg) - ANNOTATIONS - {"not"}) and "not" in neg:
        out.append(neg["not"])  # not not A == A
    elif isinstance(neg, dict) and set(neg) - ANNOTATIONS == {"anyOf"} and isinstance(neg["anyOf"], list):
        out.extend({"not": b} for b in neg["anyOf"])  # not (A or B) == not A and not B
    elif isinstance(neg, dict) and set(neg) - ANNOTATIONS == {"allOf"} and isinstance(neg["allOf"], list):
        out.append({"anyOf": [{"not": b} for b in neg["allOf"]]})  # not (A and B) == not A or not B
    return out


def _flatten(schema: dict[str, Any]) -> dict[str, Any]:
    if any(k in schema for k in ("unevaluatedProperties", "unevaluatedItems")):
        return schema  # merging would change what they see
    for key in ("anyOf", "oneOf"):
        # A one-alternative union is its alternative.
        if isinstance(schema.get(key), list) and len(schema[key]) == 1 and isinstance(schema[key][0], dict):
            rest = {k: v for k, v in schema.items() if k != key}
            alone = _flatten(_reduce_unevaluated(dict(schema[key][0])))
            if _mergeable(rest, alone):
                schema = {**rest, **{k: v for k, v in alone.items() if k not in ANNOTATIONS or k not in rest}}
    todo = _conjuncts(schema)
    if not todo:
        return schema
    merged = {k: v for k, v in schema.items() if k != "allOf"}
    if "not" in merged and merged["not"] is schema.get("not") and _rewritten_not(schema["not"]):
        del merged["not"]
    kept: list[Any] = []
    while todo:
        branch = todo.pop(0)
        if branch is True or branch == {}:
            continue
        if not isinstance(branch, dict) or not _mergeable(merged, _typeless(branch, merged)):
            kept.append(branch)
            continue
        inner = _flatten(_reduce_unevaluated(dict(branch)))
        if "allOf" in inner:
            todo.extend(inner.pop("allOf"))
        if "type" in inner and "type" in merged and _mergeable(merged, _typeless(inner, merged)):
            # {type: A} and {type: B} is {type: A and B}.
            merged["type"] = intersect_types(merged["type"], inner.pop("type"))
        if not _mergeable(merged, inner):
            kept.append(inner)
            continue
        for k, v in inner.items():
            if k not in ANNOTATIONS or k not in merged:
                merged[k] = v
    if kept:
        merged["allOf"] = kept
    return merged


def _typeless(branch: dict[str, Any], merged: dict[str, Any]) -> dict[str, Any]:
    """``branch`` without its ``type`` when ``merged`` has one too (two types intersect)."""
    return {k: v for k, v in branch.items() if k != "type"} if "type" in merged else branch


def _rewritten_not(neg: Any) -> bool:
    if not isinstance(neg, dict):
        return False
    rest = set(neg) - ANNOTATIONS
    return rest in ({"not"}, {"anyOf"}, {"allOf"}) and (rest != {"not"} or "not" in neg)


def _mergeable(parent: dict[str, Any], branch: dict[str, Any]) -> bool:
    keys = set(branch) - ANNOTATIONS
    if keys & _IDENTITY or any(k in branch for k in ("unevaluatedProperties", "unevaluatedItems")):
        return False
    if keys & (set(parent) - ANNOTATIONS):
        return False
    present = set(parent) - ANNOTATIONS
    return not any(keys & g and present & g for g in _GROUPS)
