"""Structural diff of two JSON Schema 2020-12 documents, classified by direction.

The comparison walks both schemas in step. For each keyword it decides, conservatively, whether
the change can reject content the old schema accepted (breaks BACKWARD: stored entries) and
whether it can produce content the old schema rejected (breaks FORWARD: consumers written
against the old schema). When a change cannot be proven safe in a direction (a changed
``pattern``, an unknown keyword), it is reported as breaking that direction.

Local ``$ref`` are followed; a pair of definitions is compared once and its changes are reported
at the definition's pointer in the new schema (``/$defs/hero/...``), which also makes recursive
schemas terminate. A ``$ref`` that does not resolve, or a chain of ``$ref`` that only points at
itself, raises :class:`SchemaDiffError`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from fractions import Fraction
from typing import Any

from charter.exceptions import BadRequest, ErrorDetail
from charter.schemas.compat.model import Change
from charter.schemas.validation import pointer, resolve_local_ref

Path = tuple[Any, ...]

ANNOTATIONS = {
    "title",
    "description",
    "examples",
    "default",
    "$comment",
    "deprecated",
    "readOnly",
    "writeOnly",
    "contentMediaType",
    "contentEncoding",
    "contentSchema",
    "$anchor",
    "$dynamicAnchor",
    "$schema",
    "$vocabulary",
}
#: Handled by the schema check itself (version, identity) or by :func:`diff_x_charter`.
ROOT_ONLY = {"$id", "version", "x-charter", "$defs", "definitions"}
LOWER_LIMITS = ("minLength", "minItems", "minProperties", "minContains")
UPPER_LIMITS = ("maxLength", "maxItems", "maxProperties", "maxContains")
HANDLED = {
    "$ref",
    "type",
    "enum",
    "const",
    "minimum",
    "exclusiveMinimum",
    "maximum",
    "exclusiveMaximum",
    "multipleOf",
    "pattern",
    "format",
    "uniqueItems",
    "required",
    "properties",
    "patternProperties",
    "additionalProperties",
    "items",
    "prefixItems",
    "contains",
    "oneOf",
    "anyOf",
    "allOf",
    "not",
    "dependentRequired",
    "dependentSchemas",
    "propertyNames",
    "x-charter-ref",
    *LOWER_LIMITS,
    *UPPER_LIMITS,
}
#: (narrower, wider): every value valid for the first format is valid for the second.
FORMAT_SUBSETS = {
    ("email", "idn-email"),
    ("hostname", "idn-hostname"),
    ("uri", "iri"),
    ("uri", "uri-reference"),
    ("uri-reference", "iri-reference"),
    ("iri", "iri-reference"),
    ("url", "uri-reference"),
    ("url", "iri-reference"),
    ("uri", "iri-reference"),
}
JSON_TYPES = ("null", "boolean", "object", "array", "number", "string", "integer")


class SchemaDiffError(BadRequest):
    """A schema cannot be compared: unresolvable or purely cyclic ``$ref``. ``pointer`` locates
    the offending ``$ref``; ``side`` is ``old`` or ``new``; ``file`` is set by callers that know it."""

    type_slug = "schema-diff"
    title = "Schema cannot be compared"

    def __init__(self, message: str, pointer: str, side: str, file: str | None = None) -> None:
        super().__init__(detail=message, errors=[ErrorDetail(pointer, message, "$ref", file)])
        self.pointer = pointer
        self.side = side

    def in_file(self, file: str) -> SchemaDiffError:
        """The same error, naming the file it is in."""
        return SchemaDiffError(f"{file}: {self.detail}", self.pointer, self.side, file)


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _fmt(values: Any) -> str:
    if isinstance(values, list | tuple | set | frozenset):
        return ", ".join(json.dumps(v) if not isinstance(v, str) else repr(v) for v in values)
    return json.dumps(values)


def diff_schemas(old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    """Every change from ``old`` to ``new`` (both whole content-type documents), in pointer order."""
    differ = Differ(old, new)
    differ.compare(old, new, ())
    differ.unused_definitions()
    from charter.schemas.compat.locales import diff_x_charter

    changes = differ.changes + diff_x_charter(old, new)
    seen: set[tuple[str, str, str]] = set()
    out: list[Change] = []
    for c in changes:
        key = (c.pointer, c.kind, c.message)
        if key not in seen:
            seen.add(key)
            out.append(c)
    return out


class Differ:
    def __init__(self, old_root: dict[str, Any], new_root: dict[str, Any]) -> None:
        self.old_root = old_root
        self.new_root = new_root
        self.changes: list[Change] = []
        #: Ref pairs compared already (with the schemas they resolved to), and those being compared
        #: now (an ancestor in the walk: met again, the schema is recursive).
        self.seen_refs: set[tuple[str | None, str | None, str, str]] = set()
        self.in_progress: set[tuple[str | None, str | None, str, str]] = set()
        #: In-progress pairs met again below an opaque context (see :meth:`opaque_changes`).
        self.recursed: set[tuple[str | None, str | None, str, str]] = set()
        self.visited_defs: set[str] = set()

    # -- helpers --------------------------------------------------------------------------------

    def add(
        self,
        path: Path,
        kind: str,
        message: str,
        *,
        backward: bool = False,
        forward: bool = False,
        annotation: bool = False,
        old: Any = None,
        new: Any = None,
    ) -> None:
        self.changes.append(Change(pointer(path), kind, message, backward, forward, annotation, old, new))

    def child(self, fresh: bool = False) -> Differ:
        """A differ for a sub-comparison. ``fresh``: forget the pairs already compared elsewhere
        (their changes were classified for a monotonic context; this one is not), keeping only
        the pairs in progress so that recursive schemas still terminate."""
        d = Differ(self.old_root, self.new_root)
        d.seen_refs = set(self.in_progress if fresh else self.seen_refs)
        d.in_progress = set(self.in_progress)
        return d

    def effect(self, old: Any, new: Any, path: Path) -> tuple[bool, bool]:
        """(breaks backward, breaks forward) of replacing ``old`` with ``new``, without recording."""
        d = self.child()
        d.compare(old, new, path)
        self.visited_defs |= d.visited_defs
        relevant = [c for c in d.changes if not c.annotation]
        return any(c.backward for c in relevant), any(c.forward for c in relevant)

    def opaque_changes(self, run: Callable[[Differ], None]) -> tuple[list[Change], bool]:
        """The changes ``run(child)`` finds below a context where a change's direction says
        nothing about the whole (``not``; a ``oneOf`` whose alternatives may overlap), compared
        afresh, even ref pairs met elsewhere. Also True when a recursive reference back to a
        schema being compared met a definition that changed (its changes are not all known yet,
        so the caller must assume some)."""
        d = self.child(fresh=True)
        run(d)
        self.visited_defs |= d.visited_defs
        self.recursed |= d.recursed - self.in_progress
        changed_recursion = any(self._closure_differs(k[0], k[1]) for k in d.recursed & self.in_progress)
        return [c for c in d.changes if not c.annotation], changed_recursion

    def both_ways(self, run: Callable[[Differ], None], context: str, path: Path, kind: str, message: str) -> None:
        """Record the changes ``run(child)`` finds below a non-monotonic ``context`` as breaking
        both ways; ``kind``/``message`` stand for them when only a changed recursion was met."""
        found, recursion = self.opaque_changes(run)
        for c in found:
            message_c = f"{c.message} ({context}: breaks both ways)"
            self.changes.append(Change(c.pointer, c.kind, message_c, True, True, False, c.old, c.new))
        if recursion and not found:
            self.add(path, kind, message, backward=True, forward=True)

    def same(self, old: Any, new: Any) -> bool:
        """Are two subschemas identical, including every definition their ``$ref`` reach?"""
        if canonical(old) != canonical(new):
            return False
        refs = _refs_in(old)
        self.visited_defs |= refs
        return not any(self._closure_differs(r, r) for r in refs)

    def _closure_differs(self, old_ref: str | None, new_ref: str | None) -> bool:
        """Do the definitions reachable from ``old_ref`` (old schema) and ``new_ref`` differ?"""
        return canonical(_closure(self.old_root, old_ref)) != canonical(_closure(self.new_root, new_ref))

    def deref(self, schema: Any, root: dict[str, Any], path: Path, side: str) -> tuple[Any, str | None]:
        """Follow ``$ref`` (merging sibling keywords); return the schema and the last ref followed."""
        ref_seen: list[str] = []
        last: str | None = None
        while isinstance(schema, dict) and isinstance(schema.get("$ref"), str):
            ref = schema["$ref"]
            if ref in ref_seen:
                raise SchemaDiffError(
                    f"cyclic $ref: {' -> '.join([*ref_seen, ref])} never reaches a schema", pointer(path), side
                )
            ref_seen.append(ref)
            target = resolve_local_ref(root, ref)
            if target is None:
                raise SchemaDiffError(f"unresolvable $ref {ref!r}", pointer((*path, "$ref")), side)
            siblings = {k: v for k, v in schema.items() if k != "$ref"}
            last = ref
            if target is True:
                target = {}
            if target is False:
                target = {"not": {}}
            if not isinstance(target, dict):
                raise SchemaDiffError(f"$ref {ref!r} does not point at a schema", pointer((*path, "$ref")), side)
            if siblings and set(siblings) & (set(target) - ANNOTATIONS):
                # $ref with a sibling the target also has: both apply (2020-12 §8.2.3.1), so
                # merging would let one hide the other.
                schema = {"allOf": [target, siblings]}
            else:
                schema = {**target, **siblings} if siblings else target
        return schema, last

    # -- the walk -------------------------------------------------------------------------------

    def compare(self, old: Any, new: Any, path: Path) -> None:
        old, old_ref = self.deref(old, self.old_root, path, "old")
        new, new_ref = self.deref(new, self.new_root, path, "new")
        if old_ref or new_ref:
            key = (old_ref, new_ref, canonical(old), canonical(new))
            if key in self.seen_refs:
                if key in self.in_progress:
                    self.recursed.add(key)
                return  # compared already (or in progress: a recursive schema)
            self.seen_refs.add(key)
            self.visited_defs.update(r for r in (old_ref, new_ref) if r)
            ref = new_ref or old_ref
            if ref and ref.startswith("#/"):
                path = tuple(p.replace("~1", "/").replace("~0", "~") for p in ref[2:].split("/"))
            self.in_progress.add(key)
            try:
                self._compare_resolved(old, new, path)
            finally:
                self.in_progress.discard(key)
            return
        self._compare_resolved(old, new, path)

    def _compare_resolved(self, old: Any, new: Any, path: Path) -> None:
        old_false, new_false = _is_false(old), _is_false(new)
        if old_false or new_false:
            if old_false and not new_false:
                self.add(path, "schema.opened", "was `false` (nothing allowed), now allows values", forward=True)
            elif new_false and not old_false:
                self.add(path, "schema.closed", "now `false`: no value is allowed here", backward=True)
            return
        old = {} if old is True else old
        new = {} if new is True else new
        if not isinstance(old, dict) or not isinstance(new, dict):
            if canonical(old) != canonical(new):
                self.add(path, "schema.changed", "schema changed", backward=True, forward=True, old=old, new=new)
            return
        self._annotations(old, new, path)
        self._type(old, new, path)
        self._enum(old, new, path)
        self._bounds(old, new, path)
        self._limits(old, new, path)
        self._multiple_of(old, new, path)
        self._pattern_format(old, new, path)
        self._unique(old, new, path)
        self._required(old, new, path)
        self._properties(old, new, path)
        self._items(old, new, path)
        self._combinators(old, new, path)
        self._dependencies(old, new, path)
        self._other(old, new, path)

    def _annotations(self, old: dict[str, Any], new: dict[str, Any], path: Path) -> None:
        for key in sorted(set(old) | set(new)):
            is_note = key in ANNOTATIONS or (key.startswith("x-") and key not in ("x-charter", "x-charter-ref"))
            if not is_note or canonical(old.get(key)) == canonical(new.get(key)):
                continue
            verb = "added" if key not in old else "removed" if key not in new else "changed"
            self.add(
                (*path, key),
                f"annotation.{verb}",
                f"{key} {verb} (documentation only)",
                annotation=True,
                old=old.get(key),
                new=new.get(key),
            )

    def _type(self, old: dict[str, Any], new: dict[str, Any], path: Path) -> None:
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
        self.add(
            (*path, "type"),
            "type.changed",
            f"{label}: {'; '.join(parts)}",
            backward=bool(lost),
            forward=bool(gained),
            old=old.get("type"),
            new=new.get("type"),
        )

    def _enum(self, old: dict[str, Any], new: dict[str, Any], path: Path) -> None:
        o, n = _allowed_values(old), _allowed_values(new)
        if o is None and n is None:
            return
        key = "const" if "const" in new or ("const" in old and "enum" not in new) else "enum"
        if o is None:
            self.add(
                (*path, key),
                f"{key}.added",
                f"values restricted to {_fmt(list(n.values()))}",  # type: ignore[union-attr]
                backward=True,
                new=new.get(key),
            )
            return
        if n is None:
            self.add(
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
            self.add(
                (*path, key),
                "enum.value_removed",
                f"value(s) {_fmt(removed)} no longer allowed",
                backward=True,
                old=removed,
            )
        if added:
            self.add((*path, key), "enum.value_added", f"new value(s) {_fmt(added)} allowed", forward=True, new=added)

    def _bounds(self, old: dict[str, Any], new: dict[str, Any], path: Path) -> None:
        for side, keys in (("lower", ("minimum", "exclusiveMinimum")), ("upper", ("maximum", "exclusiveMaximum"))):
            o, n = _bound(old, side), _bound(new, side)
            if o == n:
                continue
            key = next((k for k in keys if k in new), None) or next(k for k in keys if k in old)
            tighter = o is None if o is None or n is None else _tighter(n, o, side)
            what = "minimum" if side == "lower" else "maximum"
            describe = f"{what} {_fmt_bound(o, side)} -> {_fmt_bound(n, side)}"
            self.add(
                (*path, key),
                f"{what}.{'tightened' if tighter else 'relaxed'}",
                describe,
                backward=tighter,
                forward=not tighter,
                old=o,
                new=n,
            )

    def _limits(self, old: dict[str, Any], new: dict[str, Any], path: Path) -> None:
        for key in (*LOWER_LIMITS, *UPPER_LIMITS):
            o, n = old.get(key), new.get(key)
            if o == n:
                continue
            lower = key in LOWER_LIMITS
            if lower:
                # minContains defaults to 1 (it applies only with contains); the others to 0.
                default = 1 if key == "minContains" else 0
                o_eff = o if o is not None else default
                n_eff = n if n is not None else default
                if o_eff == n_eff:
                    continue
                tighter = n_eff > o_eff
            else:
                tighter = o is None or (n is not None and n < o)
            self.add(
                (*path, key),
                f"{key}.{'tightened' if tighter else 'relaxed'}",
                f"{key} {o} -> {n}",
                backward=tighter,
                forward=not tighter,
                old=o,
                new=n,
            )

    def _multiple_of(self, old: dict[str, Any], new: dict[str, Any], path: Path) -> None:
        o, n = old.get("multipleOf"), new.get("multipleOf")
        if o == n:
            return
        if o is None or n is None:
            backward = o is None
            self.add(
                (*path, "multipleOf"),
                "multipleOf.changed",
                f"multipleOf {o} -> {n}",
                backward=backward,
                forward=not backward,
                old=o,
                new=n,
            )
            return
        fo, fn = Fraction(str(o)), Fraction(str(n))
        narrower = (fn / fo).denominator == 1  # every multiple of n is a multiple of o
        wider = (fo / fn).denominator == 1
        self.add(
            (*path, "multipleOf"),
            "multipleOf.changed",
            f"multipleOf {o} -> {n}",
            backward=narrower or not wider,
            forward=wider or not narrower,
            old=o,
            new=n,
        )

    def _pattern_format(self, old: dict[str, Any], new: dict[str, Any], path: Path) -> None:
        o, n = old.get("pattern"), new.get("pattern")
        if o != n:
            if o is None:
                self.add((*path, "pattern"), "pattern.added", f"values must now match {n!r}", backward=True, new=n)
            elif n is None:
                self.add(
                    (*path, "pattern"), "pattern.removed", f"pattern {o!r} no longer enforced", forward=True, old=o
                )
            else:
                self.add(
                    (*path, "pattern"),
                    "pattern.changed",
                    f"pattern {o!r} -> {n!r} (regular languages are not compared: treated as breaking both ways)",
                    backward=True,
                    forward=True,
                    old=o,
                    new=n,
                )
        o, n = old.get("format"), new.get("format")
        if o != n:
            if o is None:
                self.add((*path, "format"), "format.added", f"values must now be a valid {n}", backward=True, new=n)
            elif n is None:
                self.add((*path, "format"), "format.removed", f"format {o} no longer enforced", forward=True, old=o)
            else:
                wider, narrower = (o, n) in FORMAT_SUBSETS, (n, o) in FORMAT_SUBSETS
                self.add(
                    (*path, "format"),
                    "format.changed",
                    f"format {o} -> {n}",
                    backward=not wider,
                    forward=not narrower,
                    old=o,
                    new=n,
                )

    def _unique(self, old: dict[str, Any], new: dict[str, Any], path: Path) -> None:
        o, n = bool(old.get("uniqueItems")), bool(new.get("uniqueItems"))
        if o != n:
            self.add(
                (*path, "uniqueItems"),
                "uniqueItems.changed",
                "items must now be unique" if n else "items no longer need to be unique",
                backward=n,
                forward=o,
                old=o,
                new=n,
            )

    def _required(self, old: dict[str, Any], new: dict[str, Any], path: Path) -> None:
        o = [r for r in old.get("required", []) if isinstance(r, str)]
        n = [r for r in new.get("required", []) if isinstance(r, str)]
        for name in n:
            if name not in o:
                self.add(
                    (*path, "required"),
                    "required.added",
                    f"{name!r} is now required: stored content without it no longer validates",
                    backward=True,
                    new=name,
                )
        for name in o:
            if name not in n:
                self.add(
                    (*path, "required"),
                    "required.removed",
                    f"{name!r} is now optional: consumers can no longer rely on it",
                    forward=True,
                    old=name,
                )

    def _property_schema(self, schema: dict[str, Any], name: str) -> Any:
        """The schema that governs property ``name`` in ``schema`` (properties, patternProperties,
        then additionalProperties, which defaults to ``true``: an open model)."""
        props = schema.get("properties") or {}
        if name in props:
            return props[name]
        matching = [sub for pattern, sub in (schema.get("patternProperties") or {}).items() if _search(pattern, name)]
        if len(matching) > 1:
            return {"allOf": matching}  # every matching pattern applies
        if matching:
            return matching[0]
        return schema.get("additionalProperties", True)

    def _properties(self, old: dict[str, Any], new: dict[str, Any], path: Path) -> None:
        op, np_ = old.get("properties") or {}, new.get("properties") or {}
        for name in [*op, *(k for k in np_ if k not in op)]:
            where = (*path, "properties", name)
            if name in op and name in np_:
                self.compare(op[name], np_[name], where)
            elif name in np_:
                before = self._property_schema(old, name)
                backward, forward = self.effect(before, np_[name], where)
                model = _model(before)
                why = {
                    "closed": "consumers of the old closed model reject it",
                    "open": "stored content may hold it with any value",
                }.get(model, "it was governed by additionalProperties")
                self.add(
                    where,
                    "property.added",
                    f"property {name!r} added ({model} model: {why})",
                    backward=backward,
                    forward=forward,
                )
            else:
                after = self._property_schema(new, name)
                backward, forward = self.effect(op[name], after, where)
                model = _model(after)
                why = {
                    "closed": "stored content holding it no longer validates",
                    "open": "new content may hold it with any value",
                }.get(model, "it is now governed by additionalProperties")
                self.add(
                    where,
                    "property.removed",
                    f"property {name!r} removed ({model} model: {why})",
                    backward=backward,
                    forward=forward,
                )
        opp, npp = old.get("patternProperties") or {}, new.get("patternProperties") or {}
        for pattern in [*opp, *(k for k in npp if k not in opp)]:
            where = (*path, "patternProperties", pattern)
            if pattern in opp and pattern in npp:
                self.compare(opp[pattern], npp[pattern], where)
            elif pattern in npp:
                backward, forward = self.effect(old.get("additionalProperties", True), npp[pattern], where)
                # Names declared in properties, or matched by another pattern, now must match it too.
                if opp or any(_search(pattern, n) for n in [*op, *np_]):
                    backward = backward or self.effect(True, npp[pattern], where)[0]
                self.add(
                    where,
                    "patternProperties.added",
                    f"properties matching {pattern!r} now constrained",
                    backward=backward,
                    forward=forward,
                )
            else:
                backward, forward = self.effect(opp[pattern], new.get("additionalProperties", True), where)
                if npp or any(_search(pattern, n) for n in [*op, *np_]):
                    forward = forward or self.effect(opp[pattern], True, where)[1]
                self.add(
                    where,
                    "patternProperties.removed",
                    f"pattern {pattern!r} removed",
                    backward=backward,
                    forward=forward,
                )
        if not _is_objectish(old) and not _is_objectish(new):
            return
        oa, na = old.get("additionalProperties", True), new.get("additionalProperties", True)
        if self.same(oa, na):
            return
        where = (*path, "additionalProperties")
        if _is_false(na) and not _is_false(oa):
            self.add(where, "model.closed", "model closed: unknown properties are now rejected", backward=True)
        elif _is_false(oa) and not _is_false(na):
            self.add(
                where,
                "model.opened",
                "model opened: content may now carry properties consumers don't know",
                forward=True,
            )
        else:
            self.compare(oa, na, where)

    def _items(self, old: dict[str, Any], new: dict[str, Any], path: Path) -> None:
        opf, npf = old.get("prefixItems") or [], new.get("prefixItems") or []
        oi, ni = old.get("items", True), new.get("items", True)
        for i in range(max(len(opf), len(npf))):
            where = (*path, "prefixItems", i)
            self.compare(opf[i] if i < len(opf) else oi, npf[i] if i < len(npf) else ni, where)
        if "items" in old or "items" in new:
            self.compare(oi, ni, (*path, "items"))
        oc, nc = old.get("contains"), new.get("contains")
        if oc is not None and nc is not None and ("maxContains" in old or "maxContains" in new):
            # With an upper bound on matching items, a narrower `contains` lets arrays that had
            # too many matches through and a wider one rejects them: any change breaks both ways.
            where = (*path, "contains")
            self.both_ways(
                lambda d: d.compare(oc, nc, where),
                "inside a contains bounded by maxContains",
                where,
                "contains.changed",
                "contains changed",
            )
        elif oc is not None and nc is not None:
            self.compare(oc, nc, (*path, "contains"))
        elif oc is not None or nc is not None:
            added = nc is not None
            self.add(
                (*path, "contains"),
                f"contains.{'added' if added else 'removed'}",
                "arrays must now contain a matching item" if added else "contains no longer enforced",
                backward=added,
                forward=not added,
            )

    def _combinators(self, old: dict[str, Any], new: dict[str, Any], path: Path) -> None:
        switched = False
        for a, b, wider in (("oneOf", "anyOf", True), ("anyOf", "oneOf", False)):
            if a in old and b in new and a not in new and b not in old:
                self.add(
                    (*path, b),
                    f"{a}.to_{b}",
                    f"{a} -> {b}"
                    + (
                        ": instances matching several branches are now accepted"
                        if wider
                        else ": instances matching several branches are now rejected"
                    ),
                    backward=not wider,
                    forward=wider,
                )
                self._branches(old[a], new[b], (*path, b))
                switched = True
        for key in ("oneOf", "anyOf"):
            if switched and (key in old) != (key in new):
                continue
            if (
                key == "oneOf"
                and key in old
                and key in new
                and not (
                    self._disjoint(old[key], self.old_root, (*path, key), "old")
                    and self._disjoint(new[key], self.new_root, (*path, key), "new")
                )
            ):
                self._overlapping_one_of(old[key], new[key], (*path, key))
            elif key in old and key in new:
                self._branches(old[key], new[key], (*path, key))
            elif key in new:
                self.add((*path, key), f"{key}.added", f"values must now match {key}", backward=True)
            elif key in old:
                self.add((*path, key), f"{key}.removed", f"{key} no longer enforced", forward=True)
        oa, na = old.get("allOf") or [], new.get("allOf") or []
        for i in range(max(len(oa), len(na))):
            where = (*path, "allOf", i)
            if i < len(oa) and i < len(na):
                self.compare(oa[i], na[i], where)
            elif i < len(na):
                self.add(where, "allOf.added", "a new allOf condition must hold", backward=True)
            else:
                self.add((*path, "allOf", i), "allOf.removed", "an allOf condition was removed", forward=True)
        if "not" in old and "not" in new:
            # Under `not` every direction flips and nothing is monotonic: any change breaks both.
            found, recursion = self.opaque_changes(lambda d: d.compare(old["not"], new["not"], (*path, "not")))
            if found or recursion:
                self.add((*path, "not"), "not.changed", "not changed", backward=True, forward=True)
        elif "not" in old or "not" in new:
            added = "not" in new
            self.add(
                (*path, "not"),
                f"not.{'added' if added else 'removed'}",
                "a `not` condition must now hold" if added else "the `not` condition was removed",
                backward=added,
                forward=not added,
            )
            self.visited_defs |= _refs_in(new.get("not") if added else old.get("not"))

    def _overlapping_one_of(self, old: Any, new: Any, path: Path) -> None:
        """``oneOf`` accepts what matches exactly one alternative. Unless the alternatives are
        disjoint, widening one can make a value match two (rejected) and narrowing one can make a
        value match only one (accepted): every change to an alternative breaks both ways."""
        self.both_ways(
            lambda d: d._branches(old, new, path),
            "inside a oneOf whose alternatives may overlap",
            path,
            "oneOf.changed",
            "a recursive alternative of this oneOf changed",
        )

    def _disjoint(self, branches: Any, root: dict[str, Any], path: Path, side: str) -> bool:
        """Can no value match two of ``branches``? True when each is an object type that
        requires ``intent`` and the branches' intent values do not overlap."""
        if not isinstance(branches, list):
            return False
        seen: set[str] = set()
        for i, branch in enumerate(branches):
            resolved, _ = self.deref(branch, root, (*path, i), side)
            if not isinstance(resolved, dict) or resolved.get("type") != "object":
                return False
            if "intent" not in (resolved.get("required") or []):
                return False
            intent = (resolved.get("properties") or {}).get("intent")
            if not isinstance(intent, dict):
                return False
            values = [intent["const"]] if "const" in intent else intent.get("enum")
            if not isinstance(values, list) or not values:
                return False
            keys = {canonical(v) for v in values}
            if keys & seen:
                return False
            seen |= keys
        return True

    def _intent_map(self, branches: list[Any], root: dict[str, Any], path: Path, side: str) -> dict[str, int] | None:
        """intent value -> branch index when every branch is intent-discriminated, else None."""
        out: dict[str, int] = {}
        for i, branch in enumerate(branches):
            resolved, _ = self.deref(branch, root, (*path, i), side)
            intent = (resolved.get("properties") or {}).get("intent") if isinstance(resolved, dict) else None
            if not isinstance(intent, dict):
                return None
            values = [intent["const"]] if "const" in intent else intent.get("enum")
            if not isinstance(values, list) or not values or not all(isinstance(v, str) for v in values):
                return None  # only string intents discriminate; anything else is compared as a plain branch
            for v in values:
                out[v] = i
        return out

    def _branches(self, old: Any, new: Any, path: Path) -> None:
        if not isinstance(old, list) or not isinstance(new, list):
            return
        oi = self._intent_map(old, self.old_root, path, "old")
        ni = self._intent_map(new, self.new_root, path, "new")
        if oi is not None and ni is not None:
            pairs: set[tuple[int, int]] = set()
            for intent, o_index in oi.items():
                if intent in ni:
                    pairs.add((o_index, ni[intent]))
                else:
                    self.add(
                        (*path, o_index),
                        "intent.removed",
                        f"intent {intent!r} removed: stored sections with it no longer validate",
                        backward=True,
                        old=intent,
                    )
            for intent, n_index in ni.items():
                if intent not in oi:
                    self.add(
                        (*path, n_index),
                        "intent.added",
                        f"intent {intent!r} added: consumers written against the old schema don't know it",
                        forward=True,
                        new=intent,
                    )
            for o_index, n_index in sorted(pairs):
                self.compare(old[o_index], new[n_index], (*path, n_index))
            return
        remaining_new = list(range(len(new)))
        unmatched_old = []
        for i, branch in enumerate(old):
            match = next((j for j in remaining_new if self.same(branch, new[j])), None)
            if match is None:
                unmatched_old.append(i)
            else:
                remaining_new.remove(match)
        # Alternatives without a discriminator: pair the leftovers in order.
        while unmatched_old and remaining_new:
            i, j = unmatched_old.pop(0), remaining_new.pop(0)
            self.compare(old[i], new[j], (*path, j))
        for i in unmatched_old:
            self.add((*path, i), "branch.removed", "an alternative was removed", backward=True)
        for j in remaining_new:
            self.add((*path, j), "branch.added", "a new alternative was added", forward=True)

    def _dependencies(self, old: dict[str, Any], new: dict[str, Any], path: Path) -> None:
        od, nd = old.get("dependentRequired") or {}, new.get("dependentRequired") or {}
        for key in sorted(set(od) | set(nd)):
            o, n = set(od.get(key, [])), set(nd.get(key, []))
            if o != n:
                self.add(
                    (*path, "dependentRequired", key),
                    "dependentRequired.changed",
                    f"when {key!r} is present, required {sorted(o)} -> {sorted(n)}",
                    backward=bool(n - o),
                    forward=bool(o - n),
                )
        os_, ns = old.get("dependentSchemas") or {}, new.get("dependentSchemas") or {}
        for key in sorted(set(os_) | set(ns)):
            self.compare(os_.get(key, True), ns.get(key, True), (*path, "dependentSchemas", key))
        if "propertyNames" in old or "propertyNames" in new:
            self.compare(old.get("propertyNames", True), new.get("propertyNames", True), (*path, "propertyNames"))
        o_ref, n_ref = old.get("x-charter-ref"), new.get("x-charter-ref")
        if o_ref != n_ref:
            self.add(
                (*path, "x-charter-ref"),
                "reference.changed",
                f"entry reference target {o_ref!r} -> {n_ref!r}",
                backward=n_ref is not None,
                forward=o_ref is not None,
                old=o_ref,
                new=n_ref,
            )

    def _other(self, old: dict[str, Any], new: dict[str, Any], path: Path) -> None:
        is_root = path == ()
        for key in sorted(set(old) | set(new)):
            if key in HANDLED or key in ANNOTATIONS or key.startswith("x-") or (is_root and key in ROOT_ONLY):
                continue
            if key in ("$defs", "definitions"):
                continue
            refs = _refs_in(old.get(key)) | _refs_in(new.get(key))
            self.visited_defs |= refs
            differs = canonical(old.get(key)) != canonical(new.get(key)) or any(
                self._closure_differs(r, r) for r in refs
            )
            if differs:
                self.add(
                    (*path, key),
                    "keyword.changed",
                    f"{key} changed (not analysed: treated as breaking both ways)",
                    backward=True,
                    forward=True,
                    old=old.get(key),
                    new=new.get(key),
                )

    def unused_definitions(self) -> None:
        """Changes in ``$defs`` no ``$ref`` reaches cannot affect content: documentation-level."""
        od, nd = self.old_root.get("$defs") or {}, self.new_root.get("$defs") or {}
        for name in sorted(set(od) | set(nd)):
            ref = "#/$defs/" + name.replace("~", "~0").replace("/", "~1")
            if ref in self.visited_defs or canonical(od.get(name)) == canonical(nd.get(name)):
                continue
            verb = "added" if name not in od else "removed" if name not in nd else "changed"
            self.add(("$defs", name), f"definition.{verb}", f"unused definition {name!r} {verb}", annotation=True)


def _search(pattern: str, name: str) -> bool:
    try:
        return re.search(pattern, name) is not None
    except re.error:
        return True  # an unreadable pattern may match anything


def _refs_in(value: Any) -> set[str]:
    """Every ``$ref`` string anywhere in ``value``."""
    out: set[str] = set()
    if isinstance(value, dict):
        if isinstance(value.get("$ref"), str):
            out.add(value["$ref"])
        for v in value.values():
            out |= _refs_in(v)
    elif isinstance(value, list):
        for v in value:
            out |= _refs_in(v)
    return out


def _closure(root: dict[str, Any], ref: str | None) -> dict[str, Any]:
    """ref -> target for ``ref`` and every ``$ref`` reachable from it (a fingerprint of what it means)."""
    out: dict[str, Any] = {}
    todo = [ref] if ref else []
    while todo:
        r = todo.pop()
        if r in out:
            continue
        target = resolve_local_ref(root, r)
        out[r] = target
        todo.extend(_refs_in(target))
    return out


def _is_false(schema: Any) -> bool:
    return schema is False or (isinstance(schema, dict) and set(schema) == {"not"} and schema["not"] in ({}, True))


def _model(schema: Any) -> str:
    if _is_false(schema):
        return "closed"
    if schema is True or schema == {}:
        return "open"
    return "partially open"


def _is_objectish(schema: dict[str, Any]) -> bool:
    t = schema.get("type")
    return (
        t == "object"
        or (isinstance(t, list) and "object" in t)
        or "properties" in schema
        or ("additionalProperties" in schema)
    )


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


def _bound(schema: dict[str, Any], side: str) -> tuple[float, bool] | None:
    keys = ("minimum", "exclusiveMinimum") if side == "lower" else ("maximum", "exclusiveMaximum")
    found = [(schema[k], k.startswith("exclusive")) for k in keys if isinstance(schema.get(k), int | float)]
    if not found:
        return None
    best = found[0]
    for b in found[1:]:
        if _tighter(b, best, side):
            best = b
    return best


def _tighter(a: tuple[float, bool], b: tuple[float, bool], side: str) -> bool:
    """Is bound ``a`` strictly tighter than ``b``?"""
    if a[0] != b[0]:
        return a[0] > b[0] if side == "lower" else a[0] < b[0]
    return a[1] and not b[1]


def _fmt_bound(b: tuple[float, bool] | None, side: str) -> str:
    if b is None:
        return "(none)"
    op = (">" if b[1] else ">=") if side == "lower" else ("<" if b[1] else "<=")
    return f"{op} {b[0]}"
