"""The content source is an interface: a front end reads the same envelope from Charter's own store
and from a real Wagtail 8 (API v2) on loopback, and renders the same page from either."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from charter.app import create_app
from charter.config import Settings
from charter.runtime import Runtime
from tests.delivery_wagtail.conftest import LOCALES, WagtailSite
from tests.services import free_port

pytestmark = pytest.mark.slow

ENVELOPE_KEYS = {"id", "type", "schema", "locale", "revision", "published_at", "data", "included"}


@pytest.fixture
def wagtail_client(wagtail_settings: Settings) -> Iterator[TestClient]:
    rt = Runtime.open(wagtail_settings)
    try:
        with TestClient(create_app(wagtail_settings, runtime=rt), raise_server_exceptions=False) as c:
            yield c
    finally:
        rt.close()


def front_end(envelope: dict[str, Any]) -> dict[str, Any]:
    """What a front end renders from a page envelope: everything but the source's own ids."""
    included = {e["id"]: e for e in envelope["included"]}
    sections = []
    for section in envelope["data"]["sections"]:
        section = dict(section)
        if section["intent"] == "pricing-table":
            section["plans"] = [
                {**included[p]["data"], "locale": included[p]["locale"], "schema": included[p]["schema"]}
                for p in section["plans"]
            ]
        sections.append(section)
    data = {k: v for k, v in envelope["data"].items() if k != "sections"}
    return {"data": data, "sections": sections, "locale": envelope["locale"], "schema": envelope["schema"]}


@pytest.mark.parametrize("slug", ["home", "pricing", "about"])
@pytest.mark.parametrize("locale", [None, *LOCALES])
def test_a_front_end_renders_the_same_page_from_either_source(
    client: TestClient, wagtail_client: TestClient, slug: str, locale: str | None
) -> None:
    query = f"?locale={locale}" if locale else ""
    embedded = client.get(f"/v1/pages/{slug}{query}")
    wagtail = wagtail_client.get(f"/v1/pages/{slug}{query}")
    assert embedded.status_code == wagtail.status_code == 200, wagtail.text
    assert set(embedded.json()) == set(wagtail.json()) == ENVELOPE_KEYS
    assert front_end(wagtail.json()) == front_end(embedded.json())
    # The same HTTP contract: strong ETag, 304, cache headers, surrogate keys for every included entry.
    body = wagtail.json()
    assert wagtail.headers["cache-control"] == embedded.headers["cache-control"]
    keys = wagtail.headers["surrogate-key"].split()
    assert keys[0] == f"entry:{body['id']}" and {f"entry:{e['id']}" for e in body["included"]} <= set(keys)
    again = wagtail_client.get(f"/v1/pages/{slug}{query}", headers={"If-None-Match": wagtail.headers["etag"]})
    assert again.status_code == 304


def test_ids_are_the_default_locale_pages_in_every_locale(
    wagtail_client: TestClient, wagtail_site: WagtailSite
) -> None:
    pricing = next(r for r in wagtail_site.rows if r["type"] == "page" and r["data"]["en"]["slug"] == "pricing")
    en_id = str(wagtail_site.ids[pricing["id"]]["en"])
    for locale in LOCALES:
        body = wagtail_client.get(f"/v1/pages/pricing?locale={locale}").json()
        assert body["id"] == en_id
        for plan in body["included"]:
            plan_row = next(r for r in wagtail_site.rows if r["data"]["en"].get("id") == plan["data"]["id"])
            assert plan["id"] == str(wagtail_site.ids[plan_row["id"]]["en"])
    # An entry is addressed by that id; a translation's own id is not an entry id.
    plan_row = next(r for r in wagtail_site.rows if r["type"] == "pricing-plan")
    ids = wagtail_site.ids[plan_row["id"]]
    r = wagtail_client.get(f"/v1/entries/pricing-plan/{ids['en']}?locale=de-DE")
    assert r.status_code == 200 and r.json()["locale"] == {"requested": "de-DE", "resolved": "de-DE"}
    assert wagtail_client.get(f"/v1/entries/pricing-plan/{ids['de-de']}").status_code == 404
    assert wagtail_client.get(f"/v1/entries/page/{ids['en']}").status_code == 404  # a plan is not a page


def test_lists_paginate_and_filter_like_the_embedded_store(client: TestClient, wagtail_client: TestClient) -> None:
    def plans(c: TestClient, query: str) -> list[dict[str, Any]]:
        return [(e["data"], e["locale"]) for e in c.get(f"/v1/entries/pricing-plan?{query}").json()["items"]]

    for query in ("locale=de-AT", "fields.id=team", "fields.currency=EUR&locale=de-DE"):
        assert sorted(plans(wagtail_client, query), key=str) == sorted(plans(client, query), key=str), query
    first = wagtail_client.get("/v1/entries/pricing-plan?limit=2").json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    rest = wagtail_client.get(f"/v1/entries/pricing-plan?limit=2&cursor={first['next_cursor']}").json()
    assert len(rest["items"]) == 1 and rest["next_cursor"] is None
    assert wagtail_client.get("/v1/entries/pricing-plan?cursor=nope").status_code == 400


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/v1/pages/does-not-exist", 404),
        ("/v1/pages/home?locale=fr-FR", 400),
        ("/v1/pages/..%2Fadmin", 400),
        ("/v1/entries/doc/1", 404),  # a Charter type the Wagtail site does not map
        ("/v1/entries/pricing-plan/not-a-number", 404),
        ("/v1/entries/pricing-plan?fields.features=x", 400),
    ],
)
def test_bad_requests_are_the_same_problems(
    client: TestClient, wagtail_client: TestClient, path: str, status: int
) -> None:
    r = wagtail_client.get(path)
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    if "doc" not in path and "not-a-number" not in path:
        assert client.get(path).status_code == status


def test_an_unreachable_wagtail_is_a_502_problem(wagtail_settings: Settings) -> None:
    settings = wagtail_settings.model_copy(update={"wagtail_url": f"http://127.0.0.1:{free_port()}"})
    rt = Runtime.open(settings)
    try:
        with TestClient(create_app(settings, runtime=rt), raise_server_exceptions=False) as c:
            r = c.get("/v1/pages/home")
        assert r.status_code == 502 and r.headers["content-type"] == "application/problem+json"
        assert "unreachable" in r.json()["detail"]
    finally:
        rt.close()
