"""Object keywords: ``required``, ``properties``, ``patternProperties``, ``additionalProperties``,
``dependentRequired``, ``dependentSchemas`` and ``propertyNames``.

Decides that a newly required name breaks backward and a name no longer required breaks
forward. A property added or removed is classified by what governed that name before or after
(:func:`_property_schema`: a matching pattern, else ``additionalProperties``, else ``true``), so
adding a property to an open model can break backward and to a closed one forward. Closing or
opening the model (``additionalProperties: false``) breaks backward or forward.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from charter.schemas.compat.diff.schema import Path, is_false

if TYPE_CHECKING:
    from charter.schemas.compat.diff.differ import Differ


def diff_required(d: Differ, old: dict[str, Any], new: dict[str, Any], path: Path) -> None:
    o = [r for r in old.get("required", []) if isinstance(r, str)]
    n = [r for r in new.get("required", []) if isinstance(r, str)]
    for name in n:
        if name not in o:
            d.add(
                (*path, "required"),
                "required.added",
                f"{name!r} is now required: stored content without it no longer validates",
                backward=True,
                new=name,
            )
    for name in o:
        if name not in n:
            d.add(
                (*path, "required"),
                "required.removed",
                f"{name!r} is now optional: consumers can no longer rely on it",
                forward=True,
                old=name,
            )


def diff_properties(d: Differ, old: dict[str, Any], new: dict[str, Any], path: Path) -> None:
    op, np_ = old.get("properties") or {}, new.get("properties") or {}
    for name in [*op, *(k for k in np_ if k not in op)]:
        where = (*path, "properties", name)
        if name in op and name in np_:
            d.compare(op[name], np_[name], where)
        elif name in np_:
            before = _property_schema(old, name)
            backward, forward = d.effect(before, _with_patterns(new, name, np_[name]), where)
            model = _model(before)
            why = {
                "closed": "consumers of the old closed model reject it",
                "open": "stored content may hold it with any value",
            }.get(model, "it was governed by additionalProperties")
            d.add(
                where,
                "property.added",
                f"property {name!r} added ({model} model: {why})",
                backward=backward,
                forward=forward,
                # Only a reader that rejects unknown fields notices a name it never knew.
                tolerable=model == "closed",
            )
        else:
            after = _property_schema(new, name)
            backward, forward = d.effect(_with_patterns(old, name, op[name]), after, where)
            model = _model(after)
            why = {
                "closed": "stored content holding it no longer validates",
                "open": "new content may hold it with any value",
            }.get(model, "it is now governed by additionalProperties")
            d.add(
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
            d.compare(opp[pattern], npp[pattern], where)
        elif pattern in npp:
            backward, forward = d.effect(old.get("additionalProperties", True), npp[pattern], where)
            if opp:  # a name another pattern matched now must match this one too
                backward = backward or d.effect(True, npp[pattern], where)[0]
            for n in np_:  # declared names it matches: their own schema and every pattern, before and after
                if _search(pattern, n):
                    before = _with_patterns(old, n, op[n]) if n in op else _property_schema(old, n)
                    backward = backward or d.effect(before, _with_patterns(new, n, np_[n]), where)[0]
            d.add(
                where,
                "patternProperties.added",
                f"properties matching {pattern!r} now constrained",
                backward=backward,
                forward=forward,
                # Names the old closed model rejected: only a reader rejecting unknown fields notices.
                tolerable=is_false(old.get("additionalProperties", True)),
            )
        else:
            backward, forward = d.effect(opp[pattern], new.get("additionalProperties", True), where)
            if npp:
                forward = forward or d.effect(opp[pattern], True, where)[1]
            for n in op:
                if _search(pattern, n):
                    after = _with_patterns(new, n, np_[n]) if n in np_ else _property_schema(new, n)
                    forward = forward or d.effect(_with_patterns(old, n, op[n]), after, where)[1]
            d.add(
                where,
                "patternProperties.removed",
                f"pattern {pattern!r} removed",
                backward=backward,
                forward=forward,
            )
    if not _is_objectish(old) and not _is_objectish(new):
        return
    oa, na = old.get("additionalProperties", True), new.get("additionalProperties", True)
    if d.same(oa, na):
        return
    where = (*path, "additionalProperties")
    if is_false(na) and not is_false(oa):
        d.add(where, "model.closed", "model closed: unknown properties are now rejected", backward=True)
    elif is_false(oa) and not is_false(na):
        d.add(
            where,
            "model.opened",
            "model opened: content may now carry properties consumers don't know",
            forward=True,
            tolerable=True,
        )
    else:
        d.compare(oa, na, where)


def diff_dependencies(d: Differ, old: dict[str, Any], new: dict[str, Any], path: Path) -> None:
    od, nd = old.get("dependentRequired") or {}, new.get("dependentRequired") or {}
    for key in sorted(set(od) | set(nd)):
        o, n = set(od.get(key, [])), set(nd.get(key, []))
        if o != n:
            d.add(
                (*path, "dependentRequired", key),
                "dependentRequired.changed",
                f"when {key!r} is present, required {sorted(o)} -> {sorted(n)}",
                backward=bool(n - o),
                forward=bool(o - n),
            )
    os_, ns = old.get("dependentSchemas") or {}, new.get("dependentSchemas") or {}
    for key in sorted(set(os_) | set(ns)):
        # A dependent schema only ever meets the object itself, a property name only a string:
        # what they say about other types cannot matter (`{type: string}` there rejects all).
        where = (*path, "dependentSchemas", key)
        d.compare(_only_for(os_.get(key, True), "object"), _only_for(ns.get(key, True), "object"), where)
    if "propertyNames" in old or "propertyNames" in new:
        where = (*path, "propertyNames")
        d.compare(
            _only_for(old.get("propertyNames", True), "string"),
            _only_for(new.get("propertyNames", True), "string"),
            where,
        )


def _only_for(schema: Any, kind: str) -> Any:
    return {"allOf": [{"type": kind}, schema]}


def _property_schema(schema: dict[str, Any], name: str) -> Any:
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


def _with_patterns(schema: dict[str, Any], name: str, declared: Any) -> Any:
    """What a declared property must satisfy: its own schema and every pattern matching its name."""
    matching = [sub for pattern, sub in (schema.get("patternProperties") or {}).items() if _search(pattern, name)]
    return {"allOf": [declared, *matching]} if matching else declared


def _search(pattern: str, name: str) -> bool:
    try:
        return re.search(pattern, name) is not None
    except re.error:
        return True  # an unreadable pattern may match anything


def _model(schema: Any) -> str:
    if is_false(schema):
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
