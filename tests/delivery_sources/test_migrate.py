"""Migration between sources: ``charter content export --from directus|strapi`` then ``charter
content import`` into the embedded store, with counts of what moved and what did not; the embedded
store then delivers the same pages the vendor did."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from charter.app import create_app
from charter.auth.roles import SYSTEM
from charter.config import load_settings
from charter.content.transfer import import_entries
from charter.delivery.source_export import export_from_source
from charter.runtime import Runtime
from tests.delivery_sources.conftest import LOCALES, front_end, source_settings

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("vendor", ["directus", "strapi"])
def test_content_moves_from_a_vendor_into_the_embedded_store(
    request: pytest.FixtureRequest, project_dir: Path, tmp_path: Path, vendor: str
) -> None:
    settings = source_settings(request, vendor, project_dir, tmp_path)
    out = io.StringIO()
    with Runtime.open(settings) as rt:
        counts = export_from_source(rt, vendor, out)
    assert counts.exported == {"page": 3, "pricing-plan": 3} and counts.skipped == []
    rows = [(n, json.loads(line)) for n, line in enumerate(out.getvalue().splitlines(), 1)]
    # Into an empty embedded store: every row is created and published.
    fresh = load_settings(project_dir, database_url=f"sqlite:///{tmp_path / 'fresh.db'}", worker=False)
    with Runtime.open(fresh) as rt, Runtime.open(settings) as vendor_rt:
        assert import_entries(rt, SYSTEM, rows) == {"created": 6, "updated": 0, "published": 6}
        assert import_entries(rt, SYSTEM, rows)["updated"] == 6  # a re-export updates, never duplicates
        with (
            TestClient(create_app(fresh, runtime=rt)) as embedded,
            TestClient(create_app(settings, runtime=vendor_rt)) as other,
        ):
            for slug in ("home", "pricing", "about"):
                for locale in (None, *LOCALES):
                    query = f"?locale={locale}" if locale else ""
                    a, b = embedded.get(f"/v1/pages/{slug}{query}"), other.get(f"/v1/pages/{slug}{query}")
                    assert a.status_code == b.status_code == 200
                    assert front_end(a.json()) == front_end(b.json()), (slug, locale)


def test_invalid_vendor_content_is_counted_not_exported(
    request: pytest.FixtureRequest, project_dir: Path, tmp_path: Path
) -> None:
    from tests.vendors import directus as directus_vendor

    site = request.getfixturevalue("directus_site")
    settings = source_settings(request, "directus", project_dir, tmp_path)
    with site.server.api() as api:
        bad_item = {"status": "published", "locale": "en", "plan_id": "x", "name": "X", "price": 1, "currency": "XXX"}
        [bad] = directus_vendor.create_items(api, "charter_plans", [bad_item])
        try:
            with Runtime.open(settings) as rt:
                counts = export_from_source(rt, "directus", io.StringIO(), "pricing-plan")
        finally:
            api.delete(f"/items/charter_plans/{bad}").raise_for_status()
    assert counts.exported == {"pricing-plan": 3}
    [skipped] = counts.skipped
    assert skipped.startswith(f"pricing-plan {bad}: ") and "/en/currency" in skipped
