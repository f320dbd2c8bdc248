"""The schema-driven form engine: schema -> controls, form fields -> data, errors -> fields."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from charter.admin.forms import Edit, apply_edit, build_form, compile_schema, control_id, form_for, read_entry
from charter.admin.forms.values import FormReader, read_value
from charter.config import DEMO_DIR
from charter.exceptions import ErrorDetail
from charter.schemas.registry import ContentType, Registry

REGISTRY = Registry.load(DEMO_DIR / "content-types")
DEMO_ROWS = [json.loads(line) for line in (DEMO_DIR / "content" / "entries.jsonl").read_text().splitlines() if line]

EVERY_KIND = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "kitchen.v1",
    "version": "1.0.0",
    "type": "object",
    "x-charter": {
        "slug": "slug",
        "localized": ["title", "blocks", "flag"],
        "locales": {"default": "en", "fallbacks": {"fr": ["en"]}},
    },
    "required": ["slug", "title"],
    "properties": {
        "slug": {"type": "string", "pattern": "^[a-z0-9]+(?:-[a-z0-9]+)*$"},
        "title": {"type": "string", "minLength": 1, "maxLength": 80},
        "body": {"type": "string", "maxLength": 5000},
        "count": {"type": "integer", "minimum": 0},
        "ratio": {"type": "number"},
        "flag": {"type": "boolean"},
        "color": {"enum": ["red", "green"]},
        "size": {"enum": [1, 2, 3]},
        "kind": {"const": "fixed"},
        "when": {"type": "string", "format": "date-time"},
        "day": {"type": "string", "format": "date"},
        "mail": {"type": "string", "format": "email"},
        "link": {"type": "string", "format": "url"},
        "author": {"type": "string", "x-charter-ref": "person"},
        "meta": {"type": "object", "additionalProperties": True},
        "tags": {"type": "array", "items": {"type": "string", "minLength": 1}},
        "address": {
            "type": "object",
            "required": ["city"],
            "properties": {"city": {"type": "string"}, "zip": {"type": "string"}},
        },
        "blocks": {
            "type": "array",
            "items": {
                "oneOf": [
                    {
                        "type": "object",
                        "required": ["intent", "title"],
                        "properties": {"intent": {"const": "hero"}, "title": {"type": "string"}},
                    },
                    {
                        "type": "object",
                        "required": ["intent", "items"],
                        "properties": {
                            "intent": {"const": "faq"},
                            "items": {
                                "type": "array",
                                "items": {
                                    "type": "object",
                                    "properties": {"q": {"type": "string"}, "a": {"type": "string"}},
                                },
                            },
                        },
                    },
                ]
            },
        },
        "anything": {"oneOf": [{"type": "string"}, {"type": "number"}]},
    },
}


def kitchen() -> ContentType:
    return ContentType(name="kitchen", major=1, version="1.0.0", schema=copy.deepcopy(EVERY_KIND))


def test_every_schema_kind_gets_its_control() -> None:
    root = compile_schema(EVERY_KIND)
    kinds = {c.key: c.kind for c in root.children}
    assert kinds == {
        "slug": "text",
        "title": "text",
        "body": "textarea",
        "count": "integer",
        "ratio": "number",
        "flag": "boolean",
        "color": "select",
        "size": "select",
        "kind": "const",
        "when": "datetime",
        "day": "date",
        "mail": "email",
        "link": "url",
        "author": "ref",
        "meta": "json",
        "tags": "array",
        "address": "object",
        "blocks": "array",
        "anything": "json",
    }
    blocks = root.child("blocks")
    assert blocks is not None and blocks.item is not None and blocks.item.kind == "union"
    assert set(blocks.item.branches) == {"hero", "faq"}
    assert root.child("author").ref_type == "person"  # type: ignore[union-attr]
    page = form_for(REGISTRY.get("page"))
    sections = page.child("sections")
    assert sections is not None and sections.item is not None
    assert set(sections.item.branches) == {
        "hero",
        "feature-grid",
        "testimonial-set",
        "pricing-table",
        "faq",
        "call-to-action",
        "rich-text",
    }
    hero = sections.item.branches["hero"]
    assert hero.child("cta").kind == "object"  # type: ignore[union-attr]  # a $ref to #/$defs/link


def fields_for(data: dict[str, Any]) -> list[tuple[str, str]]:
    """The fields a browser would submit for ``data`` (markers included), built by hand."""
    out: list[tuple[str, str]] = [("/en@", "1")]

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            out.append((prefix + "@", "1"))
            for k, v in value.items():
                walk(f"{prefix}/{k}", v)
        elif isinstance(value, list):
            out.append((prefix + "@", "1"))
            for i, v in enumerate(value):
                walk(f"{prefix}/{i}", v)
        elif isinstance(value, bool):
            out.append((prefix + "@", "1"))
            if value:
                out.append((prefix, "true"))
        else:
            out.append((prefix, str(value)))

    for key, value in data["en"].items():
        walk(f"/en/{key}", value)
    return out


def test_reading_keeps_what_was_typed_and_types_what_it_can() -> None:
    ct = kitchen()
    root = form_for(ct)
    fields = [
        ("/en@", "1"),
        ("/en/slug", "a-b"),
        ("/en/title", ""),
        ("/en/body", "line 1\r\nline 2"),
        ("/en/count", "12"),
        ("/en/ratio", "not a number"),
        ("/en/flag@", "1"),
        ("/en/flag", "true"),
        ("/en/color", ""),
        ("/en/size", "2"),
        ("/en/when", "2026-03-01T09:30"),
        ("/en/mail", ""),
        ("/en/meta", '{"a": 1}'),
        ("/en/tags@", "1"),
        ("/en/tags/1", "second"),
        ("/en/tags/0", ""),
        ("/en/address@", "1"),
        ("/en/address/city", ""),
        ("/en/address/zip", ""),
        ("/en/blocks@", "1"),
        ("/en/blocks/0@", "1"),
        ("/en/blocks/0/intent", "hero"),
        ("/en/blocks/0/title", "Hi"),
        ("/en/anything", "not json"),
        ("/fr/title", ""),
        ("/fr/flag", "false"),
    ]
    data = read_entry(ct, root, fields)
    assert data["en"] == {
        "slug": "a-b",
        "title": "",  # required: kept empty so the schema says what is wrong, at the field
        "body": "line 1\nline 2",
        "count": 12,
        "ratio": "not a number",  # not a number: kept as typed, the schema will say so
        "flag": True,
        "size": 2,  # the enum's own value, not the string
        "kind": "fixed",
        "when": "2026-03-01T09:30:00Z",
        "meta": {"a": 1},
        "tags": ["", "second"],  # ordered by index; an empty item stays (minLength will report it)
        "blocks": [{"intent": "hero", "title": "Hi"}],
        "anything": "not json",
    }
    assert data["fr"] == {"flag": False}  # an empty title inherits; the three-way flag was set


def test_round_trip_of_every_demo_entry() -> None:
    for row in DEMO_ROWS:
        ct = REGISTRY.get(row["type"])
        en_only = {"en": row["data"]["en"]}
        assert read_entry(ct, form_for(ct), fields_for(en_only)) == en_only, row["id"]


def test_structural_edits() -> None:
    ct = REGISTRY.get("page")
    root = form_for(ct)
    data: dict[str, Any] = {"en": {"slug": "x", "title": "X", "sections": []}}
    r = apply_edit(ct, root, data, Edit("add", "/en/sections"), {"/en/sections@add": "faq"})
    assert data["en"]["sections"] == [{"intent": "faq"}]
    assert r.focus == "/en/sections/0"
    apply_edit(ct, root, data, Edit("add", "/en/sections"), {"/en/sections@add": "hero"})
    assert data["en"]["sections"][1] == {"intent": "hero", "cta": {}}  # required sub-object pre-made
    apply_edit(ct, root, data, Edit("add", "/en/sections/0/items"), {})
    assert data["en"]["sections"][0]["items"] == [{}]
    r = apply_edit(ct, root, data, Edit("up", "/en/sections/1"), {})
    assert [s["intent"] for s in data["en"]["sections"]] == ["hero", "faq"]
    assert r.focus == "/en/sections/0#up" and "position 1" in r.message
    r = apply_edit(ct, root, data, Edit("up", "/en/sections/0"), {})
    assert "already first" in r.message
    apply_edit(ct, root, data, Edit("remove", "/en/sections/0"), {})
    assert [s["intent"] for s in data["en"]["sections"]] == ["faq"]
    r = apply_edit(ct, root, data, Edit("add", "/en/sections"), {"/en/sections@add": "nope"})
    assert "Unknown" in r.message and len(data["en"]["sections"]) == 1
    # Locales: override copies the inherited value in; inherit drops it again.
    apply_edit(ct, root, data, Edit("override", "/de-DE/sections"), {})
    assert data["de-DE"]["sections"] == data["en"]["sections"]
    assert data["de-DE"]["sections"] is not data["en"]["sections"]
    apply_edit(ct, root, data, Edit("override", "/de-AT/sections"), {})
    assert data["de-AT"]["sections"] == data["de-DE"]["sections"]  # de-AT falls back to de-DE first
    apply_edit(ct, root, data, Edit("inherit", "/de-DE/sections"), {})
    assert "de-DE" not in data
    r = apply_edit(ct, root, data, Edit("override", "/de-DE/slug"), {})
    assert "only localised fields" in r.message
    assert Edit.parse("drop:/en") is None and Edit.parse("add:en") is None and Edit.parse(None) is None


def test_errors_land_at_their_fields_in_plain_words() -> None:
    ct = REGISTRY.get("page")
    data = {
        "en": {
            "slug": "Not A Slug",
            "sections": [{"intent": "hero", "title": "", "cta": {"label": "Go", "href": "no"}}],
        }
    }
    errors = ct.validate(data)
    view = build_form(ct, form_for(ct), data, errors)
    en = view.tabs[0]
    by_name = {}

    def walk(ws: list[Any]) -> None:
        for w in ws:
            by_name[w.name] = w
            walk(w.children)

    walk(en.widgets)
    assert by_name["/en/slug"].errors == [
        "Use only lowercase letters, digits and hyphens (for example: spring-launch)."
    ]
    assert by_name["/en/title"].errors == ["This field is required."]  # moved from /en to the missing field
    assert by_name["/en/sections/0/title"].errors == ["Enter a value."]
    assert by_name["/en/sections/0/cta/href"].errors == ["Enter a URL (https://… or a path starting with /)."]
    assert en.error_count == 4 == view.error_count
    assert all(href.startswith("#f-en-") for _, href in view.summary)
    assert by_name["/en/sections/0"].label == "Section 1: Hero"


def test_locale_tabs_show_inherited_values() -> None:
    ct = REGISTRY.get("pricing-plan")
    row = next(r for r in DEMO_ROWS if r["type"] == "pricing-plan")
    view = build_form(ct, form_for(ct), row["data"])
    assert [t.locale for t in view.tabs] == ["en", "de-DE", "de-AT"]
    de_at = {w.name: w for w in view.tabs[2].widgets}
    assert set(de_at) == {"/de-AT/name", "/de-AT/features"}  # only localised fields
    features = de_at["/de-AT/features"]
    assert features.kind == "inherited" and features.inherit is not None
    assert features.inherit.source == "de-DE" and "3 Dashboards" in features.inherit.display
    de_de = {w.name: w for w in view.tabs[1].widgets}
    assert de_de["/de-DE/features"].kind == "array" and de_de["/de-DE/features"].inherit.overridden  # type: ignore[union-attr]
    errors = ct.validate({"en": row["data"]["en"]})  # de-DE is a required locale
    view = build_form(ct, form_for(ct), {"en": row["data"]["en"]}, errors)
    assert view.tabs[1].error_count >= 1 and view.tab_with_errors() == "de-DE"


@pytest.mark.parametrize(
    ("pointer", "expected"),
    [
        ("/en/title", "f-en-title"),
        ("/en/a-b", "f-en-a_2db"),
        ("/en/a/b", "f-en-a-b"),
        ("/de-AT/x_y", "f-de_2dAT-x_5fy"),
    ],
)
def test_control_ids_are_unique_and_valid(pointer: str, expected: str) -> None:
    assert control_id(pointer) == expected


def test_datetime_and_number_edge_cases() -> None:
    root = compile_schema(EVERY_KIND)
    when = root.child("when")
    ratio = root.child("ratio")
    assert when is not None and ratio is not None
    form = FormReader([("/x", "2026-03-01T10:00:00+02:00")])
    assert read_value(when, "/x", form) == "2026-03-01T08:00:00Z"
    assert read_value(when, "/x", FormReader([("/x", "tomorrow")])) == "tomorrow"
    for raw in ("nan", "inf", "1e999"):
        assert read_value(ratio, "/x", FormReader([("/x", raw)])) == raw
    assert read_value(ratio, "/x", FormReader([("/x", " 2.5 ")])) == 2.5
    err = ErrorDetail("/en/ratio", "'x' is not of type 'number'", "type")
    view = build_form(kitchen(), root, {"en": {"ratio": "x"}}, [err])
    ratio_w = next(w for w in view.tabs[0].widgets if w.name == "/en/ratio")
    assert ratio_w.errors == ["Enter a number."] and ratio_w.value == "x" and ratio_w.input_type == "text"
