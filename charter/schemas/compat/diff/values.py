"""Which kinds of value, and which values, a subschema allows: ``type``, ``enum``/``const`` and
Charter's entry-reference target ``x-charter-ref`` and asset-reference constraints
``x-charter-asset`` (a tightened constraint breaks backward, a relaxed one forward).

Decides that a type lost (``integer`` counts as covered by ``number``), a value no longer in the
enum, or a new restriction breaks backward, and that a type or value gained, or a restriction
lifted, breaks forward.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from charter.schemas.assets import KEYWORD as ASSET_KEYWORD
from charter.schemas.assets import narrowed
from charter.schemas.compat.diff.schema import Path, canonical

if TYPE_CHECKING:
    from charter.schemas.compat.diff.differ import Differ

JSON_TYPES = ("null", "boolean", "object", "array", "number", "string", "integer")


def diff_type(d: Differ, old: dict[str, Any], new: dict[str, Any], path: Path) -> None:
    o, n = _types(old.get("type")), _types(new.get("type"))
    if o == n:
        return
    lost = sorted(t for t in o if not _covers(n, t))
    gained = sorted(t for t in n if not _covers(o, t))
    if not lost and not gained:
        return
    parts = []
    if lost:
        parts.append(f"no longer accepts {', '.join(lost)}")
    if gained:
        parts.append(f"now accepts {', '.join(gained)}")
    label = f"type {_fmt_type(old.get('type'))} -> {_fmt_type(new.get('type'))}"
    d.add(
        (*path, "type"),
        "type.changed",
        f"{label}: {'; '.join(parts)}",
        backward=bool(lost),
        forward=bool(gained),
        old=old.get("type"),
        new=new.get("type"),
    )


def diff_enum(d: Differ, old: dict[str, Any], new: dict[str, Any], path: Path) -> None:
    o, n = _allowed_values(old), _allowed_values(new)
    if o is None and n is None:
        return
    key = "const" if "const" in new or ("const" in old and "enum" not in new) else "enum"
    if o is None:
        d.add(
            (*path, key),
            f"{key}.added",
            f"values restricted to {_fmt(list(n.values()))}",  # type: ignore[union-attr]
            backward=True,
            new=new.get(key),
        )
        return
    if n is None:
        d.add(
            (*path, key),
            f"{key}.removed",
            f"values no longer restricted (was {_fmt(list(o.values()))})",
            forward=True,
            old=old.get(key),
        )
        return
    removed = [o[k] for k in o if k not in n]
    added = [n[k] for k in n if k not in o]
    if removed:
        d.add(
            (*path, key),
            "enum.value_removed",
            f"value(s) {_fmt(removed)} no longer allowed",
            backward=True,
            old=removed,
        )
    if added:
        d.add((*path, key), "enum.value_added", f"new value(s) {_fmt(added)} allowed", forward=True, new=added)


def diff_entry_reference(d: Differ, old: dict[str, Any], new: dict[str, Any], path: Path) -> None:
    o_ref, n_ref = old.get("x-charter-ref"), new.get("x-charter-ref")
    if o_ref != n_ref:
        d.add(
            (*path, "x-charter-ref"),
            "reference.changed",
            f"entry reference target {o_ref!r} -> {n_ref!r}",
            backward=n_ref is not None,
            forward=o_ref is not None,
            old=o_ref,
            new=n_ref,
        )


def diff_asset_reference(d: Differ, old: dict[str, Any], new: dict[str, Any], path: Path) -> None:
    o, n = old.get(ASSET_KEYWORD), new.get(ASSET_KEYWORD)
    if o == n:
        return
    where = (*path, ASSET_KEYWORD)
    if o is None or n is None:
        d.add(
            where,
            "asset_reference.added" if o is None else "asset_reference.removed",
            "now an asset reference" if o is None else "no longer an asset reference",
            backward=o is None,
            forward=n is None,
            old=o,
            new=n,
        )
        return
    tighter, looser = narrowed(o, n), narrowed(n, o)
    if tighter or looser:
        d.add(
            where,
            "asset_reference.changed",
            "asset constraints: " + "; ".join(tighter + [f"relaxed: {x}" for x in looser]),
            backward=bool(tighter),
            forward=bool(looser),
            old=o,
            new=n,
        )


def _fmt(values: Any) -> str:
    if isinstance(values, list | tuple | set | frozenset):
        return ", ".join(json.dumps(v) if not isinstance(v, str) else repr(v) for v in values)
    return json.dumps(values)


def _types(value: Any) -> frozenset[str]:
    if value is None:
        return frozenset(JSON_TYPES) - {"integer"}
    if isinstance(value, str):
        return frozenset({value})
    return frozenset(v for v in value if isinstance(v, str))


def _covers(types: frozenset[str], t: str) -> bool:
    return t in types or (t == "integer" and "number" in types)


def _fmt_type(value: Any) -> str:
    if value is None:
        return "(any)"
    return value if isinstance(value, str) else "[" + ", ".join(value) + "]"


def _allowed_values(schema: dict[str, Any]) -> dict[str, Any] | None:
    if "const" in schema:
        values = [schema["const"]]
        if isinstance(schema.get("enum"), list):
            values = [v for v in values if canonical(v) in {canonical(e) for e in schema["enum"]}]
        return {canonical(v): v for v in values}
    if isinstance(schema.get("enum"), list):
        return {canonical(v): v for v in schema["enum"]}
    return None


def value_kinds(schema: Any) -> frozenset[str]:
    """The JSON types a (normalised, ``$ref``-followed) subschema can accept, ``integer`` counted
    apart from ``number``: from ``type``, else from ``const``/``enum`` values, else every type.
    ``false`` accepts none."""
    if schema is False or (isinstance(schema, dict) and set(schema) == {"not"} and schema["not"] in ({}, True)):
        return frozenset()
    if not isinstance(schema, dict):
        return frozenset(JSON_TYPES)
    out = frozenset(JSON_TYPES)
    if "type" in schema:
        declared = _types(schema["type"])
        out = frozenset(declared | ({"integer"} if "number" in declared else set()))
    values = [schema["const"]] if "const" in schema else schema.get("enum")
    if isinstance(values, list):
        out &= frozenset(k for v in values for k in _kinds_of(v))
    for branch in schema.get("allOf") or []:
        if (isinstance(branch, dict) and "$ref" not in branch) or branch is False:
            out &= value_kinds(branch)  # every condition holds: only types all of them accept
    return out


def intersect_types(a: Any, b: Any) -> list[str]:
    """The ``type`` list accepting what both ``type`` values accept (``integer`` within ``number``)."""
    ta, tb = _types(a), _types(b)
    return sorted({t for t in ta if _covers(tb, t)} | {t for t in tb if _covers(ta, t)})


def _kinds_of(value: Any) -> set[str]:
    if value is None:
        return {"null"}
    if isinstance(value, bool):
        return {"boolean"}
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
        return {"integer", "number"}
    if isinstance(value, float):
        return {"number"}
    if isinstance(value, str):
        return {"string"}
    return {"array"} if isinstance(value, list) else {"object"}
