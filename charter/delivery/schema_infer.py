"""JSON Schema inferred from JSON values (``charter schema import --from wagtail``).

Wagtail's API v2 serves pages, not a description of its page models, so the Wagtail import infers
each field's schema from the values its live pages hold: :func:`infer` gives the narrowest schema
this module knows that accepts every value (a ``type`` per JSON kind, integers and numbers merged to
``number``, arrays by their items, objects by their keys, objects carrying a string ``intent`` (the
adapter's StreamField blocks) as a ``oneOf`` per intent, and a string ``format`` only when every
value has it); :func:`infer_document` does the same for whole documents (``required``: present on
every one, and not null). It is a description of the data, not of the model: a value an editor never entered is
not seen.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from charter.strictjson import json_type

#: String formats recognised, each only when every value of the field matches.
FORMATS: list[tuple[str, Callable[[str], bool]]] = [
    (
        "date-time",
        lambda s: (
            re.fullmatch(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})", s) is not None
        ),
    ),
    ("date", lambda s: re.fullmatch(r"\d{4}-\d{2}-\d{2}", s) is not None),
    ("uri", lambda s: re.fullmatch(r"https?://[^\s/$.?#][^\s]*", s) is not None),
    ("email", lambda s: re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", s) is not None),
]

MAX_DEPTH = 32


def infer(values: list[Any], depth: int = 0) -> dict[str, Any]:
    """The schema of ``values``, ``null`` allowed when one is ``None``; ``{}`` for no values."""
    present = [v for v in values if v is not None]
    if depth > MAX_DEPTH:
        return {}
    if len(present) < len(values):
        return _or_null(_infer_present(present, depth))
    return _infer_present(present, depth) if present else {}


def _or_null(schema: dict[str, Any]) -> dict[str, Any]:
    if not schema:
        return {"type": "null"}
    if set(schema) == {"type"}:
        kinds = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        return {"type": sorted([*kinds, "null"])}
    return {"anyOf": [schema, {"type": "null"}]}


def _infer_present(present: list[Any], depth: int) -> dict[str, Any]:
    if not present:
        return {}
    kinds = [json_type(v) for v in present]
    floats = "number" in kinds
    by_kind: dict[str, list[Any]] = {}
    for kind, v in zip(kinds, present, strict=True):
        by_kind.setdefault("number" if floats and kind == "integer" else kind, []).append(v)
    schemas = [_infer_kind(kind, vs, depth) for kind, vs in sorted(by_kind.items())]  # stable: by kind
    if len(schemas) == 1:
        return schemas[0]
    if all(set(s) == {"type"} for s in schemas):
        return {"type": sorted(str(s["type"]) for s in schemas)}
    return {"anyOf": schemas}


def _infer_kind(kind: str, values: list[Any], depth: int) -> dict[str, Any]:
    if kind == "string":
        out: dict[str, Any] = {"type": "string"}
        for name, matches in FORMATS:
            if all(matches(v) for v in values):
                out["format"] = name
                break
        return out
    if kind == "array":
        items = [item for v in values for item in v]
        return {"type": "array", "items": infer(items, depth + 1)} if items else {"type": "array"}
    if kind == "object":
        if all(isinstance(v.get("intent"), str) for v in values):
            return _blocks(values, depth)
        return infer_document(values, depth + 1)
    return {"type": kind}


def _blocks(values: list[dict[str, Any]], depth: int) -> dict[str, Any]:
    """StreamField blocks (``{"intent": ..., ...}``): one object schema per intent."""
    by_intent: dict[str, list[dict[str, Any]]] = {}
    for v in values:
        by_intent.setdefault(v["intent"], []).append(v)
    branches = []
    for intent, blocks in sorted(by_intent.items()):
        branch = infer_document(blocks, depth + 1)
        branch["properties"]["intent"] = {"const": intent}
        branches.append(branch)
    return branches[0] if len(branches) == 1 else {"oneOf": branches}


def infer_document(docs: list[dict[str, Any]], depth: int = 0) -> dict[str, Any]:
    """An object schema for ``docs``: every key seen, ``required`` the keys with a non-null value in
    every one, keys in the order first seen."""
    keys: dict[str, list[Any]] = {}
    for doc in docs:
        for k, v in doc.items():
            keys.setdefault(k, []).append(v)
    required = [k for k, vs in keys.items() if len([v for v in vs if v is not None]) == len(docs)]
    props = {k: infer(vs, depth) for k, vs in keys.items()}
    return {"type": "object", "required": required, "properties": props}
