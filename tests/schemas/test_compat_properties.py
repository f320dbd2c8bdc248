"""Property-based soundness of the change classifier.

The claim under test: when :func:`classify_release` calls a change compatible in a direction,
no document tells otherwise. If no change breaks BACKWARD, every document valid under the old
schema is valid under the new one; if no change breaks FORWARD, every document valid under the
new schema is valid under the old one. (The converse is not claimed: the classifier may be
conservative and report a break no document exhibits.)

Hypothesis draws an old schema from a grammar over the keywords the classifier handles (types,
bounds, lengths, patterns, formats, enum/const, objects with open, partial and closed models,
arrays, combinators with and without the intent discriminator, local ``$ref``), mutates it into a
new one, and draws documents aimed at both schemas (mostly valid, sometimes almost valid) plus
arbitrary JSON built from the same small vocabulary, so that boundaries are hit. Every document
is checked with the real validator (formats asserted), not with the classifier's own logic.

``hypothesis-jsonschema`` was tried for the documents: 0.23.1 fails on object schemas with
``required`` under the pinned Hypothesis and ignores ``minContains``, so the generator here is
Charter's own.
"""

from __future__ import annotations

import copy
import json
import os
import random
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from charter.schemas.compat import classify_release
from charter.schemas.validation import make_validator, resolve_local_ref

NAMES = ["a", "b", "c"]
STRINGS = ["", "a", "b", "ab", "ba", "abc", "abcdef", "hero", "faq", "x@y.io", "http://a.io", "/p", "A b", "é"]
NUMBERS = [-1, 0, 1, 2, 3, 4, 5, 6, 10, 0.5, 2.5]
SCALARS = [None, True, False, *STRINGS, *NUMBERS]
PATTERNS = ["^a", "b$", "^[a-z]*$", "^.{0,3}$"]
FORMATS = ["email", "idn-email", "uri", "iri", "uri-reference", "iri-reference", "url"]
TYPES = ["string", "integer", "number", "boolean", "null", "object", "array"]
REFS = ["#/$defs/d1", "#/$defs/d2"]


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


scalars = st.sampled_from(SCALARS)
small = st.integers(0, 4)
numbers = st.sampled_from(NUMBERS)
enums = st.lists(scalars, min_size=1, max_size=4, unique_by=canonical)


def _optional(required: dict[str, Any], optional: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(required, optional=optional)


strings = _optional(
    {"type": st.just("string")},
    {
        "minLength": small,
        "maxLength": st.integers(0, 6),
        "pattern": st.sampled_from(PATTERNS),
        "format": st.sampled_from(FORMATS),
        "enum": st.lists(st.sampled_from(STRINGS), min_size=1, max_size=4, unique=True),
    },
)
numerics = _optional(
    {"type": st.sampled_from(["integer", "number"])},
    {
        "minimum": numbers,
        "maximum": numbers,
        "exclusiveMinimum": numbers,
        "exclusiveMaximum": numbers,
        "multipleOf": st.sampled_from([1, 2, 3, 4, 0.5]),
    },
)
misc = st.one_of(
    st.just({}),
    st.builds(lambda t: {"type": t}, st.lists(st.sampled_from(TYPES), min_size=1, max_size=3, unique=True)),
    st.builds(lambda e: {"enum": e}, enums),
    st.builds(lambda c: {"const": c}, scalars),
    st.builds(lambda r: {"$ref": r}, st.sampled_from(REFS)),
    st.just({"type": "boolean"}),
)
leaves = st.one_of(strings, numerics, misc)


def _extend(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    child_or_bool = st.one_of(children, st.booleans())
    objects = _optional(
        {"type": st.just("object")},
        {
            "properties": st.dictionaries(st.sampled_from(NAMES), children, max_size=3),
            "required": st.lists(st.sampled_from(NAMES), max_size=2, unique=True),
            "additionalProperties": child_or_bool,
            "patternProperties": st.dictionaries(st.sampled_from(["^a", "^x", "c$"]), children, max_size=2),
            "minProperties": small,
            "maxProperties": small,
            "dependentRequired": st.dictionaries(
                st.sampled_from(NAMES),
                st.lists(st.sampled_from(NAMES), min_size=1, max_size=2, unique=True),
                max_size=1,
            ),
            "propertyNames": st.builds(lambda p: {"pattern": p}, st.sampled_from(PATTERNS)),
            "unevaluatedProperties": child_or_bool,
            "allOf": st.lists(
                _optional({}, {"properties": st.dictionaries(st.sampled_from(NAMES), children, max_size=2)}),
                min_size=1,
                max_size=2,
            ),
        },
    )
    arrays = _optional(
        {"type": st.just("array")},
        {
            "items": child_or_bool,
            "prefixItems": st.lists(children, min_size=1, max_size=2),
            "contains": children,
            "minContains": st.integers(0, 2),
            "maxContains": st.integers(0, 2),
            "minItems": st.integers(0, 3),
            "maxItems": st.integers(0, 3),
            "uniqueItems": st.booleans(),
            "unevaluatedItems": child_or_bool,
        },
    )
    combinators = st.one_of(
        st.builds(
            lambda k, bs: {k: bs},
            st.sampled_from(["anyOf", "oneOf", "allOf"]),
            st.lists(children, min_size=1, max_size=3),
        ),
        st.builds(lambda c: {"not": c}, children),
    )
    return st.one_of(objects, arrays, combinators, _sections(children))


def _sections(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Intent-discriminated alternatives, as Charter's page sections are written."""

    def branch(intent: str, title: Any, required: list[str], closed: bool) -> dict[str, Any]:
        out: dict[str, Any] = {
            "type": "object",
            "properties": {"intent": {"const": intent}, "title": title},
            "required": required,
        }
        if closed:
            out["additionalProperties"] = False
        return out

    branches = st.lists(
        st.builds(
            branch,
            st.sampled_from(["hero", "faq", "cta"]),
            children,
            st.sampled_from([["intent"], ["intent", "title"], []]),
            st.booleans(),
        ),
        min_size=1,
        max_size=3,
        unique_by=lambda b: b["properties"]["intent"]["const"],
    )
    return st.builds(lambda k, bs: {k: bs}, st.sampled_from(["oneOf", "anyOf"]), branches)


nodes = st.recursive(leaves, _extend, max_leaves=6)
defs = st.fixed_dictionaries(
    {"d1": st.one_of(strings, numerics), "d2": leaves.filter(lambda d: d.get("$ref") != "#/$defs/d2")}
)


@st.composite
def root_schemas(draw: st.DrawFn) -> dict[str, Any]:
    body = copy.deepcopy(draw(nodes))
    schema = {"$id": "t.v1", "version": "1.0.0", **body}
    schema["$defs"] = copy.deepcopy(draw(defs))
    return schema


# -- mutations -------------------------------------------------------------------------------------

CHILD_KEYS = ("properties", "patternProperties")
CHILD_LISTS = ("anyOf", "oneOf", "allOf", "prefixItems")
CHILD_ONE = ("items", "additionalProperties", "contains", "not", "unevaluatedProperties", "unevaluatedItems")


def _subschemas(schema: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Paths of every dict subschema (the root included)."""
    if not isinstance(schema, dict):
        return []
    out = [path]
    for key in CHILD_KEYS:
        for name, sub in (schema.get(key) or {}).items():
            out += _subschemas(sub, (*path, key, name))
    for key in CHILD_LISTS:
        for i, sub in enumerate(schema.get(key) or []):
            out += _subschemas(sub, (*path, key, i))
    for key in CHILD_ONE:
        out += _subschemas(schema.get(key), (*path, key))
    if path == ():
        for name, sub in (schema.get("$defs") or {}).items():
            out += _subschemas(sub, ("$defs", name))
    return out


def _at(schema: Any, path: tuple[Any, ...]) -> Any:
    for p in path:
        schema = schema[p]
    return schema


KEYWORDS: dict[str, st.SearchStrategy[Any]] = {
    "type": st.one_of(st.sampled_from(TYPES), st.lists(st.sampled_from(TYPES), min_size=1, max_size=3, unique=True)),
    "enum": enums,
    "const": scalars,
    "minLength": small,
    "maxLength": st.integers(0, 6),
    "pattern": st.sampled_from(PATTERNS),
    "format": st.sampled_from(FORMATS),
    "minimum": numbers,
    "maximum": numbers,
    "exclusiveMinimum": numbers,
    "exclusiveMaximum": numbers,
    "multipleOf": st.sampled_from([1, 2, 3, 4, 0.5]),
    "required": st.lists(st.sampled_from([*NAMES, "intent", "title"]), max_size=3, unique=True),
    "additionalProperties": st.one_of(st.booleans(), leaves),
    "minProperties": small,
    "maxProperties": small,
    "minItems": st.integers(0, 3),
    "maxItems": st.integers(0, 3),
    "minContains": st.integers(0, 2),
    "maxContains": st.integers(0, 2),
    "uniqueItems": st.booleans(),
    "items": st.one_of(st.booleans(), leaves),
    "unevaluatedProperties": st.one_of(st.booleans(), leaves),
    "unevaluatedItems": st.one_of(st.booleans(), leaves),
    "prefixItems": st.lists(leaves, min_size=0, max_size=3),
    "contains": leaves,
    "not": leaves,
    "title": st.sampled_from(["T", "U"]),
    "description": st.sampled_from(["d", "e"]),
}


@st.composite
def mutated(draw: st.DrawFn, old: dict[str, Any]) -> dict[str, Any]:
    """``old`` with one to three random edits anywhere in it."""
    new = copy.deepcopy(old)
    for _ in range(draw(st.integers(1, 3))):
        paths = _subschemas(new)
        path = draw(st.sampled_from(paths))
        node = _at(new, path)
        op = draw(st.sampled_from(["set", "set", "drop", "replace", "property", "wrap"]))
        if op == "drop" and [k for k in node if not (path == () and k in ("$id", "version", "$defs"))]:
            key = draw(
                st.sampled_from(sorted(k for k in node if not (path == () and k in ("$id", "version", "$defs"))))
            )
            del node[key]
        elif op == "replace" and path and path[-1] not in ("d1",):
            parent = _at(new, path[:-1])
            parent[path[-1]] = copy.deepcopy(draw(nodes))
        elif op == "property":
            props = node.setdefault("properties", {})
            name = draw(st.sampled_from([*NAMES, "title"]))
            if name in props and draw(st.booleans()):
                del props[name]
            else:
                props[name] = copy.deepcopy(draw(leaves))
        elif op == "wrap" and path and path[-1] not in ("d1",):
            parent = _at(new, path[:-1])
            parent[path[-1]] = {draw(st.sampled_from(["anyOf", "oneOf", "allOf"])): [node, copy.deepcopy(draw(leaves))]}
        else:
            key = draw(st.sampled_from(sorted(KEYWORDS)))
            node[key] = copy.deepcopy(draw(KEYWORDS[key]))
    # Keep $ref chains acyclic (a schema that only refers to itself is a separate, tested error).
    if "$ref" in json.dumps(new["$defs"]["d1"]):
        new["$defs"]["d1"] = copy.deepcopy(old["$defs"]["d1"])
    if "#/$defs/d2" in json.dumps(new["$defs"]["d2"]):
        new["$defs"]["d2"] = copy.deepcopy(old["$defs"]["d2"])
    return new


# -- documents -------------------------------------------------------------------------------------

KEYS = [*NAMES, "x1", "intent", "title"]


def _any_json(rnd: random.Random, depth: int = 0) -> Any:
    """Arbitrary JSON from the grammar's vocabulary, so that its boundaries are hit."""
    kind = rnd.randrange(8 if depth < 3 else 6)
    if kind < 6:
        return rnd.choice(SCALARS)
    if kind == 6:
        return [_any_json(rnd, depth + 1) for _ in range(rnd.randrange(4))]
    return {rnd.choice(KEYS): _any_json(rnd, depth + 1) for _ in range(rnd.randrange(4))}


def _aimed(rnd: random.Random, schema: Any, root: dict[str, Any], depth: int = 0) -> Any:
    """A document that tries to be valid under ``schema`` (best effort; the validator decides)."""
    if depth > 6 or not isinstance(schema, dict) or rnd.randrange(10) == 0:
        return _any_json(rnd)
    if "$ref" in schema:
        target = resolve_local_ref(root, schema["$ref"])
        rest = {k: v for k, v in schema.items() if k != "$ref"}
        if isinstance(target, dict):
            return _aimed(rnd, {**target, **rest}, root, depth + 1)
    for key in ("oneOf", "anyOf", "allOf"):
        if isinstance(schema.get(key), list) and schema[key] and rnd.random() < 0.5:
            return _aimed(rnd, rnd.choice(schema[key]), root, depth + 1)
    if "const" in schema:
        return copy.deepcopy(schema["const"])
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return copy.deepcopy(rnd.choice(schema["enum"]))
    types = schema.get("type", TYPES)
    kind = rnd.choice(types if isinstance(types, list) else [types])
    if kind == "string":
        return rnd.choice(STRINGS)
    if kind in ("integer", "number"):
        return rnd.choice([n for n in NUMBERS if kind == "number" or isinstance(n, int)])
    if kind == "boolean":
        return rnd.random() < 0.5
    if kind == "null":
        return None
    if kind == "array":
        out = [_aimed(rnd, s, root, depth + 1) for s in schema.get("prefixItems") or [] if rnd.randrange(5)]
        item = schema.get("items", {})
        for _ in range(rnd.randrange(4)):
            out.append(_aimed(rnd, rnd.choice([item, schema.get("contains", item)]), root, depth + 1))
        return out
    doc: dict[str, Any] = {}
    props = schema.get("properties") or {}
    required = [r for r in schema.get("required") or [] if isinstance(r, str)]
    for name in dict.fromkeys([*props, *required]):
        if name in required or rnd.random() < 0.5:
            doc[name] = _aimed(rnd, props.get(name, {}), root, depth + 1)
    if rnd.randrange(4) == 0:
        doc.setdefault(rnd.choice(["a", "c", "x1", "title"]), _any_json(rnd))
    return doc


def documents(seed: int, old: dict[str, Any], new: dict[str, Any], count: int = 8) -> list[Any]:
    """``count`` documents aimed at each schema, and a few arbitrary ones (from a seed Hypothesis draws)."""
    rnd = random.Random(seed)
    out = [_aimed(rnd, old, old) for _ in range(count)]
    out += [_aimed(rnd, new, new) for _ in range(count)]
    out += [_any_json(rnd) for _ in range(3)]
    return out


def _root(d2: Any = None, **body: Any) -> dict[str, Any]:
    return {"$id": "t.v1", "version": "1.0.0", **body, "$defs": {"d1": {"type": "string"}, "d2": d2 or {}}}


def _check(old: dict[str, Any], new: dict[str, Any], docs: list[Any]) -> None:
    changes = classify_release(old, new).changes
    backward = any(c.backward for c in changes)
    forward = any(c.forward for c in changes)
    vo, vn = make_validator(old), make_validator(new)
    for doc in docs:
        valid_old, valid_new = vo.is_valid(doc), vn.is_valid(doc)
        claimed = [c.to_dict() for c in changes]
        if not backward:
            assert not (valid_old and not valid_new), f"said BACKWARD-compatible, but {doc!r} breaks: {claimed}"
        if not forward:
            assert not (valid_new and not valid_old), f"said FORWARD-compatible, but {doc!r} breaks: {claimed}"


COMMON = {
    "deadline": None,
    "database": None,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
}


@pytest.mark.filterwarnings("ignore:Generating overly large repr")
@settings(max_examples=120, derandomize=True, **COMMON)  # type: ignore[arg-type]
@given(st.data())
def test_compatible_claims_hold_for_every_document(data: st.DataObject) -> None:
    old = data.draw(root_schemas(), label="old")
    new = data.draw(mutated(old), label="new")
    _check(old, new, documents(data.draw(st.integers(0, 2**32), label="seed"), old, new))


@pytest.mark.slow
@pytest.mark.timeout(900)
# Hypothesis warns when a failing example's repr is large; the example is still reported.
@pytest.mark.filterwarnings("ignore:Generating overly large repr")
# Derandomized unless CHARTER_FRESH_PROPERTIES=1: CI stays reproducible, a local run can search afresh.
@settings(max_examples=1500, derandomize=not os.environ.get("CHARTER_FRESH_PROPERTIES"), **COMMON)  # type: ignore[arg-type]
@given(st.data())
def test_compatible_claims_hold_for_every_document_long_run(data: st.DataObject) -> None:
    """The same property with many more examples (fresh ones on each run with CHARTER_FRESH_PROPERTIES=1)."""
    old = data.draw(root_schemas(), label="old")
    new = data.draw(mutated(old), label="new")
    _check(old, new, documents(data.draw(st.integers(0, 2**32), label="seed"), old, new))


@pytest.mark.parametrize(
    ("old", "new", "doc"),
    [
        # Found by the property above, or while reading the classifier against it; fixed in
        # charter/schemas/compat/diff/ and kept here as plain regression cases.
        pytest.param(
            _root(oneOf=[{"type": "object", "properties": {"intent": {"const": "hero"}}, "required": ["intent"]}]),
            _root(oneOf=[{"type": "object", "properties": {"intent": {"const": None}}, "required": ["intent"]}]),
            {"intent": None},
            id="intent const becomes a non-string",
        ),
        pytest.param(
            _root(anyOf=[{"type": "string"}, {"$ref": "#/$defs/d2"}], d2={"type": "string"}),
            _root(anyOf=[{"type": "string"}, {"$ref": "#/$defs/d2"}], d2={"type": "integer"}),
            0,
            id="alternative unchanged in text, its definition changed",
        ),
        pytest.param(
            _root(oneOf=[{"type": "string", "maxLength": 3}, {"type": "string", "minLength": 5}]),
            _root(oneOf=[{"type": "string", "maxLength": 10}, {"type": "string", "minLength": 5}]),
            "abcdef",
            id="oneOf alternative widened into another",
        ),
        pytest.param(
            _root(type="array", contains={"type": "string"}),
            _root(type="array", contains={"type": "string"}, minContains=0),
            [],
            id="minContains 0 where the default is 1",
        ),
        pytest.param(
            _root(properties={"a": {"type": "string"}}, additionalProperties=False),
            _root(
                properties={"a": {"type": "string"}},
                patternProperties={"^a$": {"maxLength": 1}},
                additionalProperties=False,
            ),
            {"a": "xx"},
            id="pattern property constrains a declared property",
        ),
        pytest.param(
            _root(patternProperties={"^a": {"type": "string"}}, additionalProperties=False),
            _root(patternProperties={"^a": {"type": "string"}, "c$": {"maxLength": 1}}, additionalProperties=False),
            {"ac": "xx"},
            id="new pattern overlaps an existing one",
        ),
        pytest.param(
            _root(properties={"a": {"$ref": "#/$defs/d2", "maxLength": 5}}, d2={"type": "string", "maxLength": 3}),
            _root(properties={"a": {"$ref": "#/$defs/d2", "maxLength": 5}}, d2={"type": "string", "maxLength": 10}),
            {"a": "abcd"},
            id="$ref sibling repeats a keyword of its target",
        ),
        pytest.param(
            _root(**{"not": {"$ref": "#/$defs/d2"}}, d2={"type": "string", "maxLength": 3}),
            _root(**{"not": {"$ref": "#/$defs/d2"}}, d2={"type": "string", "maxLength": 10}),
            "abcd",
            id="definition under not widened",
        ),
        pytest.param(
            _root(type="array", minContains=0, maxContains=0, contains={"type": "string"}),
            _root(type="array", minContains=0, maxContains=0, contains={"type": "string", "minLength": 1}),
            [None, ""],
            id="contains narrowed under maxContains",
        ),
        pytest.param(
            _root(type="array", minContains=0, maxContains=0, contains={"type": "string"}),
            _root(type="array", minContains=0, maxContains=0, contains={}),
            [["abc", None], True],
            id="contains widened under maxContains",
        ),
        pytest.param(
            _root(type="array", items={"$dynamicRef": "#node"}, d2={"$dynamicAnchor": "node", "maxLength": 3}),
            _root(type="array", items={"$dynamicRef": "#node"}, d2={"$dynamicAnchor": "node", "maxLength": 1}),
            ["xyz"],
            id="unchanged $dynamicRef whose anchored target changed",
        ),
        # Issue 18: unevaluated* were ignored when unchanged.
        pytest.param(
            _root(properties={"foo": {}, "bar": {}}, unevaluatedProperties=False),
            _root(properties={"foo": {}}, unevaluatedProperties=False),
            {"foo": "x", "bar": 1},
            id="property removed under unevaluatedProperties false",
        ),
        pytest.param(
            _root(properties={"foo": {}}, unevaluatedProperties=False),
            _root(properties={"foo": {}, "bar": {"type": "string"}}, unevaluatedProperties=False),
            {"bar": "y"},
            id="optional property added under unevaluatedProperties false",
        ),
        pytest.param(
            _root(type="array", prefixItems=[{"type": "string"}, {"type": "integer"}], unevaluatedItems=False),
            _root(type="array", prefixItems=[{"type": "string"}], unevaluatedItems=False),
            ["a", 1],
            id="prefixItems shortened under unevaluatedItems false",
        ),
        pytest.param(
            _root(allOf=[{"properties": {"a": {}}}, {"properties": {"b": {}}}], unevaluatedProperties=False),
            _root(allOf=[{"properties": {"a": {}}}], unevaluatedProperties=False),
            {"b": 1},
            id="branch removed beside unevaluatedProperties",
        ),
    ],
)
def test_found_counterexamples(old: dict[str, Any], new: dict[str, Any], doc: Any) -> None:
    _check(old, new, [doc])
