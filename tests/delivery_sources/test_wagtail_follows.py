"""Wagtail sends no webhooks: with ``poll_interval`` Charter polls its live pages, and an editor's
publish in Wagtail purges the cache, records ``source.changed`` and re-indexes the entry for
``/v1/ask``, the lag measured from Wagtail's ``last_published_at``. Against the real Wagtail site."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from charter import events as ev
from charter.app import create_app
from charter.config import load_settings
from charter.retrieval.tables import retrieval_freshness
from charter.runtime import Runtime
from tests.delivery_wagtail.conftest import WAGTAIL_TYPES, WagtailSite

pytestmark = pytest.mark.slow

TEAM = "ff6dcf98-de74-5663-a8ef-2263d4d0f054"  # the demo's Team plan

PUBLISH = """
from wagtail.models import Page
page = Page.objects.get(id={id}).specific
page.title = {title!r}
page.save_revision().publish()
"""


def _hits(rt: Runtime, word: str, locale: str = "en") -> set[str]:
    assert rt.retrieval is not None
    found = rt.retrieval.search(word, locale, ["product-docs"], mode="bm25", k=20).hits
    return {h.chunk.entry_id for h in found if word.lower() in h.chunk.text.lower()}


def test_polling_wagtail_purges_records_and_reindexes(
    project_dir: Path, tmp_path: Path, wagtail_site: WagtailSite
) -> None:
    team_en, team_de = wagtail_site.ids[TEAM]["en"], wagtail_site.ids[TEAM]["de-de"]
    settings = load_settings(
        project_dir,
        database_url=f"sqlite:///{tmp_path / 'charter.db'}",
        source="wagtail",
        wagtail_url=wagtail_site.url,
        wagtail={**WAGTAIL_TYPES, "poll_interval": 0.2},
        worker=False,
    )
    rt = Runtime.open(settings)
    try:
        with TestClient(create_app(settings, runtime=rt), raise_server_exceptions=False) as c:
            # The indexes were built from Wagtail's live pages at start-up.
            status = c.get("/v1/retrieval/status").json()["indexes"]["product-docs"]
            pages = c.get("/v1/entries/page", params={"limit": 100}).json()["items"]
            plans = c.get("/v1/entries/pricing-plan", params={"limit": 100}).json()["items"]
            assert status["entries"] == len(pages) + len(plans)
            assert str(team_en) in _hits(rt, "Team")
            before = c.get(f"/v1/entries/pricing-plan/{team_en}?locale=de-DE")
            assert before.json()["data"]["name"] == "Team"  # cached from now on
            time.sleep(0.5)  # the baseline listing
            try:
                # An editor publishes a new German title in Wagtail.
                wagtail_site.edit(PUBLISH.format(id=team_de, title="Team Wagtailblau"))
                published = time.monotonic()
                while time.monotonic() < published + 30 and str(team_en) not in _hits(rt, "Wagtailblau", "de-DE"):
                    time.sleep(0.05)
                assert str(team_en) in _hits(rt, "Wagtailblau", "de-DE")
                after = c.get(f"/v1/entries/pricing-plan/{team_en}?locale=de-DE")
                assert after.json()["data"]["name"] == "Team Wagtailblau"  # the cache was purged
                assert after.json()["revision"] > before.json()["revision"]
                # The chunks are searchable a moment before the transaction recording the lag commits.
                lags: list[float] = []
                deadline = time.monotonic() + 10
                while not lags and time.monotonic() < deadline:
                    with rt.read() as conn:
                        lags = list(
                            conn.execute(
                                sa.select(retrieval_freshness.c.lag_ms).where(
                                    retrieval_freshness.c.event_type == "source.changed"
                                )
                            ).scalars()
                        )
                    time.sleep(0.02)
                with rt.read() as conn:
                    [event] = ev.since(conn, 0, [ev.SOURCE_CHANGED])
                assert event.payload["source"] == "wagtail" and event.payload["action"] == "publish"
                assert event.payload["id"] == str(team_en)  # the translation is tied to its entry
                assert event.payload["vendor_id"] == str(team_de)
                assert f"entry:{team_en}" in event.payload["keys"]
                assert lags and 0 <= max(lags) < 30_000
                print(f"wagtail publish -> searchable: {json.dumps(lags)} ms (poll_interval 0.2 s)")
            finally:
                wagtail_site.edit(PUBLISH.format(id=team_de, title="Team"))
    finally:
        rt.close()
