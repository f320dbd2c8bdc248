"""Strapi-specific behaviour: content that fails Charter's content type is reported, never
served; Strapi's own webhooks purge Charter's cache and record ``source.changed``."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from charter import events as ev
from charter.app import create_app
from charter.config import Settings, load_settings
from charter.runtime import Runtime
from tests.admin.live import live_server
from tests.delivery_sources.conftest import WEBHOOK_SECRET as SECRET
from tests.delivery_sources.conftest import StrapiSite
from tests.vendors import strapi as strapi_vendor

pytestmark = pytest.mark.slow


@pytest.fixture
def strapi_settings(project_dir: Path, tmp_path: Path, strapi_site: StrapiSite) -> Settings:
    options = {
        "url": strapi_site.server.url,
        "token": strapi_site.server.token,
        "types": strapi_vendor.TYPES,
        "webhook_secret": SECRET,
    }
    return load_settings(
        project_dir,
        database_url=f"sqlite:///{tmp_path / 'charter.db'}",
        source="strapi",
        sources={"strapi": options},
        worker=False,
    )


@pytest.fixture
def strapi_client(strapi_settings: Settings) -> Iterator[TestClient]:
    rt = Runtime.open(strapi_settings)
    try:
        with TestClient(create_app(strapi_settings, runtime=rt), raise_server_exceptions=False) as c:
            yield c
    finally:
        rt.close()


def test_content_that_fails_the_content_type_is_reported_not_served(
    strapi_client: TestClient, strapi_site: StrapiSite
) -> None:
    with strapi_site.server.api() as api:
        bad = strapi_vendor.create(
            api, "plans", {"plan_id": "ok-id", "name": "Bad", "price": 10, "currency": "XXX", "features": ["x"]}
        )
        try:
            r = strapi_client.get(f"/v1/entries/pricing-plan/{bad}")
            assert r.status_code == 502 and r.headers["content-type"] == "application/problem+json"
            problem = r.json()
            assert problem["type"].endswith("/source-content-invalid") and problem["entry_id"] == bad
            assert [e["pointer"] for e in problem["errors"]] == ["/currency"]
            assert strapi_client.get("/v1/entries/pricing-plan").status_code == 502
        finally:
            api.delete(f"/api/plans/{bad}", params={"locale": "*"}).raise_for_status()
    assert strapi_client.get("/v1/entries/pricing-plan").status_code == 200


def test_the_webhook_route_reads_strapi_payloads(strapi_client: TestClient) -> None:
    url, ok = "/v1/sources/strapi/events", {"Charter-Source-Secret": SECRET}
    body = {"event": "entry.publish", "model": "plan", "uid": "api::plan.plan", "entry": {"documentId": "abc"}}
    assert strapi_client.post(url, json=body).status_code == 401
    r = strapi_client.post(url, json=body, headers=ok)
    assert r.status_code == 202 and r.json() == {"events": 1, "keys": ["entry:abc", "type:pricing-plan"]}
    media = strapi_client.post(url, json={"event": "media.create", "media": {}}, headers=ok)
    assert media.status_code == 202 and media.json()["events"] == 0
    other = strapi_client.post(url, json={**body, "model": "article"}, headers=ok)
    assert other.status_code == 202 and other.json()["events"] == 0
    for bad in ({"event": "entry.explode", "model": "plan", "entry": {}}, {**body, "entry": {}}, {"event": 3}, []):
        r = strapi_client.post(url, json=bad, headers=ok)
        assert r.status_code == 400 and r.headers["content-type"] == "application/problem+json", bad
    # Every hostile spelling the strict JSON gate refuses elsewhere, and nothing is recorded.
    from tests.api.test_hostile_json import HOSTILE, counts

    rt = strapi_client.app.state.runtime  # type: ignore[attr-defined]
    before = counts(rt)
    for case, raw, _pointer in HOSTILE:
        r = strapi_client.post(url, content=raw, headers={**ok, "Content-Type": "application/json"})
        assert r.status_code == 400 and r.headers["content-type"] == "application/problem+json", (case, r.text[:200])
    assert counts(rt) == before


def test_a_strapi_webhook_purges_the_cache_and_records_source_changed(
    strapi_settings: Settings, strapi_site: StrapiSite
) -> None:
    team = strapi_site.ids["ff6dcf98-de74-5663-a8ef-2263d4d0f054"]  # the demo's Team plan
    rt = Runtime.open(strapi_settings)
    try:
        # Strapi's webhook points at this port (registered when it started).
        with live_server(rt, strapi_site.charter_port) as charter_url, strapi_site.server.api() as api:
            page = httpx.get(f"{charter_url}/v1/pages/pricing?locale=de-DE").json()
            before = {p["id"]: p["data"]["name"] for p in page["included"]}
            assert before[team] == "Team"
            changed_at = time.monotonic()
            strapi_vendor.localize(api, "plans", team, "de-DE", {"name": "Team (neu)"})
            try:
                names: dict[str, str] = {}
                while time.monotonic() < changed_at + 30:
                    page = httpx.get(f"{charter_url}/v1/pages/pricing?locale=de-DE").json()
                    names = {p["id"]: p["data"]["name"] for p in page["included"]}
                    if names[team] == "Team (neu)":
                        break
                    time.sleep(0.05)
                lag = time.monotonic() - changed_at
                assert names[team] == "Team (neu)", names
                print(f"strapi change -> fresh delivery in {lag * 1000:.0f} ms")
                with rt.read() as conn:
                    events = ev.since(conn, 0, [ev.SOURCE_CHANGED])
                assert events and all(e.payload["id"] == team and e.payload["source"] == "strapi" for e in events)
                assert {e.payload["action"] for e in events} <= {"update", "publish"}
            finally:
                strapi_vendor.localize(api, "plans", team, "de-DE", {"name": "Team"})
    finally:
        rt.close()
