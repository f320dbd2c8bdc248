"""Entry data validation: every error with its JSON pointer, locale rules, intents."""

from __future__ import annotations

from typing import Any

import pytest

from charter.config import DEMO_DIR
from charter.schemas.registry import Registry

REGISTRY = Registry.load(DEMO_DIR / "content-types")
PLAN = {"id": "pro", "name": "Pro", "price": 99, "currency": "EUR", "features": ["SSO"]}
PLAN_DE = {"name": "Pro", "features": ["SSO"]}


def plan(**changes: Any) -> dict[str, Any]:
    return {"en": {**PLAN, **changes}, "de-DE": PLAN_DE}


def pointers(type_name: str, data: Any) -> dict[str, str]:
    return {e.pointer: e.message for e in REGISTRY.get(type_name).validate(data)}


def test_valid_plan() -> None:
    assert pointers("pricing-plan", plan()) == {}


@pytest.mark.parametrize(
    ("data", "pointer", "fragment"),
    [
        (plan(price=-1), "/en/price", "less than the minimum"),
        (plan(currency="JPY"), "/en/currency", "is not one of"),
        (plan(name=""), "/en/name", "should be non-empty"),
        (plan(id="Pro Plan"), "/en/id", "does not match"),
        (plan(extra=1), "/en", "Unknown field"),
        ({"en": {k: v for k, v in PLAN.items() if k != "price"}, "de-DE": PLAN_DE}, "/en", "'price' is required"),
        ({"en": PLAN}, "/de-DE", "required"),
        ({"en": PLAN, "de-DE": {"features": ["x"]}}, "/de-DE/name", "required in the required locale"),
        ({"en": PLAN, "de-DE": {**PLAN_DE, "price": 3}}, "/de-DE/price", "not localised"),
        ({"en": PLAN, "de-DE": PLAN_DE, "xx-YY": {}}, "/xx-YY", "unknown locale"),
        ({"de-DE": PLAN_DE}, "/en", "default locale"),
        ({"en": PLAN, "de-DE": {**PLAN_DE, "name": 5}}, "/de-DE/name", "is not of type"),
    ],
)
def test_plan_errors(data: Any, pointer: str, fragment: str) -> None:
    found = pointers("pricing-plan", data)
    assert pointer in found, found
    assert fragment in found[pointer]


def test_every_error_is_reported_at_once() -> None:
    found = pointers("pricing-plan", plan(price=-1, currency="JPY", name=""))
    assert {"/en/price", "/en/currency", "/en/name"} <= set(found)


@pytest.mark.parametrize(
    ("field", "value", "ok"),
    [
        ("source", "https://lumen.example/x", True),
        ("source", "/relative/path", True),
        ("source", "not a url", False),
        ("source", "ftp://lumen.example", False),
        ("approvedBy", "legal@lumen.example", True),
        ("approvedBy", "legal-at-lumen", False),
        ("expiresAt", "2026-12-01T10:00:00Z", True),
        ("expiresAt", "2026-12-01 10:00", False),
    ],
)
def test_formats_are_asserted(field: str, value: str, ok: bool) -> None:
    doc = {"slug": "c", "claim": "x", "evidence": "y", "approvedBy": "a@b.example", field: value}
    found = pointers("marketing-claim", {"en": doc})
    assert (f"/en/{field}" not in found) is ok, found


def page(*sections: dict[str, Any]) -> dict[str, Any]:
    return {"en": {"slug": "p", "title": "T", "sections": list(sections)}}


def test_intent_errors_point_into_the_matching_branch() -> None:
    found = pointers("page", page({"intent": "hero", "title": "", "cta": {"label": "Go", "href": "nope nope"}}))
    assert set(found) == {"/en/sections/0/title", "/en/sections/0/cta/href"}


def test_unknown_intent_in_content() -> None:
    found = pointers("page", page({"intent": "carousel", "slides": []}))
    assert found == {"/en/sections/0/intent": "unknown intent 'carousel'"}


def test_locale_fallback_field_by_field() -> None:
    ct = REGISTRY.get("page")
    data = {
        "en": {"slug": "h", "title": "Home", "description": "EN", "sections": []},
        "de-DE": {"title": "Startseite", "description": "DE"},
        "de-AT": {"title": "Start (AT)"},
    }
    doc, resolved = ct.resolve(data, "de-AT")
    assert (doc["title"], doc["description"], resolved) == ("Start (AT)", "DE", "de-AT")
    doc, resolved = ct.resolve({"en": data["en"], "de-DE": data["de-DE"]}, "de-AT")
    assert (doc["title"], resolved) == ("Startseite", "de-DE")
    doc, resolved = ct.resolve({"en": data["en"]}, "de-AT")
    assert (doc["title"], resolved) == ("Home", "en")
