"""``charter schema import --from directus|strapi``: a model change in the vendor becomes a schema
change Charter's differ classifies like any other."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from charter.config import load_settings
from charter.delivery.schema_import import import_content_types
from charter.runtime import Runtime
from charter.schemas.compat import classify_release
from tests.delivery_sources.conftest import DirectusSite, StrapiSite
from tests.vendors import directus as directus_vendor
from tests.vendors import strapi as strapi_vendor

pytestmark = pytest.mark.slow


def test_directus_models_become_content_types(project_dir: Path, tmp_path: Path, directus_site: DirectusSite) -> None:
    options = {"url": directus_site.server.url, "token": directus_site.server.token, "types": directus_vendor.TYPES}
    settings = load_settings(project_dir, database_url=f"sqlite:///{tmp_path / 'c.db'}", sources={"directus": options})
    out = tmp_path / "imported"
    with Runtime.open(settings) as rt:
        first = {t.name: t for t in import_content_types(rt, "directus", out)}
        plan = json.loads((out / "pricing-plan.schema.json").read_text())
        assert list(plan["properties"]) == ["id", "name", "price", "currency", "features"]
        # The vendor's own limits win (a Directus string column holds 255); what it cannot express stays.
        own = rt.registry.get("pricing-plan").schema["properties"]["id"]
        assert plan["properties"]["id"] == {**own, "maxLength": 255}
        assert plan["x-charter"] == rt.registry.get("pricing-plan").schema["x-charter"]
        page = json.loads((out / "page.schema.json").read_text())
        assert page["properties"]["sections"] == rt.registry.get("page").schema["properties"]["sections"]
        assert first["page"].added == first["page"].removed == []
        # An editor adds a field to the plans collection in Directus, and makes it required.
        with directus_site.server.api() as api:
            field = {"field": "tagline", "type": "string", "meta": {"required": True}, "schema": {"max_length": 80}}
            api.post("/fields/charter_plans", json=field).raise_for_status()
            try:
                again = {t.name: t for t in import_content_types(rt, "directus", out)}
            finally:
                api.delete("/fields/charter_plans/tagline").raise_for_status()
        assert again["pricing-plan"].changed and again["pricing-plan"].added == ["tagline"]
        new = json.loads((out / "pricing-plan.schema.json").read_text())
        assert new["properties"]["tagline"] == {"type": "string", "maxLength": 80} and "tagline" in new["required"]
        report = classify_release(plan, new, "FULL")
        assert report.required_bump == "major" and any("/tagline" in c.pointer for c in report.changes)


def test_strapi_models_become_content_types(project_dir: Path, tmp_path: Path, strapi_site: StrapiSite) -> None:
    options = {"url": strapi_site.server.url, "token": strapi_site.server.token, "types": strapi_vendor.TYPES}
    settings = load_settings(project_dir, database_url=f"sqlite:///{tmp_path / 'c.db'}", sources={"strapi": options})
    out = tmp_path / "imported"
    with Runtime.open(settings) as rt:
        done = {t.name: t for t in import_content_types(rt, "strapi", out)}
        plan = json.loads((out / "pricing-plan.schema.json").read_text())
        assert sorted(plan["properties"]) == ["currency", "features", "id", "name", "price"]
        assert plan["properties"]["price"]["type"] == "number" and done["pricing-plan"].removed == []
        page = json.loads((out / "page.schema.json").read_text())
        assert page["properties"]["sections"] == rt.registry.get("page").schema["properties"]["sections"]


def test_unknown_vendors_are_refused_and_wagtail_needs_its_site(project_dir: Path, tmp_path: Path) -> None:
    """``--from wagtail`` is inferred from the site's pages (tests/delivery_wagtail/test_schema_import.py):
    without a site to read it says so; the embedded store and unknown names are refused."""
    from charter.exceptions import BadRequest, ConfigError

    with Runtime.open(load_settings(project_dir, database_url=f"sqlite:///{tmp_path / 'c.db'}")) as rt:
        for vendor in ("embedded", "nosuch"):
            with pytest.raises(BadRequest, match="directus, strapi or wagtail"):
                import_content_types(rt, vendor)
        with pytest.raises(ConfigError, match="wagtail_url"):
            import_content_types(rt, "wagtail")
