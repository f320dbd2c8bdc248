"""Dotted contract paths, resolved in documents (live) and in schemas (static).

On top of :mod:`charter.schemas.paths` contracts read paths the way a front end thinks of a page:

* arrays are crossed implicitly: ``features.title`` means ``features[].title``;
* an intent name selects sections: ``hero.title`` means "``title`` of every section whose
  ``intent`` is ``hero``", in whichever array of intent-discriminated sections holds them (the
  seed's ``hero.cta.href``). A page without a hero satisfies ``hero.title`` vacuously; a schema
  that no longer has the ``hero`` intent does not.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from charter.schemas.intents import KNOWN_INTENTS
from charter.schemas.paths import FieldPath, Segment
from charter.schemas.validation import FORMAT_CHECKER, resolve_local_ref
from charter.strictjson import json_type

MAX_DEPTH = 64


def _escape(name: str) -> str:
    return name.replace("~", "~0").replace("/", "~1")


# -- documents ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Found:
    pointer: str
    value: Any
    present: bool


def _intent_items(node: dict[str, Any], intent: str, ptr: str) -> list[tuple[str, Any]] | None:
    """Items with ``intent`` in any array field of ``node``; None when no array holds intents."""
    out: list[tuple[str, Any]] = []
    has_intents = False
    for key, value in node.items():
        if isinstance(value, list) and any(isinstance(v, dict) and "intent" in v for v in value):
            has_intents = True
            out.extend(
                (f"{ptr}/{_escape(key)}/{i}", v)
                for i, v in enumerate(value)
                if isinstance(v, dict) and v.get("intent") == intent
            )
    return out if has_intents else None


def _select(items: list[tuple[str, Any]], seg: Segment) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for ptr, node in items:
        if isinstance(node, list) and (seg.each is None or seg.each == ""):
            out.extend((f"{ptr}/{i}", v) for i, v in enumerate(node))
        elif isinstance(node, list) and isinstance(seg.each, tuple):
            key, wanted = seg.each
            out.extend(
                (f"{ptr}/{i}", v) for i, v in enumerate(node) if isinstance(v, dict) and str(v.get(key)) == wanted
            )
        else:
            out.append((ptr, node))
    return out


def find(doc: Any, path: FieldPath, intents: frozenset[str] = KNOWN_INTENTS) -> list[Found]:
    """Every place ``path`` reaches in ``doc``: present values, and the pointers where it stops
    (absent or null). A segment naming one of ``intents`` where no such field exists selects the
    sections of that intent; when none match, nothing is yielded (vacuously satisfied)."""
    current: list[tuple[str, Any]] = [("", doc)]
    out: list[Found] = []
    for index, seg in enumerate(path.segments):
        last = index == len(path.segments) - 1
        nxt: list[tuple[str, Any]] = []
        for ptr, node in current:
            node_items = [(f"{ptr}/{i}", v) for i, v in enumerate(node)] if isinstance(node, list) else [(ptr, node)]
            for p, n in node_items:
                if not isinstance(n, dict):
                    out.append(Found(p, n, False))
                    continue
                if seg.name not in n:
                    selected = _intent_items(n, seg.name, p) if seg.each is None and seg.name in intents else None
                    if selected is not None:
                        if last:
                            out.extend(Found(sp, sv, True) for sp, sv in selected)
                        nxt.extend(selected)
                        continue
                if n.get(seg.name) is None:
                    out.append(Found(f"{p}/{_escape(seg.name)}", None, False))
                    continue
                child_ptr = f"{p}/{_escape(seg.name)}"
                child = n[seg.name]
                chosen = _select([(child_ptr, child)], seg) if seg.each is not None else [(child_ptr, child)]
                if last:
                    out.extend(Found(cp, cv, True) for cp, cv in chosen)
                else:
                    nxt.extend(chosen)
        current = nxt
    return out


def value_has_type(value: Any, type_name: str) -> bool:
    """Does a JSON value satisfy a contract type (formats checked like the validator does)?"""
    if type_name == "string":
        return isinstance(value, str)
    if type_name in ("url", "date-time", "email"):
        return isinstance(value, str) and FORMAT_CHECKER.conforms(value, type_name)
    if type_name == "boolean":
        return isinstance(value, bool)
    if type_name == "integer":
        return (isinstance(value, int) and not isinstance(value, bool)) or (
            isinstance(value, float) and value.is_integer()
        )
    if type_name == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if type_name == "array":
        return isinstance(value, list)
    if type_name == "object":
        return isinstance(value, dict)
    return False


# -- schemas ------------------------------------------------------------------------------------


@dataclass
class Leaf:
    """Where a path ends in a schema. ``guaranteed`` is False with ``reason`` when some entry
    valid under the schema may lack the value."""

    schema: Any
    trail: str
    guaranteed: bool = True
    reason: str | None = None


class SchemaWalker:
    def __init__(self, root: dict[str, Any]) -> None:
        self.root = root

    def deref(self, schema: Any, depth: int = 0) -> Any:
        while isinstance(schema, dict) and isinstance(schema.get("$ref"), str) and depth < MAX_DEPTH:
            target = resolve_local_ref(self.root, schema["$ref"])
            siblings = {k: v for k, v in schema.items() if k != "$ref"}
            schema = {**target, **siblings} if isinstance(target, dict) and siblings else target
            depth += 1
        return schema

    def flat(self, schema: Any) -> dict[str, Any]:
        """``properties`` and ``required`` gathered from the schema and its ``allOf`` members."""
        schema = self.deref(schema)
        if not isinstance(schema, dict):
            return {}
        props = dict(schema.get("properties") or {})
        required = set(schema.get("required") or [])
        for member in schema.get("allOf") or []:
            sub = self.flat(member)
            for k, v in (sub.get("properties") or {}).items():
                props.setdefault(k, v)
            required |= set(sub.get("required") or [])
        return {**schema, "properties": props, "required": sorted(required)}

    def branches(self, schema: Any) -> list[Any] | None:
        schema = self.deref(schema)
        if not isinstance(schema, dict):
            return None
        for key in ("oneOf", "anyOf"):
            if isinstance(schema.get(key), list) and not schema.get("properties"):
                return [self.deref(b) for b in schema[key]]
        return None

    def intent_branch(self, items: Any, intent: str) -> tuple[bool, Any]:
        """(items are intent-discriminated, the branch for ``intent`` or None)."""
        branches = self.branches(items)
        if not branches:
            return False, None
        discriminated = False
        for b in branches:
            flat = self.flat(b)
            spec = self.deref((flat.get("properties") or {}).get("intent"))
            if not isinstance(spec, dict):
                continue
            discriminated = True
            values = [spec["const"]] if "const" in spec else list(spec.get("enum") or [])
            if intent in values:
                return True, b
        return discriminated, None

    def leaves(self, schema: Any, path: FieldPath, index: int = 0, trail: str = "") -> list[Leaf]:
        schema = self.deref(schema)
        if index == len(path.segments):
            return [Leaf(schema, trail)]
        alternatives = self.branches(schema)
        if alternatives is not None and not self._is_array(schema):
            out: list[Leaf] = []
            for b in alternatives:
                out.extend(self.leaves(b, path, index, trail))
            return out
        if self._is_array(schema):
            return self.leaves(self.deref(schema.get("items", {})), path, index, trail + "[]")
        seg = path.segments[index]
        flat = self.flat(schema)
        props = flat.get("properties") or {}
        here = f"{trail}.{seg.name}" if trail else seg.name
        if seg.name in props:
            child = self.deref(props[seg.name])
            optional = seg.name not in flat.get("required", [])
            if seg.each is not None:
                if not self._is_array(child):
                    return [Leaf(child, here, False, f"{here} is not an array")]
                items = self.deref(child.get("items", {}))
                if isinstance(seg.each, tuple):
                    _, branch = self.intent_branch(items, seg.each[1])
                    if branch is None:
                        return [Leaf(None, here, False, f"{here} has no items with {seg.each[0]} {seg.each[1]!r}")]
                    items = branch
                child, here = items, here + "[]"
            result = self.leaves(child, path, index + 1, here)
            if optional:
                for leaf in result:
                    if leaf.guaranteed:
                        leaf.guaranteed, leaf.reason = False, f"{here} is optional (not in required)"
            return result
        # An intent name: sections of that intent in an array of intent-discriminated items.
        for name, sub in props.items():
            sub = self.deref(sub)
            if not self._is_array(sub):
                continue
            discriminated, branch = self.intent_branch(sub.get("items", {}), seg.name)
            if branch is not None:
                return self.leaves(branch, path, index + 1, f"{trail + '.' if trail else ''}{name}[{seg.name}]")
            if discriminated and seg.each is None and index == 0:
                return [Leaf(None, here, False, f"no field {seg.name!r} and no section with intent {seg.name!r}")]
        extra = flat.get("additionalProperties", True)
        if extra is False or (isinstance(extra, dict) and extra.get("not") == {}):
            return [Leaf(None, here, False, f"{here} does not exist (closed model)")]
        return [Leaf(extra if isinstance(extra, dict) else {}, here, False, f"{here} is not a declared field")]

    @staticmethod
    def _is_array(schema: Any) -> bool:
        if not isinstance(schema, dict):
            return False
        t = schema.get("type")
        return t == "array" or (isinstance(t, list) and t == ["array"]) or ("items" in schema and t is None)

    def types_of(self, schema: Any) -> tuple[set[str] | None, set[str]]:
        """(JSON types the value may have, or None when unconstrained; formats it must have)."""
        schema = self.deref(schema)
        if schema is None:
            return set(), set()
        if not isinstance(schema, dict):
            return None, set()
        alternatives = self.branches(schema)
        if alternatives is not None and "type" not in schema:
            types: set[str] = set()
            formats: set[str] = set()
            for b in alternatives:
                t, f = self.types_of(b)
                if t is None:
                    return None, set()
                types |= t
                formats |= f or {"(none)"}
            return types, formats
        values = [schema["const"]] if "const" in schema else schema.get("enum")
        if isinstance(values, list) and "type" not in schema:
            return {json_type(v) for v in values}, set()
        t = schema.get("type")
        if t is None:
            return None, set()
        types = {t} if isinstance(t, str) else set(t)
        return types, ({schema["format"]} if isinstance(schema.get("format"), str) else set())


FORMATS_FOR = {
    "url": {"url", "uri", "iri"},
    "date-time": {"date-time"},
    "email": {"email", "idn-email"},
}


def schema_type_problem(types: set[str] | None, formats: set[str], wanted: str) -> str | None:
    """Why a schema leaf does not guarantee the contract type ``wanted`` (None when it does)."""
    if types is None:
        return f"the schema does not constrain its type, so it is not guaranteed to be {wanted}"
    if "null" in types:
        return f"may be null (type {sorted(types)}), the consumer expects {wanted}"
    if wanted in FORMATS_FOR:
        if types != {"string"}:
            return f"is {'/'.join(sorted(types))}, the consumer expects {wanted} (a string)"
        allowed = FORMATS_FOR[wanted]
        if not formats or not formats <= allowed:
            have = ", ".join(sorted(formats)) or "no format"
            return f"is a string with {have}, not guaranteed to be {wanted} (format {'/'.join(sorted(allowed))})"
        return None
    accepted = {"number": {"number", "integer"}, "integer": {"integer"}}.get(wanted, {wanted})
    if not types or not types <= accepted:
        return f"is {'/'.join(sorted(types)) or 'nothing'}, the consumer expects {wanted}"
    return None
