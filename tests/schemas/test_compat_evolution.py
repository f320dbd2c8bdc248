"""Issue 18's evolution rules beyond the change table: the TOLERANT policy and its evidence
(consumer contracts, stored content), draft-07 input, and errors reported once."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft7Validator

from charter.config import load_settings
from charter.content.schema_check import run_schema_check
from charter.schemas.compat import DEFAULT_POLICY, classify_release
from charter.schemas.compat.check import check_type
from charter.schemas.compat.diff.drafts import draft_of, upgrade
from charter.schemas.compat.tolerance import field_names, relied_on, unheld
from charter.schemas.validation import make_validator
from tests.schemas.test_compat_check import _git, cli, page, released, write_page

S = {"type": "string"}


@pytest.fixture
def repo(project_dir: Path) -> Path:
    _git(project_dir, "init", "-q", "-b", "main")
    _git(project_dir, "add", "-A")
    _git(project_dir, "commit", "-q", "-m", "v1")
    return project_dir


def article(props: dict[str, Any], closed: bool = True, **extra: Any) -> dict[str, Any]:
    out = {"$id": "article.v1", "version": "1.0.0", "type": "object", "properties": props, **extra}
    if closed:
        out["additionalProperties"] = False
    return out


@pytest.mark.parametrize(
    ("old", "new", "tolerant", "full"),
    [
        (article({"a": S}), article({"a": S, "b": S}), "minor", "major"),  # optional field, closed model
        (article({"a": S}), article({"a": S}, closed=False), "minor", "major"),  # model opened
        (article({"a": S}), article({"a": S, "b": S}, required=["b"]), "major", "major"),  # required field
        (article({"a": S, "b": S}), article({"a": S}), "major", "major"),  # field removed
        (article({"a": S}, required=["a"]), article({"a": S}), "major", "major"),  # field made optional
        (article({"a": {"enum": ["x"]}}), article({"a": {"enum": ["x", "y"]}}), "major", "major"),  # widened
        (article({"a": S}, closed=False), article({"a": S, "b": S}, closed=False), "major", "major"),  # open model
        (article({"a": S}), article({"a": {**S, "title": "A"}}), "patch", "patch"),
        (article({"a": S}), article({"a": S}, patternProperties={"^x-": S}), "minor", "major"),  # x- fields allowed
    ],
)
def test_tolerant_policy_levels(old: dict[str, Any], new: dict[str, Any], tolerant: str, full: str) -> None:
    assert classify_release(old, new, "TOLERANT").required_bump == tolerant
    assert classify_release(old, new, "FULL").required_bump == full
    assert classify_release(old, new).required_bump == tolerant  # TOLERANT is the default
    assert DEFAULT_POLICY == "TOLERANT"


def test_a_field_a_contract_relies_on_stays_major() -> None:
    old = article({"meta": article({"a": S}), "b": S})
    new = article({"meta": article({"a": S, "extra": S}), "b": S, "c": S})
    changes = classify_release(old, new).changes
    assert {c.pointer for c in changes if c.tolerable} == {"/properties/meta/properties/extra", "/properties/c"}
    refined = relied_on(changes, [("meta",)])
    by_pointer = {c.pointer: c for c in refined}
    assert not by_pointer["/properties/meta/properties/extra"].tolerable
    assert "a consumer contract relies on it" in by_pointer["/properties/meta/properties/extra"].message
    assert by_pointer["/properties/c"].tolerable and by_pointer["/properties/c"].level("TOLERANT") == "minor"
    assert relied_on(changes, []) == changes


def test_field_names_of_pointers() -> None:
    assert field_names("/properties/hero/properties/title") == ("hero", "title")
    assert field_names("/properties/tags/items/properties/x") == ("tags", "x")
    assert field_names("/$defs/body/properties/x", "#/$defs/body") == ("x",)
    assert field_names("/$defs/hero/properties/x", "#/$defs/body") is None
    assert field_names("/properties/a/additionalProperties/properties/x") is None


def test_check_tolerates_an_optional_field_no_contract_uses(repo: Path) -> None:
    settings = load_settings(repo, database_url=f"sqlite:///{repo / 'none.db'}")
    schema = page(repo)
    schema["version"] = "1.1.0"
    schema["properties"]["subtitle"] = {"type": "string"}  # the page root is a closed model
    write_page(repo, schema)
    report = run_schema_check(settings, against="main", policy="TOLERANT")
    (pg,) = [t for t in report.types if t.name == "page"]
    assert pg.ok and pg.required_bump == "minor", [p.message for p in pg.problems]
    assert run_schema_check(settings, against="main", policy="FULL").ok is False
    # A field added inside the hero section: the marketing-web contract reads hero.*, and a section
    # in $defs cannot be placed on a field path, so it stays major.
    schema["$defs"]["hero"]["properties"]["badge"] = {"type": "string"}
    write_page(repo, schema)
    report = run_schema_check(settings, against="main", policy="TOLERANT")
    (pg,) = [t for t in report.types if t.name == "page"]
    assert not pg.ok and pg.required_bump == "major"
    (change,) = [c for c in pg.changes if c.pointer == "/$defs/hero/properties/badge"]
    assert "a consumer contract relies on it" in change.message and change.level("TOLERANT") == "major"
    assert run_schema_check(settings, against="main", policy="TOLERANT", contracts=False).types[3].ok


def test_stored_content_is_evidence_for_an_open_model_field() -> None:
    old = article({"a": S}, closed=False)
    new = article({"a": S, "b": S}, closed=False)
    (change,) = classify_release(old, new).changes
    assert change.backward
    (lifted,) = unheld([change], [{"a": "x"}, {"a": "y"}])
    assert not lifted.backward and "no stored entry holds it (checked 2)" in lifted.message
    (kept,) = unheld([change], [{"a": "x"}, {"a": "y", "b": 3}])
    assert kept.backward
    history = [released({**old, "$id": "page.v1"}, "1.0.0")]
    target = {**new, "$id": "page.v1", "version": "1.1.0"}
    assert check_type("page", target, history, policy="TOLERANT").required_bump == "major"
    checked = check_type(
        "page", target, history, policy="TOLERANT", evidence=lambda cs: unheld(cs, [{"a": "x"}, [{"a": 1}]])
    )
    assert checked.ok and checked.required_bump == "minor"


# -- draft-07 ---------------------------------------------------------------------------------------

D7 = "http://json-schema.org/draft-07/schema#"
DRAFT7 = {
    "$schema": D7,
    "type": "object",
    "definitions": {"t": {"type": "string", "maxLength": 3}},
    "properties": {
        "tags": {"type": "array", "items": [{"type": "string"}, {"$ref": "#/definitions/t"}], "additionalItems": False},
        "a": {"type": "string"},
        "b": {"$ref": "#/definitions/t", "minLength": 2},
        "n": {"type": "number", "exclusiveMinimum": 0},
    },
    "dependencies": {"a": ["tags"], "b": {"required": ["n"]}},
}


def test_draft07_is_converted_exactly() -> None:
    assert draft_of(DRAFT7) == "draft-07" and draft_of({"type": "object"}) is None
    assert draft_of({"type": "array", "items": [{"type": "string"}]}) == "draft-07"
    assert draft_of({"properties": {"definitions": {"type": "string"}}}) is None  # a field, not the keyword
    converted, notes = upgrade(DRAFT7)
    assert converted["$defs"] == DRAFT7["definitions"] and "definitions" not in converted
    tags = converted["properties"]["tags"]
    assert tags["prefixItems"][1] == {"$ref": "#/$defs/t"} and tags["items"] is False
    assert converted["properties"]["b"] == {"$ref": "#/$defs/t"}  # draft-07 ignores $ref siblings
    assert converted["dependentRequired"] == {"a": ["tags"]}
    assert converted["dependentSchemas"] == {"b": {"required": ["n"]}}
    assert notes[0] == "read as draft-07 and converted to 2020-12:"
    assert any("array-form items -> prefixItems, additionalItems -> items" in n for n in notes)
    assert any("keywords beside $ref dropped (minLength" in n for n in notes)
    original, new = Draft7Validator(DRAFT7), make_validator(converted)
    docs: list[Any] = [
        {},
        {"tags": ["a", "abc"]},
        {"tags": ["a", "abcd"]},
        {"tags": ["a", "b", "c"]},
        {"a": "x"},
        {"a": "x", "tags": []},
        {"b": "x"},
        {"b": "x", "n": 1},
        {"b": "xxxx", "n": 1},
        {"n": 0},
        {"n": 0.5},
        {"tags": [1]},
    ]
    for doc in docs:
        assert original.is_valid(doc) == new.is_valid(doc), doc
    assert upgrade(converted) == (converted, [])


def test_draft04_exclusive_bounds() -> None:
    converted, notes = upgrade(
        {"$schema": "http://json-schema.org/draft-04/schema#", "minimum": 1, "exclusiveMinimum": True}
    )
    assert converted["exclusiveMinimum"] == 1 and "minimum" not in converted
    assert any("boolean exclusiveMinimum" in n for n in notes)


def test_cli_diff_reads_draft07_with_notes(tmp_path: Path) -> None:
    old = tmp_path / "old.json"
    old.write_text(json.dumps(DRAFT7))
    widened = copy.deepcopy(DRAFT7)
    widened["properties"]["tags"]["additionalItems"] = {"type": "string"}
    new = tmp_path / "new.json"
    new.write_text(json.dumps(widened))
    result = cli("schema", "diff", str(old), str(new), "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["changes"][0]["pointer"] == "/properties/tags/items"
    assert data["changes"][0]["breaks_forward"] and not data["changes"][0]["breaks_backward"]
    assert "old: read as draft-07 and converted to 2020-12:" in data["notes"]
    result = cli("schema", "diff", str(old), str(new))
    assert result.exit_code == 0 and "read as draft-07" in result.output


def test_meta_schema_errors_are_reported_once(tmp_path: Path) -> None:
    good = tmp_path / "good.json"
    good.write_text('{"type": "object"}')
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"$schema": "https://json-schema.org/draft/2020-12/schema", "items": [S, S]}))
    result = cli("schema", "diff", str(good), str(bad))
    assert result.exit_code == 1
    errors = getattr(result.exception, "errors", None) or []
    lines = [line for line in result.output.splitlines() if "invalid JSON Schema" in line]
    assert len(errors) + len(lines) >= 1
    assert len(errors) <= 1 and len(lines) <= 1, (errors, lines)
    bad7 = tmp_path / "bad7.json"
    bad7.write_text(json.dumps({"$schema": D7, "items": [S], "additionalItems": 5}))
    result = cli("schema", "diff", str(good), str(bad7))
    assert result.exit_code == 1 and "draft-07" in str(result.exception) + result.output


def test_stored_content_is_evidence_in_the_check(runtime: Any, settings: Any) -> None:
    """Through the real check: the demo's stored pages (in the test database) are the evidence
    that none holds the field an open model gains."""
    project = Path(settings.project_dir)
    schema = page(project)
    del schema["additionalProperties"]  # the baseline: an open page model
    write_page(project, schema)
    _git(project, "init", "-q", "-b", "main")
    _git(project, "add", "-A")
    _git(project, "commit", "-q", "-m", "open page model")
    schema["version"] = "1.1.0"
    schema["properties"]["teaser"] = {"type": "string"}
    write_page(project, schema)
    blind = run_schema_check(settings, against="main", policy="TOLERANT", contracts=False)
    (pg,) = [t for t in blind.types if t.name == "page"]
    assert pg.required_bump == "major" and not pg.ok  # a stored page might hold a teaser
    seen = run_schema_check(settings, against="main", policy="TOLERANT", contracts=False, content=True)
    (pg,) = [t for t in seen.types if t.name == "page"]
    (change,) = [c for c in pg.changes if c.pointer == "/properties/teaser"]
    assert not change.backward and "no stored entry holds it (checked" in change.message
    assert pg.ok and pg.required_bump == "minor" and seen.content is not None and seen.content.checked > 0
