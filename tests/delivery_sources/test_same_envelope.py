"""The same envelope from every source: a front end reading ``/v1/pages/{slug}`` and
``/v1/entries/...`` cannot tell which CMS is behind Charter. Each test runs once per source
(``source_client``) and compares with the embedded store (``client``)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.delivery_sources.conftest import LOCALES, front_end

pytestmark = pytest.mark.slow

ENVELOPE_KEYS = {"id", "type", "schema", "locale", "revision", "published_at", "data", "included"}


@pytest.mark.parametrize("slug", ["home", "pricing", "about"])
@pytest.mark.parametrize("locale", [None, *LOCALES])
def test_a_page_reads_the_same_from_every_source(
    client: TestClient, source_client: TestClient, slug: str, locale: str | None
) -> None:
    query = f"?locale={locale}" if locale else ""
    embedded = client.get(f"/v1/pages/{slug}{query}")
    other = source_client.get(f"/v1/pages/{slug}{query}")
    assert embedded.status_code == other.status_code == 200, other.text
    body = other.json()
    assert set(body) == ENVELOPE_KEYS and all(set(e) == ENVELOPE_KEYS - {"included"} for e in body["included"])
    assert front_end(body) == front_end(embedded.json())
    # The same HTTP contract: a strong ETag and 304, the same cache headers, a surrogate key for
    # the page and for every entry it includes.
    assert other.headers["cache-control"] == embedded.headers["cache-control"]
    assert other.headers["etag"].startswith('"') and other.headers["vary"] == embedded.headers["vary"]
    keys = other.headers["surrogate-key"].split()
    assert keys[0] == f"entry:{body['id']}" and {f"entry:{e['id']}" for e in body["included"]} <= set(keys)
    again = source_client.get(f"/v1/pages/{slug}{query}", headers={"If-None-Match": other.headers["etag"]})
    assert again.status_code == 304 and again.headers["etag"] == other.headers["etag"]


@pytest.mark.parametrize("locale", LOCALES)
def test_an_included_entry_is_addressable_by_its_id(source_client: TestClient, locale: str) -> None:
    page = source_client.get(f"/v1/pages/pricing?locale={locale}").json()
    assert page["included"]
    for plan in page["included"]:
        r = source_client.get(f"/v1/entries/pricing-plan/{plan['id']}?locale={locale}")
        assert r.status_code == 200, r.text
        assert r.json()["data"] == plan["data"] and r.json()["locale"] == plan["locale"]
        assert r.headers["surrogate-key"].split()[0] == f"entry:{plan['id']}"
    # Ids are per type (Directus and Strapi number each collection on its own): whatever a page id
    # reads as under another type, it is never the plan.
    other = source_client.get(f"/v1/entries/page/{page['included'][0]['id']}")
    assert other.status_code == 404 or other.json()["type"] == "page"


def test_lists_paginate_and_filter_alike(client: TestClient, source_client: TestClient) -> None:
    def plans(c: TestClient, query: str) -> list[Any]:
        r = c.get(f"/v1/entries/pricing-plan?{query}")
        assert r.status_code == 200, r.text
        assert "type:pricing-plan" in r.headers["surrogate-key"].split()
        return sorted(((e["data"], e["locale"]) for e in r.json()["items"]), key=str)

    for query in ("locale=de-AT", "fields.id=team", "fields.currency=EUR&locale=de-DE", "fields.price=49"):
        assert plans(source_client, query) == plans(client, query), query
    first = source_client.get("/v1/entries/pricing-plan?limit=2").json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    rest = source_client.get(f"/v1/entries/pricing-plan?limit=2&cursor={first['next_cursor']}").json()
    assert len(rest["items"]) == 1 and rest["next_cursor"] is None
    ids = [e["id"] for e in first["items"] + rest["items"]]
    assert len(set(ids)) == 3


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/v1/pages/does-not-exist", 404),
        ("/v1/pages/home?locale=fr-FR", 400),
        ("/v1/pages/..%2Fadmin", 400),
        ("/v1/entries/pricing-plan/not-an-id", 404),
        ("/v1/entries/no-such-type/1", 404),
        ("/v1/entries/pricing-plan?fields.features=x", 400),
        ("/v1/entries/pricing-plan?cursor=nope", 400),
    ],
)
def test_bad_requests_are_the_same_problems(
    client: TestClient, source_client: TestClient, path: str, status: int
) -> None:
    r = source_client.get(path)
    assert r.status_code == status == client.get(path).status_code, r.text
    assert r.headers["content-type"] == "application/problem+json"


def test_consumer_contracts_verify_against_every_source(source_client: TestClient) -> None:
    """The demo's consumer contracts (pages, pricing plans in en and de-DE) hold whichever CMS is
    behind the delivery API: ``charter contracts verify`` reads only the envelope."""
    from charter.config import DEMO_DIR
    from charter.contracts import load_contracts, verify_contracts
    from charter.schemas.registry import Registry

    contracts = load_contracts(DEMO_DIR / "contracts")
    registry = Registry.load(DEMO_DIR / "content-types")
    report = verify_contracts(contracts, "http://testserver", client=source_client, registry=registry)
    assert report.ok, [f.to_dict() for f in report.failures]
    assert report.checked > 0
