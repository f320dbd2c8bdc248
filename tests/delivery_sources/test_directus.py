"""Directus-specific behaviour: content that fails Charter's content type is reported, never
served; Directus's own webhooks (a Flow) purge Charter's cache and record ``source.changed``."""

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
from tests.delivery_sources.conftest import DirectusSite
from tests.services import free_port
from tests.vendors import directus as directus_vendor

pytestmark = pytest.mark.slow

SECRET = "directus-webhook-secret"


@pytest.fixture
def directus_settings(project_dir: Path, tmp_path: Path, directus_site: DirectusSite) -> Settings:
    options = {
        "url": directus_site.server.url,
        "token": directus_site.server.token,
        "types": directus_vendor.TYPES,
        "webhook_secret": SECRET,
    }
    return load_settings(
        project_dir,
        database_url=f"sqlite:///{tmp_path / 'charter.db'}",
        source="directus",
        sources={"directus": options},
        worker=False,
    )


@pytest.fixture
def directus_client(directus_settings: Settings) -> Iterator[TestClient]:
    rt = Runtime.open(directus_settings)
    try:
        with TestClient(create_app(directus_settings, runtime=rt), raise_server_exceptions=False) as c:
            yield c
    finally:
        rt.close()


def test_content_that_fails_the_content_type_is_reported_not_served(
    directus_client: TestClient, directus_site: DirectusSite
) -> None:
    with directus_site.server.api() as api:
        [bad] = directus_vendor.create_items(
            api,
            "charter_plans",
            [{"status": "published", "locale": "en", "plan_id": "Bad Plan", "name": "Bad", "price": -1,
              "currency": "XXX", "features": ["x"]}],
        )  # fmt: skip
        try:
            r = directus_client.get(f"/v1/entries/pricing-plan/{bad}")
            assert r.status_code == 502 and r.headers["content-type"] == "application/problem+json"
            problem = r.json()
            assert problem["type"].endswith("/source-content-invalid")
            assert (problem["source"], problem["entry_id"], problem["content_type"]) == (
                "directus",
                str(bad),
                "pricing-plan",
            )
            assert {e["pointer"] for e in problem["errors"]} == {"/id", "/price", "/currency"}
            # A list that holds it is not served with the item left out or half-shaped either.
            assert directus_client.get("/v1/entries/pricing-plan").status_code == 502
            # The valid entries still read.
            assert directus_client.get("/v1/pages/pricing").status_code == 200
        finally:
            api.delete(f"/items/charter_plans/{bad}").raise_for_status()
    assert directus_client.get("/v1/entries/pricing-plan").status_code == 200


def test_the_webhook_route_checks_its_secret_and_body(directus_client: TestClient) -> None:
    url = "/v1/sources/directus/events"
    body = {"event": "charter_plans.items.update", "collection": "charter_plans", "keys": ["1"], "payload": {}}
    assert directus_client.post(url, json=body).status_code == 401
    assert directus_client.post(url, json=body, headers={"Charter-Source-Secret": "nope"}).status_code == 401
    ok = {"Charter-Source-Secret": SECRET}
    assert directus_client.post("/v1/sources/wagtail/events", json=body, headers=ok).status_code == 404
    assert (
        directus_client.post(url, content=b"{", headers={**ok, "Content-Type": "application/json"}).status_code == 400
    )
    assert directus_client.post(url, json={"event": 1}, headers=ok).status_code == 400
    assert directus_client.post(url, json={**body, "event": "server.start"}, headers=ok).status_code == 400
    assert directus_client.post(url, json={**body, "keys": [{"x": 1}]}, headers=ok).status_code == 400
    ignored = directus_client.post(url, json={**body, "collection": "not_charters"}, headers=ok)
    assert ignored.status_code == 202 and ignored.json() == {"events": 0, "keys": []}
    r = directus_client.post(url, json=body, headers=ok)
    assert r.status_code == 202 and r.json() == {"events": 1, "keys": ["entry:1", "type:pricing-plan"]}
    for r in (directus_client.post(url, json=b, headers=ok) for b in ({}, [], "x")):
        assert r.status_code == 400 and r.headers["content-type"] == "application/problem+json"


def test_a_directus_flow_purges_the_cache_and_records_source_changed(
    directus_settings: Settings, directus_site: DirectusSite
) -> None:
    team = directus_site.ids["ff6dcf98-de74-5663-a8ef-2263d4d0f054"]  # the demo's Team plan
    translation = None
    rt = Runtime.open(directus_settings)
    try:
        with live_server(rt, free_port()) as charter_url:
            flow = directus_vendor.install_flow(directus_site.server, charter_url, SECRET, ["charter_plans"])
            with directus_site.server.api() as api:
                try:
                    de = api.get("/items/charter_plans", params={"filter[translation_of][_eq]": team}).json()["data"]
                    translation = next(t for t in de if t["locale"] == "de-DE")
                    page = httpx.get(f"{charter_url}/v1/pages/pricing?locale=de-DE").json()
                    assert "Team" in [p["data"]["name"] for p in page["included"]]
                    assert httpx.get(f"{charter_url}/v1/pages/pricing?locale=de-DE").status_code == 200  # cached
                    # An editor renames the German translation in Directus.
                    changed_at = time.monotonic()
                    api.patch(f"/items/charter_plans/{translation['id']}", json={"name": "Team (neu)"})
                    deadline = changed_at + 30
                    names: list[str] = []
                    while time.monotonic() < deadline:
                        page = httpx.get(f"{charter_url}/v1/pages/pricing?locale=de-DE").json()
                        names = [p["data"]["name"] for p in page["included"]]
                        if "Team (neu)" in names:
                            break
                        time.sleep(0.05)
                    lag = time.monotonic() - changed_at
                    assert "Team (neu)" in names, names
                    print(f"directus change -> fresh delivery in {lag * 1000:.0f} ms")
                    with rt.read() as conn:
                        [event] = ev.since(conn, 0, [ev.SOURCE_CHANGED])
                    # When Directus saved the edit (its date_updated): retrieval's lag runs from it.
                    assert isinstance(event.payload.pop("changed_at"), str)
                    assert event.payload == {
                        "source": "directus",
                        "type": "pricing-plan",
                        "id": str(team),  # the translation is tied to its entry
                        "vendor_id": str(translation["id"]),
                        "action": "update",
                        "keys": [f"entry:{team}", "type:pricing-plan"],
                    }
                    assert event.domain == "pricing"
                finally:
                    if translation is not None:
                        api.patch(f"/items/charter_plans/{translation['id']}", json={"name": translation["name"]})
                    api.delete(f"/flows/{flow}")
    finally:
        rt.close()


def test_source_changes_reach_outgoing_webhooks_and_the_cdn_purge(directus_settings: Settings) -> None:
    """A vendor's change is an outbox event like any other: subscribers of ``source.changed`` get
    it, and the relay derives ``cache.purge`` with the same keys for a CDN hook."""
    import sqlalchemy as sa

    from charter.auth.roles import SYSTEM
    from charter.webhooks.relay import relay_events
    from charter.webhooks.subscriptions import create_subscription
    from charter.webhooks.tables import webhook_deliveries

    settings = directus_settings.model_copy(update={"webhooks": {"relay_settle": 0.01}})
    with Runtime.open(settings) as rt:
        create_subscription(rt, SYSTEM, "http://127.0.0.1:9/hook", ["source.changed", "cache.purge"])
        with TestClient(create_app(settings, runtime=rt), raise_server_exceptions=False) as c:
            body = {"event": "items.update", "collection": "charter_plans", "keys": ["1"], "payload": {"price": 1}}
            assert c.post(
                "/v1/sources/directus/events", json=body, headers={"Charter-Source-Secret": SECRET}
            ).is_success
        time.sleep(0.05)
        relay_events(rt)
        relay_events(rt)
        with rt.read() as conn:
            sent = conn.execute(sa.select(webhook_deliveries.c.event_type, webhook_deliveries.c.body)).all()
            purges = conn.execute(sa.select(ev.events_table.c.payload).where(ev.events_table.c.type == "cache.purge"))
            purge_keys = [p["keys"] for p in purges.scalars()]
    assert sorted(t for t, _b in sent) == ["cache.purge", "source.changed"]
    assert purge_keys == [["entry:1", "type:pricing-plan"]]
