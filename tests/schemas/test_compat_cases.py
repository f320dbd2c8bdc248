"""The change-case table: every keyword schema evolution handles, each case with the directions
it breaks, checked three ways.

1. The differ reports exactly the expected directions (B = stored content may stop validating,
   F = consumers of the old schema may not understand new content, BF = both, "" = compatible,
   "doc" = documentation only, "same" = no change at all).
2. The level under every policy follows from the directions (table LEVELS below, written out by
   hand, not computed by the code under test).
3. Where a case carries witnesses, the real validator proves the claim: ``wb`` is valid under the
   old schema and invalid under the new one (a backward break); ``wf`` the other way round.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

import pytest

from charter.schemas.compat import POLICIES, classify_release
from charter.schemas.validation import make_validator

MISSING = object()

#: direction -> policy -> expected level. Transitive forms equal their base for a single pair.
LEVELS: dict[str, dict[str, str]] = {
    "same": dict.fromkeys(POLICIES, "none"),
    "doc": dict.fromkeys(POLICIES, "patch"),
    "": dict.fromkeys(POLICIES, "minor"),
    "B": {"BACKWARD": "major", "FORWARD": "minor", "FULL": "major", "NONE": "minor"},
    "F": {"BACKWARD": "minor", "FORWARD": "major", "FULL": "major", "NONE": "minor"},
    "BF": {"BACKWARD": "major", "FORWARD": "major", "FULL": "major", "NONE": "minor"},
}
for _levels in LEVELS.values():
    for _base in ("BACKWARD", "FORWARD", "FULL"):
        _levels.setdefault(f"{_base}_TRANSITIVE", _levels[_base])
    _levels.setdefault("TOLERANT", _levels["FULL"])
#: Cases whose only forward break is one a tolerant reader ignores: minor under TOLERANT.
TOLERATED = {
    "closed: optional property added",
    "model opened",
    "nested closed object: optional property added",
    "intent branch gains an optional field (closed section)",
}


@dataclass
class Case:
    id: str
    old: dict[str, Any]
    new: dict[str, Any]
    breaks: str
    wb: Any = MISSING
    wf: Any = MISSING
    pointer: str | None = None  # a pointer that must appear among the changes
    notes: list[str] = field(default_factory=list)


def root(props: dict[str, Any], required: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    schema: dict[str, Any] = {"$id": "t.v1", "version": "1.0.0", "type": "object", "properties": props}
    if required:
        schema["required"] = required
    schema.update(extra)
    return schema


def prop(old: Any, new: Any, breaks: str, wb: Any = MISSING, wf: Any = MISSING, **kw: Any) -> tuple[Any, ...]:
    """A case on property ``f`` of an open root; witnesses are values of ``f``."""
    return (
        root({"f": old}),
        root({"f": new}),
        breaks,
        MISSING if wb is MISSING else {"f": wb},
        MISSING if wf is MISSING else {"f": wf},
        kw.get("pointer"),
    )


S = {"type": "string"}
I = {"type": "integer"}  # noqa: E741
CLOSED = {"additionalProperties": False}
HERO = {
    "type": "object",
    "required": ["intent", "title"],
    "additionalProperties": False,
    "properties": {"intent": {"const": "hero"}, "title": {"type": "string", "maxLength": 90}},
}
FAQ = {
    "type": "object",
    "required": ["intent", "items"],
    "additionalProperties": False,
    "properties": {"intent": {"const": "faq"}, "items": {"type": "array", "items": S}},
}
CTA = {
    "type": "object",
    "required": ["intent", "href"],
    "additionalProperties": False,
    "properties": {"intent": {"const": "call-to-action"}, "href": {"type": "string", "format": "url"}},
}


def sections(*branches: dict[str, Any], key: str = "oneOf") -> dict[str, Any]:
    defs = {b["properties"]["intent"]["const"]: b for b in branches}
    return root(
        {"sections": {"type": "array", "items": {key: [{"$ref": f"#/$defs/{name}"} for name in defs]}}},
        **{"$defs": defs},
    )


def tree(node_extra: dict[str, Any]) -> dict[str, Any]:
    node = {
        "type": "object",
        "properties": {"name": S, "children": {"type": "array", "items": {"$ref": "#/$defs/node"}}},
        **node_extra,
    }
    return root({"root": {"$ref": "#/$defs/node"}}, **{"$defs": {"node": node}})


def charter(**opts: Any) -> dict[str, Any]:
    base = {
        "localized": ["title"],
        "locales": {"default": "en", "required": ["en"], "fallbacks": {"de-DE": ["en"]}},
        "slug": "slug",
    }
    merged = copy.deepcopy(base)
    for key, value in opts.items():
        if key == "locales":
            merged["locales"].update(value)  # type: ignore[attr-defined]
        else:
            merged[key] = value
    return root({"slug": S, "title": S, "body": S}, ["slug"], **{"x-charter": merged})


RAW: list[tuple[str, tuple[Any, ...]]] = [
    # --- type ---------------------------------------------------------------------------------
    ("type string -> integer", prop(S, I, "BF", wb="a", wf=1)),
    ("type string -> [string, null]", prop(S, {"type": ["string", "null"]}, "F", wf=None)),
    ("type [string, null] -> string", prop({"type": ["string", "null"]}, S, "B", wb=None)),
    ("type integer -> number", prop(I, {"type": "number"}, "F", wf=1.5)),
    ("type number -> integer", prop({"type": "number"}, I, "B", wb=1.5)),
    ("type added (any -> string)", prop({}, S, "B", wb=1)),
    ("type removed (string -> any)", prop(S, {}, "F", wf=1)),
    ("type list reordered", prop({"type": ["string", "integer"]}, {"type": ["integer", "string"]}, "same")),
    ("type boolean -> [boolean, string]", prop({"type": "boolean"}, {"type": ["boolean", "string"]}, "F", wf="x")),
    ("type object -> array", prop({"type": "object"}, {"type": "array"}, "BF", wb={}, wf=[])),
    ("type [integer, number] -> number", prop({"type": ["integer", "number"]}, {"type": "number"}, "same")),
    # --- required -----------------------------------------------------------------------------
    ("required added", (root({"f": S}), root({"f": S}, ["f"]), "B", {}, MISSING, "/required")),
    ("required removed", (root({"f": S}, ["f"]), root({"f": S}), "F", MISSING, {}, "/required")),
    ("required reordered", (root({"f": S, "g": S}, ["f", "g"]), root({"f": S, "g": S}, ["g", "f"]), "same")),
    ("required added for an undeclared property", (root({}), root({}, ["g"]), "B", {}, MISSING)),
    # --- properties: closed model --------------------------------------------------------------
    (
        "closed: optional property added",
        (root({"f": S}, **CLOSED), root({"f": S, "g": S}, **CLOSED), "F", MISSING, {"g": "x"}, "/properties/g"),
    ),
    (
        "closed: optional property removed",
        (root({"f": S, "g": S}, **CLOSED), root({"f": S}, **CLOSED), "B", {"g": "x"}, MISSING, "/properties/g"),
    ),
    (
        "closed: required property added",
        (root({"f": S}, **CLOSED), root({"f": S, "g": S}, ["g"], **CLOSED), "BF", {}, {"g": "x"}),
    ),
    (
        "closed: required property removed",
        (root({"f": S, "g": S}, ["g"], **CLOSED), root({"f": S}, **CLOSED), "BF", {"g": "x"}, {}),
    ),
    (
        "closed: property renamed",
        (root({"f": S}, **CLOSED), root({"g": S}, **CLOSED), "BF", {"f": "x"}, {"g": "x"}),
    ),
    # --- properties: open model -----------------------------------------------------------------
    (
        "open: optional property added with a type",
        (root({"f": S}), root({"f": S, "g": S}), "B", {"g": 1}, MISSING, "/properties/g"),
    ),
    ("open: unconstrained property added", (root({"f": S}), root({"f": S, "g": {}}), "")),
    ("open: optional property removed", (root({"f": S, "g": S}), root({"f": S}), "F", MISSING, {"g": 1})),
    ("open: property renamed", (root({"f": S}), root({"g": S}), "BF", {"g": 1}, {"f": 1})),
    # --- properties: partially open --------------------------------------------------------------
    (
        "partially open: property added matching additionalProperties",
        (root({}, additionalProperties=S), root({"g": S}, additionalProperties=S), ""),
    ),
    (
        "partially open: property added narrower than additionalProperties",
        (root({}, additionalProperties=S), root({"g": I}, additionalProperties=S), "BF", {"g": "a"}, {"g": 1}),
    ),
    # --- additionalProperties ---------------------------------------------------------------------
    ("model closed", (root({"f": S}), root({"f": S}, **CLOSED), "B", {"x": 1}, MISSING, "/additionalProperties")),
    ("model opened", (root({"f": S}, **CLOSED), root({"f": S}), "F", MISSING, {"x": 1}, "/additionalProperties")),
    (
        "additionalProperties widened",
        (
            root({}, additionalProperties=S),
            root({}, additionalProperties={"type": ["string", "number"]}),
            "F",
            MISSING,
            {"x": 1},
        ),
    ),
    (
        "additionalProperties schema -> false",
        (root({}, additionalProperties=S), root({}, **CLOSED), "B", {"x": "a"}, MISSING),
    ),
    (
        "patternProperties added to an open model",
        (root({}), root({}, patternProperties={"^x-": S}), "B", {"x-a": 1}, MISSING),
    ),
    (
        "patternProperties removed from a closed model",
        (root({}, patternProperties={"^x-": S}, **CLOSED), root({}, **CLOSED), "B", {"x-a": "v"}, MISSING),
    ),
    # --- enum / const ------------------------------------------------------------------------------
    ("enum value added", prop({"enum": ["a", "b"]}, {"enum": ["a", "b", "c"]}, "F", wf="c")),
    ("enum value removed", prop({"enum": ["a", "b"]}, {"enum": ["a"]}, "B", wb="b")),
    ("enum reordered", prop({"enum": ["a", "b"]}, {"enum": ["b", "a"]}, "same")),
    ("enum added", prop(S, {"type": "string", "enum": ["a", "b"]}, "B", wb="z")),
    ("enum removed", prop({"type": "string", "enum": ["a"]}, S, "F", wf="z")),
    ("const changed", prop({"const": "a"}, {"const": "b"}, "BF", wb="a", wf="b")),
    ("const widened to enum", prop({"const": "a"}, {"enum": ["a", "b"]}, "F", wf="b")),
    ("single-value enum -> const", prop({"enum": ["a"]}, {"const": "a"}, "same")),
    ("const added", prop(S, {"type": "string", "const": "a"}, "B", wb="b")),
    ("integer enum value added", prop({"enum": [1, 2]}, {"enum": [1, 2, 3]}, "F", wf=3)),
    # --- numeric bounds -------------------------------------------------------------------------------
    ("minimum added", prop(I, {"type": "integer", "minimum": 0}, "B", wb=-1)),
    ("minimum removed", prop({"type": "integer", "minimum": 0}, I, "F", wf=-1)),
    ("minimum raised", prop({"type": "integer", "minimum": 0}, {"type": "integer", "minimum": 1}, "B", wb=0)),
    ("minimum lowered", prop({"type": "integer", "minimum": 1}, {"type": "integer", "minimum": 0}, "F", wf=0)),
    ("maximum lowered", prop({"type": "integer", "maximum": 10}, {"type": "integer", "maximum": 5}, "B", wb=7)),
    ("maximum raised", prop({"type": "integer", "maximum": 5}, {"type": "integer", "maximum": 10}, "F", wf=7)),
    (
        "minimum -> exclusiveMinimum at the same value",
        prop({"type": "number", "minimum": 0}, {"type": "number", "exclusiveMinimum": 0}, "B", wb=0),
    ),
    (
        "exclusiveMinimum -> minimum at the same value",
        prop({"type": "number", "exclusiveMinimum": 0}, {"type": "number", "minimum": 0}, "F", wf=0),
    ),
    ("exclusiveMaximum added", prop({"type": "number"}, {"type": "number", "exclusiveMaximum": 1}, "B", wb=1)),
    (
        "minimum 1 -> 1.0 (same number)",
        prop({"type": "number", "minimum": 1}, {"type": "number", "minimum": 1.0}, "same"),
    ),
    ("multipleOf added", prop(I, {"type": "integer", "multipleOf": 2}, "B", wb=3)),
    ("multipleOf 2 -> 4 (stricter)", prop({"multipleOf": 2}, {"multipleOf": 4}, "B", wb=2)),
    ("multipleOf 4 -> 2 (looser)", prop({"multipleOf": 4}, {"multipleOf": 2}, "F", wf=2)),
    ("multipleOf 2 -> 3", prop({"multipleOf": 2}, {"multipleOf": 3}, "BF", wb=2, wf=3)),
    ("multipleOf removed", prop({"type": "integer", "multipleOf": 2}, I, "F", wf=3)),
    ("multipleOf 0.5 -> 0.25", prop({"multipleOf": 0.5}, {"multipleOf": 0.25}, "F", wf=0.25)),
    # --- length bounds ----------------------------------------------------------------------------------
    ("maxLength lowered", prop({"type": "string", "maxLength": 5}, {"type": "string", "maxLength": 3}, "B", wb="abcd")),
    ("maxLength raised", prop({"type": "string", "maxLength": 3}, {"type": "string", "maxLength": 5}, "F", wf="abcd")),
    ("maxLength added", prop(S, {"type": "string", "maxLength": 3}, "B", wb="abcd")),
    ("maxLength removed", prop({"type": "string", "maxLength": 3}, S, "F", wf="abcd")),
    ("minLength added", prop(S, {"type": "string", "minLength": 1}, "B", wb="")),
    ("minLength 0 added (the default)", prop(S, {"type": "string", "minLength": 0}, "same")),
    ("minLength raised", prop({"type": "string", "minLength": 1}, {"type": "string", "minLength": 2}, "B", wb="a")),
    ("minLength lowered", prop({"type": "string", "minLength": 2}, {"type": "string", "minLength": 1}, "F", wf="a")),
    ("minItems added", prop({"type": "array"}, {"type": "array", "minItems": 1}, "B", wb=[])),
    ("maxItems lowered", prop({"type": "array", "maxItems": 3}, {"type": "array", "maxItems": 1}, "B", wb=[1, 2])),
    ("maxItems raised", prop({"type": "array", "maxItems": 1}, {"type": "array", "maxItems": 3}, "F", wf=[1, 2])),
    ("minProperties added", prop({"type": "object"}, {"type": "object", "minProperties": 1}, "B", wb={})),
    (
        "maxProperties removed",
        prop({"type": "object", "maxProperties": 1}, {"type": "object"}, "F", wf={"a": 1, "b": 2}),
    ),
    # --- pattern -------------------------------------------------------------------------------------------
    ("pattern added", prop(S, {"type": "string", "pattern": "^[a-z]+$"}, "B", wb="A")),
    ("pattern removed", prop({"type": "string", "pattern": "^[a-z]+$"}, S, "F", wf="A")),
    (
        "pattern changed",
        prop(
            {"type": "string", "pattern": "^[a-z]+$"}, {"type": "string", "pattern": "^[0-9]+$"}, "BF", wb="a", wf="1"
        ),
    ),
    ("pattern unchanged", prop({"type": "string", "pattern": "^a"}, {"type": "string", "pattern": "^a"}, "same")),
    # --- format -------------------------------------------------------------------------------------------
    ("format added", prop(S, {"type": "string", "format": "email"}, "B", wb="not an email")),
    ("format removed", prop({"type": "string", "format": "email"}, S, "F", wf="not an email")),
    (
        "format date-time -> date",
        prop(
            {"type": "string", "format": "date-time"},
            {"type": "string", "format": "date"},
            "BF",
            wb="2026-01-01T00:00:00Z",
            wf="2026-01-01",
        ),
    ),
    (
        "format uri -> url",
        prop(
            {"type": "string", "format": "uri"},
            {"type": "string", "format": "url"},
            "BF",
            wb="mailto:a@example.com",
            wf="/pricing",
        ),
    ),
    (
        "format url -> uri-reference (wider)",
        prop({"type": "string", "format": "url"}, {"type": "string", "format": "uri-reference"}, "F", wf="pricing"),
    ),
    (
        "format email -> idn-email (wider)",
        prop({"type": "string", "format": "email"}, {"type": "string", "format": "idn-email"}, "F"),
    ),
    (
        "format idn-email -> email (narrower)",
        prop({"type": "string", "format": "idn-email"}, {"type": "string", "format": "email"}, "B"),
    ),
    # --- items ------------------------------------------------------------------------------------------------
    ("items type changed", prop({"type": "array", "items": S}, {"type": "array", "items": I}, "BF", wb=["a"], wf=[1])),
    (
        "items become nullable",
        prop({"type": "array", "items": S}, {"type": "array", "items": {"type": ["string", "null"]}}, "F", wf=[None]),
    ),
    ("items added", prop({"type": "array"}, {"type": "array", "items": S}, "B", wb=[1])),
    ("items removed", prop({"type": "array", "items": S}, {"type": "array"}, "F", wf=[1])),
    ("uniqueItems added", prop({"type": "array"}, {"type": "array", "uniqueItems": True}, "B", wb=[1, 1])),
    ("uniqueItems removed", prop({"type": "array", "uniqueItems": True}, {"type": "array"}, "F", wf=[1, 1])),
    ("prefixItems added", prop({"type": "array"}, {"type": "array", "prefixItems": [S]}, "B", wb=[1])),
    ("contains added", prop({"type": "array"}, {"type": "array", "contains": S}, "B", wb=[1])),
    (
        "enum value added inside items",
        prop(
            {"type": "array", "items": {"enum": ["a"]}}, {"type": "array", "items": {"enum": ["a", "b"]}}, "F", wf=["b"]
        ),
    ),
    (
        "nested object in items: property type changed",
        prop(
            {"type": "array", "items": {"type": "object", "properties": {"q": S}}},
            {"type": "array", "items": {"type": "object", "properties": {"q": I}}},
            "BF",
            wb=[{"q": "a"}],
            wf=[{"q": 1}],
            pointer="/properties/f/items/properties/q/type",
        ),
    ),
    (
        "nested closed object: optional property added",
        prop(
            {"type": "object", "properties": {"a": S}, "additionalProperties": False},
            {"type": "object", "properties": {"a": S, "b": S}, "additionalProperties": False},
            "F",
            wf={"b": "x"},
        ),
    ),
    # --- $ref, including cycles ----------------------------------------------------------------------------------
    (
        "$ref target changed",
        (
            root({"f": {"$ref": "#/$defs/link"}}, **{"$defs": {"link": {"type": "string"}}}),
            root({"f": {"$ref": "#/$defs/link"}}, **{"$defs": {"link": {"type": "string", "maxLength": 3}}}),
            "B",
            {"f": "abcd"},
            MISSING,
            "/$defs/link/maxLength",
        ),
    ),
    (
        "inline schema moved behind an identical $ref",
        (root({"f": S}), root({"f": {"$ref": "#/$defs/s"}}, **{"$defs": {"s": S}}), "same"),
    ),
    (
        "recursive schema: node property tightened",
        (tree({}), tree({"required": ["name"]}), "B", {"root": {"children": [{}]}}, MISSING, "/$defs/node/required"),
    ),
    ("recursive schema unchanged", (tree({}), tree({}), "same")),
    (
        "unused definition changed",
        (root({}, **{"$defs": {"x": S}}), root({}, **{"$defs": {"x": I}}), "doc", MISSING, MISSING, "/$defs/x"),
    ),
    (
        "$ref retargeted to a different type",
        (
            root({"f": {"$ref": "#/$defs/a"}}, **{"$defs": {"a": S, "b": I}}),
            root({"f": {"$ref": "#/$defs/b"}}, **{"$defs": {"a": S, "b": I}}),
            "BF",
            {"f": "x"},
            {"f": 1},
        ),
    ),
    # --- oneOf / anyOf and the intent discriminator ----------------------------------------------------------------
    (
        "intent added",
        (
            sections(HERO, FAQ),
            sections(HERO, FAQ, CTA),
            "F",
            MISSING,
            {"sections": [{"intent": "call-to-action", "href": "/x"}]},
        ),
    ),
    (
        "intent removed",
        (
            sections(HERO, FAQ, CTA),
            sections(HERO, FAQ),
            "B",
            {"sections": [{"intent": "call-to-action", "href": "/x"}]},
            MISSING,
        ),
    ),
    (
        "intent branch field tightened",
        (
            sections(HERO, FAQ),
            sections({**HERO, "properties": {**HERO["properties"], "title": {"type": "string", "maxLength": 10}}}, FAQ),
            "B",
            {"sections": [{"intent": "hero", "title": "a rather long title"}]},
            MISSING,
            "/$defs/hero/properties/title/maxLength",
        ),
    ),
    ("intent branches reordered", (sections(HERO, FAQ), sections(FAQ, HERO), "same")),
    (
        "intent branch gains an optional field (closed section)",
        (
            sections(HERO, FAQ),
            sections({**HERO, "properties": {**HERO["properties"], "subtitle": S}}, FAQ),
            "F",
            MISSING,
            {"sections": [{"intent": "hero", "title": "t", "subtitle": "s"}]},
        ),
    ),
    (
        "intent branches under anyOf: intent added",
        (sections(HERO, key="anyOf"), sections(HERO, FAQ, key="anyOf"), "F"),
    ),
    ("anyOf alternative added", prop({"anyOf": [S, I]}, {"anyOf": [S, I, {"type": "boolean"}]}, "F", wf=True)),
    ("anyOf alternative removed", prop({"anyOf": [S, I]}, {"anyOf": [S]}, "B", wb=1)),
    ("oneOf -> anyOf", prop({"oneOf": [S, {"minLength": 1}]}, {"anyOf": [S, {"minLength": 1}]}, "F", wf="a")),
    ("anyOf -> oneOf", prop({"anyOf": [S, {"minLength": 1}]}, {"oneOf": [S, {"minLength": 1}]}, "B", wb="a")),
    ("oneOf added", prop({}, {"oneOf": [S, I]}, "B", wb=True)),
    ("allOf condition added", prop(S, {"type": "string", "allOf": [{"maxLength": 2}]}, "B", wb="abc")),
    ("not added", prop(S, {"type": "string", "not": {"const": "x"}}, "B", wb="x")),
    # --- Charter locale rules (x-charter) ----------------------------------------------------------------------------
    ("locale added", (charter(), charter(locales={"fallbacks": {"de-DE": ["en"], "fr": ["en"]}}), "F")),
    ("locale removed", (charter(), charter(locales={"fallbacks": {}}), "BF")),
    ("required locale added", (charter(), charter(locales={"required": ["en", "de-DE"]}), "B")),
    (
        "required locale removed",
        (charter(locales={"required": ["en", "de-DE"]}), charter(), "F"),
    ),
    ("field becomes localised", (charter(), charter(localized=["title", "body"]), "F")),
    ("field no longer localised", (charter(), charter(localized=[]), "B")),
    ("default locale changed", (charter(), charter(locales={"default": "de-DE", "required": ["de-DE"]}), "BF")),
    (
        "fallback chain changed",
        (
            charter(locales={"fallbacks": {"de-DE": ["en"], "de-AT": ["de-DE", "en"]}}),
            charter(locales={"fallbacks": {"de-DE": ["en"], "de-AT": ["en", "de-DE"]}}),
            "",
        ),
    ),
    ("slug field changed", (charter(), charter(slug="title"), "BF")),
    ("owning domain changed", (charter(domain="a"), charter(domain="b"), "doc")),
    # --- annotations: documentation only -----------------------------------------------------------------------------
    (
        "description changed",
        prop({"type": "string", "description": "a"}, {"type": "string", "description": "b"}, "doc"),
    ),
    ("title added", prop(S, {"type": "string", "title": "T"}, "doc")),
    ("examples changed", prop({"type": "string", "examples": ["a"]}, {"type": "string", "examples": ["b"]}, "doc")),
    ("default changed", prop({"type": "string", "default": "a"}, {"type": "string", "default": "b"}, "doc")),
    ("deprecated added", prop(S, {"type": "string", "deprecated": True}, "doc")),
    ("vendor annotation added", prop(S, {"type": "string", "x-editor-hint": "short"}, "doc")),
    ("root description changed", (root({}, description="a"), root({}, description="b"), "doc")),
    # --- other keywords ----------------------------------------------------------------------------------------------
    (
        "dependentRequired added",
        (root({"a": S, "b": S}), root({"a": S, "b": S}, dependentRequired={"a": ["b"]}), "B", {"a": "x"}, MISSING),
    ),
    (
        "propertyNames constrained",
        (root({}), root({}, propertyNames={"pattern": "^[a-z]+$"}), "B", {"A": 1}, MISSING),
    ),
    (
        "if/then added (not analysed: breaking both ways)",
        prop(S, {"type": "string", "if": {"const": "a"}, "then": {"minLength": 3}}, "BF"),
    ),
    (
        "entry reference target changed",
        prop({"type": "string", "x-charter-ref": "pricing-plan"}, {"type": "string", "x-charter-ref": "page"}, "BF"),
    ),
]

CASES = [Case(name, *args) for name, args in RAW]


def test_table_is_large_enough() -> None:
    assert len(CASES) >= 80
    assert len({c.id for c in CASES}) == len(CASES), "case ids must be unique"


def _directions(case: Case) -> tuple[list[Any], str]:
    report = classify_release(case.old, case.new)
    changes = report.changes
    if not changes:
        return changes, "same"
    if all(c.annotation for c in changes):
        return changes, "doc"
    return changes, ("B" if any(c.backward for c in changes) else "") + ("F" if any(c.forward for c in changes) else "")


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_directions(case: Case) -> None:
    changes, got = _directions(case)
    assert got == case.breaks, [c.to_dict() for c in changes]
    if case.pointer:
        assert case.pointer in [c.pointer for c in changes], [c.pointer for c in changes]
    for c in changes:
        assert (c.message and c.pointer.startswith("/")) or c.pointer == ""


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_level_under_every_policy(case: Case) -> None:
    got = {policy: classify_release(case.old, case.new, policy).required_bump for policy in POLICIES}
    want = dict(LEVELS[case.breaks])
    if case.id in TOLERATED:
        want["TOLERANT"] = "minor"
    assert got == want


WITNESSED = [c for c in CASES if c.wb is not MISSING or c.wf is not MISSING]


@pytest.mark.parametrize("case", WITNESSED, ids=[c.id for c in WITNESSED])
def test_witnesses_prove_the_break(case: Case) -> None:
    old, new = make_validator(case.old), make_validator(case.new)
    if case.wb is not MISSING:
        assert "B" in case.breaks
        assert old.is_valid(case.wb) and not new.is_valid(case.wb), "wb must be valid old, invalid new"
    if case.wf is not MISSING:
        assert "F" in case.breaks
        assert new.is_valid(case.wf) and not old.is_valid(case.wf), "wf must be valid new, invalid old"


def test_most_breaking_cases_are_witnessed() -> None:
    breaking = [c for c in CASES if c.breaks in ("B", "F", "BF") and not c.id.startswith(("locale", "required locale"))]
    assert len(WITNESSED) >= 0.75 * len(breaking)
