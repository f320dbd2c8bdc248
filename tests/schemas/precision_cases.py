"""Realistic content-type changes, each with the directions it really breaks, written by hand.

A table of the edits content teams make every week (fields added, made optional or nullable,
alternatives added, rewrites that change nothing) and a few that really break. ``breaks`` is the
truth: ``B`` stored content may stop validating, ``F`` content written under the new schema may
be rejected by the old one, ``BF`` both, ``""`` neither (but something changed), ``same`` no change
at all, ``doc`` documentation only. ``witness`` documents prove each claimed break with the real
validator (see tests/schemas/test_compat_precision.py).

Cases marked ``source`` are derived from public schema-compatibility fixtures (see the attribution
there); the rest are Charter's own.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Precise:
    id: str
    old: dict[str, Any]
    new: dict[str, Any]
    breaks: str
    #: Documents valid under old and not new (backward) / under new and not old (forward).
    wb: list[Any] = field(default_factory=list)
    wf: list[Any] = field(default_factory=list)
    source: str = ""
    #: What Charter reports where it knowingly stays conservative (a false alarm it accepts).
    reported: str = ""


def doc(props: dict[str, Any], required: list[str] | None = None, closed: bool = False, **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"$id": "article.v1", "version": "1.0.0", "type": "object", "properties": props}
    if required:
        out["required"] = required
    if closed:
        out["additionalProperties"] = False
    out.update(extra)
    return out


def bumped(schema: dict[str, Any], **changes: Any) -> dict[str, Any]:
    out = copy.deepcopy(schema)
    out["version"] = "1.1.0"
    out.update(changes)
    return out


S = {"type": "string"}
N = {"type": "number"}
I = {"type": "integer"}  # noqa: E741
T = {"title": S, "body": S}
BODY = {"type": "object", "properties": {"title": S, "body": S}, "required": ["title"], "additionalProperties": False}
HERO = {
    "type": "object",
    "properties": {"intent": {"const": "hero"}, "title": S},
    "required": ["intent"],
    "additionalProperties": False,
}
FAQ = {
    "type": "object",
    "properties": {"intent": {"const": "faq"}, "q": S},
    "required": ["intent"],
    "additionalProperties": False,
}


def _root_ref(body: dict[str, Any], version: str = "1.0.0") -> dict[str, Any]:
    return {"$id": "article.v1", "version": version, "$ref": "#/$defs/body", "$defs": {"body": body}}


CASES: list[Precise] = [
    # -- fields added, removed, made optional ---------------------------------------------------
    Precise(
        "optional field added, closed model",
        doc(T, closed=True),
        bumped(doc({**T, "tag": S}, closed=True)),
        "F",
        wf=[{"tag": "x"}],
    ),
    Precise("optional field added, open model", doc(T), bumped(doc({**T, "tag": S})), "B", wb=[{"tag": 1}]),
    Precise("required field added", doc(T), bumped(doc({**T, "tag": S}, ["tag"])), "B", wb=[{}]),
    Precise("field made optional", doc(T, ["title"]), bumped(doc(T)), "F", wf=[{}]),
    Precise("field made required", doc(T), bumped(doc(T, ["title"])), "B", wb=[{}]),
    Precise(
        "field removed, closed model",
        doc(T, closed=True),
        bumped(doc({"title": S}, closed=True)),
        "B",
        wb=[{"body": "x"}],
    ),
    Precise("field removed, open model", doc(T), bumped(doc({"title": S})), "F", wf=[{"body": 1}]),
    Precise(
        "field removed, still admitted by additionalProperties",
        doc(T, additionalProperties=S),
        bumped(doc({"title": S}, additionalProperties=S)),
        "",
    ),
    Precise(
        "field removed, still admitted by patternProperties",
        doc({"title": S, "x-note": S}, patternProperties={"^x-": S}, additionalProperties=False),
        bumped(doc({"title": S}, patternProperties={"^x-": S}, additionalProperties=False)),
        "",
    ),
    Precise(
        "field renamed, closed model",
        doc(T, closed=True),
        bumped(doc({"title": S, "text": S}, closed=True)),
        "BF",
        wb=[{"body": "x"}],
        wf=[{"text": "x"}],
    ),
    # -- nullable, unions ----------------------------------------------------------------------
    Precise(
        "field made nullable with anyOf",
        doc({"title": S}),
        bumped(doc({"title": {"anyOf": [S, {"type": "null"}]}})),
        "F",
        wf=[{"title": None}],
    ),
    Precise(
        "field made nullable with oneOf",
        doc({"title": S}),
        bumped(doc({"title": {"oneOf": [S, {"type": "null"}]}})),
        "F",
        wf=[{"title": None}],
    ),
    Precise(
        "field made nullable with a type list",
        doc({"title": S}),
        bumped(doc({"title": {"type": ["string", "null"]}})),
        "F",
        wf=[{"title": None}],
    ),
    Precise(
        "nullable described, then the description changed",
        doc({"title": {"anyOf": [S, {"type": "null"}], "description": "a"}}),
        bumped(doc({"title": {"anyOf": [S, {"type": "null"}], "description": "b"}})),
        "doc",
    ),
    Precise(
        "nullable taken back",
        doc({"title": {"anyOf": [S, {"type": "null"}]}}),
        bumped(doc({"title": S})),
        "B",
        wb=[{"title": None}],
    ),
    Precise(
        "oneOf string|number gains boolean",
        doc({"v": {"oneOf": [S, N]}}),
        bumped(doc({"v": {"oneOf": [S, N, {"type": "boolean"}]}})),
        "F",
        wf=[{"v": True}],
    ),
    Precise(
        "oneOf string|number alternatives reordered",
        doc({"v": {"oneOf": [S, N]}}),
        bumped(doc({"v": {"oneOf": [N, S]}})),
        "same",
    ),
    Precise(
        "oneOf string|number: string widened",
        doc({"v": {"oneOf": [{"type": "string", "maxLength": 5}, N]}}),
        bumped(doc({"v": {"oneOf": [{"type": "string", "maxLength": 9}, N]}})),
        "F",
        wf=[{"v": "abcdefg"}],
    ),
    Precise(
        "anyOf alternatives reordered", doc({"v": {"anyOf": [S, I]}}), bumped(doc({"v": {"anyOf": [I, S]}})), "same"
    ),
    Precise(
        "section intent added",
        doc({"s": {"oneOf": [HERO]}}),
        bumped(doc({"s": {"oneOf": [HERO, FAQ]}})),
        "F",
        wf=[{"s": {"intent": "faq"}}],
    ),
    Precise(
        "section intent removed",
        doc({"s": {"oneOf": [HERO, FAQ]}}),
        bumped(doc({"s": {"oneOf": [HERO]}})),
        "B",
        wb=[{"s": {"intent": "faq"}}],
    ),
    Precise(
        "overlapping oneOf alternative widened",
        doc({"v": {"oneOf": [{"type": "string", "maxLength": 3}, {"type": "string", "minLength": 5}]}}),
        bumped(doc({"v": {"oneOf": [{"type": "string", "maxLength": 9}, {"type": "string", "minLength": 5}]}})),
        "BF",
        wb=[{"v": "abcdef"}],
        wf=[{"v": "abcd"}],
    ),
    # -- allOf, equivalent rewrites ------------------------------------------------------------
    Precise(
        "allOf conditions reordered",
        doc({"t": {"allOf": [{"minLength": 1}, {"maxLength": 9}]}}),
        bumped(doc({"t": {"allOf": [{"maxLength": 9}, {"minLength": 1}]}})),
        "same",
    ),
    Precise("type written as allOf[type]", doc({"t": S}), bumped(doc({"t": {"allOf": [S]}})), "same"),
    Precise(
        "allOf of a $ref reordered",
        doc({"t": {"allOf": [{"$ref": "#/$defs/s"}, {"maxLength": 9}]}}, **{"$defs": {"s": S}}),
        bumped(doc({"t": {"allOf": [{"maxLength": 9}, {"$ref": "#/$defs/s"}]}}, **{"$defs": {"s": S}})),
        "same",
    ),
    Precise(
        "empty object: additionalProperties false as maxProperties 0",
        doc({"meta": {"type": "object", "additionalProperties": False}}),
        bumped(doc({"meta": {"type": "object", "maxProperties": 0}})),
        "same",
    ),
    Precise(
        "De Morgan: not anyOf as allOf of nots",
        doc({"t": {"type": "string", "not": {"anyOf": [{"const": "a"}, {"const": "b"}]}}}),
        bumped(doc({"t": {"type": "string", "allOf": [{"not": {"const": "a"}}, {"not": {"const": "b"}}]}})),
        "same",
    ),
    Precise("double negation", doc({"t": {"not": {"not": S}}}), bumped(doc({"t": S})), "same"),
    Precise("const as one-value enum", doc({"k": {"const": "a"}}), bumped(doc({"k": {"enum": ["a"]}})), "same"),
    Precise("type as one-element list", doc({"k": S}), bumped(doc({"k": {"type": ["string"]}})), "same"),
    Precise(
        "inline schema moved to $defs",
        doc({"t": {"type": "string", "maxLength": 9}}),
        bumped(doc({"t": {"$ref": "#/$defs/t"}}, **{"$defs": {"t": {"type": "string", "maxLength": 9}}})),
        "same",
    ),
    # -- $ref ------------------------------------------------------------------------------------
    Precise("root $ref, only the version bumped", _root_ref(BODY), _root_ref(BODY, "1.0.1"), "same"),
    Precise(
        "root $ref, optional field added to the closed body",
        _root_ref(BODY),
        _root_ref({**BODY, "properties": {**BODY["properties"], "tag": S}}, "1.1.0"),
        "F",
        wf=[{"title": "t", "tag": "x"}],
    ),
    Precise(
        "root $ref, required field added",
        _root_ref(BODY),
        _root_ref({**BODY, "required": ["title", "body"]}, "1.1.0"),
        "B",
        wb=[{"title": "t"}],
    ),
    Precise(
        "nested $ref definition widened",
        doc({"t": {"$ref": "#/$defs/t"}}, **{"$defs": {"t": {"maxLength": 3}}}),
        bumped(doc({"t": {"$ref": "#/$defs/t"}}, **{"$defs": {"t": {"maxLength": 9}}})),
        "F",
        wf=[{"t": "abcdef"}],
    ),
    # -- bounds, values, docs ------------------------------------------------------------------
    Precise(
        "maxLength relaxed",
        doc({"t": {"type": "string", "maxLength": 90}}),
        bumped(doc({"t": {"type": "string", "maxLength": 120}})),
        "F",
        wf=[{"t": "x" * 100}],
    ),
    Precise(
        "maxLength tightened",
        doc({"t": {"type": "string", "maxLength": 120}}),
        bumped(doc({"t": {"type": "string", "maxLength": 90}})),
        "B",
        wb=[{"t": "x" * 100}],
    ),
    Precise(
        "enum value added",
        doc({"k": {"enum": ["a", "b"]}}),
        bumped(doc({"k": {"enum": ["a", "b", "c"]}})),
        "F",
        wf=[{"k": "c"}],
    ),
    Precise(
        "enum value removed",
        doc({"k": {"enum": ["a", "b"]}}),
        bumped(doc({"k": {"enum": ["a"]}})),
        "B",
        wb=[{"k": "b"}],
    ),
    Precise(
        "description changed",
        doc({"t": {**S, "description": "a"}}),
        bumped(doc({"t": {**S, "description": "b"}})),
        "doc",
    ),
    Precise("integer widened to number", doc({"n": I}), bumped(doc({"n": N})), "F", wf=[{"n": 1.5}]),
    Precise(
        "format email widened to idn-email",
        doc({"e": {"type": "string", "format": "email"}}),
        bumped(doc({"e": {"type": "string", "format": "idn-email"}})),
        "F",
    ),
    # -- unevaluated* --------------------------------------------------------------------------
    Precise(
        "unevaluatedProperties: field removed",
        doc({"foo": S, "bar": S}, unevaluatedProperties=False),
        bumped(doc({"foo": S}, unevaluatedProperties=False)),
        "B",
        wb=[{"foo": "x", "bar": "y"}],
    ),
    Precise(
        "unevaluatedProperties: optional field added",
        doc({"foo": S}, unevaluatedProperties=False),
        bumped(doc({"foo": S, "bar": S}, unevaluatedProperties=False)),
        "F",
        wf=[{"bar": "y"}],
    ),
    Precise(
        "unevaluatedItems: prefixItems shortened",
        doc({"p": {"type": "array", "prefixItems": [S, I], "unevaluatedItems": False}}),
        bumped(doc({"p": {"type": "array", "prefixItems": [S], "unevaluatedItems": False}})),
        "B",
        wb=[{"p": ["a", 1]}],
    ),
    Precise(
        "unevaluatedProperties over allOf: field removed from a branch",
        doc({}, allOf=[{"properties": {"foo": S}}, {"properties": {"bar": S}}], unevaluatedProperties=False),
        bumped(doc({}, allOf=[{"properties": {"foo": S}}, {"properties": {}}], unevaluatedProperties=False)),
        "B",
        wb=[{"bar": "y"}],
        reported="BF",  # unevaluatedProperties beside allOf is not analysed: breaks both ways,
    ),
    # -- derived from public diff fixtures (Confluent schema registry, json-schema-provider test
    # resources, Confluent Community License): the situations re-expressed as content fields ------
    Precise(
        "not: number -> integer",
        doc({"v": {"not": N}}),
        bumped(doc({"v": {"not": I}})),
        "F",
        wf=[{"v": 1.5}],
        source="confluent diff-schema-examples: compatible change to not schema",
    ),
    Precise(
        "allOf number and integer is integer",
        doc({"v": I}),
        bumped(doc({"v": {"allOf": [N, I]}})),
        "same",
        source="confluent diff-combined-schema-examples: combined schema with duplicates",
    ),
    Precise(
        "allOf duplicate condition removed",
        doc({"v": {"allOf": [S, S]}}),
        bumped(doc({"v": {"allOf": [S]}})),
        "same",
        source="confluent diff-combined-schema-examples: combined schema with duplicates in original",
    ),
    Precise(
        "unsatisfiable allOf",
        doc({"v": S}),
        bumped(doc({"v": {"allOf": [N, S]}})),
        "B",
        wb=[{"v": "x"}],
        source="confluent diff-combined-schema-examples: non-combined to allOf",
    ),
    Precise(
        "property added where a pattern already fixed it",
        doc({"foo": S}, patternProperties={"^I_": I}, additionalProperties=False),
        bumped(doc({"foo": S, "I_1": N}, patternProperties={"^I_": I}, additionalProperties=False)),
        "",
        source="confluent diff-schema-examples: property added to partially open content model",
    ),
    Precise(
        "dependent schema about another type",
        doc({}, dependentSchemas={"foo": S}),
        bumped(doc({}, dependentSchemas={"foo": N})),
        "same",
        source="confluent diff-schema-examples: incompatible changes to dependencies schemas",
    ),
]
