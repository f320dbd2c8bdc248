"""`charter schema validate` lints the schema files themselves, naming the file and JSON pointer."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from charter.config import DEMO_DIR
from charter.schemas.lint import lint_directory, lint_schema

PLAN = json.loads((DEMO_DIR / "content-types" / "pricing-plan.schema.json").read_text())
PAGE = json.loads((DEMO_DIR / "content-types" / "page.schema.json").read_text())


def mutate(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for path, value in changes.items():
        node = out
        parts = path.split("__")
        for p in parts[:-1]:
            node = node[p]
        if value is DELETE:
            del node[parts[-1]]
        else:
            node[parts[-1]] = value
    return out


DELETE = object()


def test_demo_content_types_are_clean() -> None:
    types, errors = lint_directory(DEMO_DIR / "content-types")
    assert errors == []
    assert {t.schema_id for t in types} == {
        "page.v1",
        "pricing-plan.v1",
        "doc.v1",
        "legal-text.v1",
        "marketing-claim.v1",
    }


CASES = [
    ("missing version", mutate(PLAN, version=DELETE), "/version", "missing version"),
    ("version not semver", mutate(PLAN, version="1.0"), "/version", "not semver"),
    ("missing $id", mutate(PLAN, **{"$id": DELETE}), "/$id", "missing $id"),
    ("$id without major", mutate(PLAN, **{"$id": "pricing-plan"}), "/$id", "must look like"),
    ("$id name differs from file", mutate(PLAN, **{"$id": "plan.v1"}), "/$id", "does not match the file name"),
    ("$id major differs from version", mutate(PLAN, **{"$id": "pricing-plan.v2"}), "/$id", "does not match version"),
    (
        "invalid JSON Schema keyword value",
        mutate(PLAN, properties__price__minimum="zero"),
        "/properties/price/minimum",
        "invalid JSON Schema",
    ),
    ("wrong dialect", mutate(PLAN, **{"$schema": "http://json-schema.org/draft-07/schema#"}), "/$schema", "2020-12"),
    ("root not an object", mutate(PLAN, type="array"), "/type", "root must be"),
    (
        "bad default locale",
        mutate(
            PLAN, **{"x-charter": {**PLAN["x-charter"], "locales": {"default": "english", "required": ["english"]}}}
        ),
        "/x-charter/locales/default",
        "not a locale code",
    ),
    (
        "fallback to unknown locale",
        mutate(
            PLAN,
            **{
                "x-charter": {
                    **PLAN["x-charter"],
                    "locales": {"default": "en", "required": ["en"], "fallbacks": {"de-AT": ["fr-FR", "en"]}},
                }
            },
        ),
        "/x-charter/locales/fallbacks/de-AT/0",
        "not a locale of this type",
    ),
    (
        "fallback to itself",
        mutate(
            PLAN,
            **{
                "x-charter": {
                    **PLAN["x-charter"],
                    "locales": {"default": "en", "fallbacks": {"de-AT": ["de-AT", "en"]}},
                }
            },
        ),
        "/x-charter/locales/fallbacks/de-AT/0",
        "cannot fall back to itself",
    ),
    (
        "required locale without chain",
        mutate(PLAN, **{"x-charter": {**PLAN["x-charter"], "locales": {"default": "en", "required": ["en", "fr-FR"]}}}),
        "/x-charter/locales/required/1",
        "needs a fallback chain",
    ),
    (
        "localized field that does not exist",
        mutate(PLAN, **{"x-charter": {**PLAN["x-charter"], "localized": ["nom"]}}),
        "/x-charter/localized/0",
        "not a property",
    ),
    (
        "unknown x-charter option",
        mutate(PLAN, **{"x-charter": {**PLAN["x-charter"], "colour": "red"}}),
        "/x-charter/colour",
        "unknown x-charter option",
    ),
    ("slug field not required", mutate(PAGE, required=["title", "sections"]), "/x-charter/slug", "must be required"),
    (
        "unknown intent",
        mutate(
            PAGE,
            **{
                "$defs": {
                    **PAGE["$defs"],
                    "hero": mutate(PAGE["$defs"]["hero"], properties__intent={"const": "mega-banner"}),
                }
            },
        ),
        "/$defs/hero/properties/intent/const",
        "unknown intent",
    ),
    (
        "component name as intent",
        mutate(
            PAGE,
            **{
                "$defs": {
                    **PAGE["$defs"],
                    "hero": mutate(PAGE["$defs"]["hero"], properties__intent={"const": "HeroBanner"}),
                }
            },
        ),
        "/$defs/hero/properties/intent/const",
        "not a component name",
    ),
    (
        "presentation field not allowed",
        mutate(PLAN, properties__backgroundColor={"type": "string"}),
        "/properties/backgroundColor",
        "presentation field",
    ),
    (
        "unresolvable $ref",
        mutate(
            PAGE,
            **{
                "$defs": {
                    **PAGE["$defs"],
                    "hero": mutate(PAGE["$defs"]["hero"], properties__cta={"$ref": "#/$defs/button"}),
                }
            },
        ),
        "/$defs/hero/properties/cta/$ref",
        "unresolvable $ref",
    ),
    (
        "unknown policy",
        mutate(PLAN, **{"x-charter": {**PLAN["x-charter"], "policy": "LOOSE"}}),
        "/x-charter/policy",
        "unknown policy",
    ),
]


@pytest.mark.parametrize(("case", "schema", "pointer", "message"), CASES, ids=[c[0] for c in CASES])
def test_lint_reports_file_and_pointer(case: str, schema: dict[str, Any], pointer: str, message: str) -> None:
    name = "page" if schema.get("properties", {}).get("sections") else "pricing-plan"
    errors = lint_schema(schema, f"content-types/{name}.schema.json")
    assert any(e.pointer == pointer and message in e.message for e in errors), [e.to_dict() for e in errors]
    assert all(e.file == f"content-types/{name}.schema.json" for e in errors)


def test_presentation_field_allowed_when_declared() -> None:
    legal = json.loads((DEMO_DIR / "content-types" / "legal-text.schema.json").read_text())
    assert lint_schema(legal, "legal-text.schema.json") == []
    legal["x-charter"]["presentation"] = []
    assert [e.pointer for e in lint_schema(legal, "legal-text.schema.json")] == ["/properties/layout"]


def test_project_intents_extend_the_vocabulary() -> None:
    schema = mutate(
        PAGE,
        **{
            "$defs": {
                **PAGE["$defs"],
                "hero": mutate(PAGE["$defs"]["hero"], properties__intent={"const": "case-study"}),
            }
        },
    )
    assert lint_schema(schema, "page.schema.json")
    assert lint_schema(schema, "page.schema.json", ("case-study",)) == []


def test_invalid_json_names_line_and_column(tmp_path: Path) -> None:
    from charter.schemas.lint import lint_file

    path = tmp_path / "page.schema.json"
    path.write_text('{\n  "$id": "page.v1",\n  "version": 1.0.0\n}')
    ct, errors = lint_file(path)
    assert ct is None
    assert "line 3" in errors[0].message and errors[0].file == str(path)
