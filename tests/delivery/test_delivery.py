"""Delivery API v1: the envelope, locales, HTTP caching, surrogate keys, invalidation, lists."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from charter.config import Settings, load_settings
from charter.runtime import Runtime
from tests.conftest import auth


@pytest.fixture
def settings(project_dir: Path, database_url: str, services: frozenset[str]) -> Settings:
    """Direct publishes, without the demo's approval policies (tests/content covers those)."""
    return load_settings(
        project_dir, database_url=database_url, trace_exporter="memory", workflow={}, worker="worker" in services
    )


def test_page_envelope(client: TestClient) -> None:
    r = client.get("/v1/pages/home?locale=de-AT")
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"id", "type", "schema", "locale", "revision", "published_at", "data", "included"}
    assert body["type"] == "page" and body["schema"] == {"id": "page.v1", "version": "1.0.0"}
    assert body["locale"] == {"requested": "de-AT", "resolved": "de-AT"}
    # Field by field: de-AT overrides only the title; the rest falls back to de-DE.
    assert body["data"]["title"].endswith("dem Ihr ganzes Team vertraut")
    assert body["data"]["sections"][0]["title"] == "Sehen, was Ihre Kunden tun, statt zu raten"
    assert body["published_at"].endswith("Z")
    # Referenced pricing plans are included, resolved in the same locale.
    included = {e["data"]["id"]: e for e in body["included"]}
    assert set(included) == {"starter", "team", "enterprise"}
    assert included["starter"]["data"]["features"][1] == "7 Tage Datenaufbewahrung"


def test_locale_fallback_to_default(client: TestClient) -> None:
    body = client.get("/v1/pages/about?locale=de-AT").json()
    assert body["locale"] == {"requested": "de-AT", "resolved": "en"}
    assert body["data"]["title"] == "About Lumen"
    assert client.get("/v1/pages/about").json()["locale"] == {"requested": "en", "resolved": "en"}


def test_http_caching_headers_and_304(client: TestClient) -> None:
    r = client.get("/v1/pages/pricing")
    etag = r.headers["etag"]
    assert etag.startswith('"') and not etag.startswith("W/")
    assert r.headers["cache-control"] == "public, max-age=60, stale-while-revalidate=300"
    keys = r.headers["surrogate-key"].split()
    plan_ids = [e["id"] for e in r.json()["included"]]
    assert keys[0] == f"entry:{r.json()['id']}" and {f"entry:{p}" for p in plan_ids} <= set(keys)
    again = client.get("/v1/pages/pricing", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    assert client.get("/v1/pages/pricing", headers={"If-None-Match": '"other"'}).status_code == 200
    assert client.get("/v1/pages/pricing", headers={"If-None-Match": f"W/{etag}"}).status_code == 304


def test_publishing_a_referenced_entry_invalidates_the_page(client: TestClient, tokens: dict[str, str]) -> None:
    page = client.get("/v1/pages/pricing").json()
    team = next(e for e in page["included"] if e["data"]["id"] == "team")
    draft = client.get(f"/v1/manage/entries/{team['id']}", headers=auth(tokens["viewer"]))
    data = draft.json()["data"]
    data["en"]["price"] = 59
    r = client.put(
        f"/v1/manage/entries/{team['id']}",
        json={"data": data},
        headers=auth(tokens["editor"], **{"If-Match": draft.headers["etag"]}),
    )
    assert r.status_code == 200
    # Not yet published: the cached page still shows the old price.
    assert (
        next(e for e in client.get("/v1/pages/pricing").json()["included"] if e["id"] == team["id"])["data"]["price"]
        == 49
    )
    client.post(f"/v1/manage/entries/{team['id']}/publish", headers=auth(tokens["publisher"]))
    fresh = client.get("/v1/pages/pricing").json()
    assert next(e for e in fresh["included"] if e["id"] == team["id"])["data"]["price"] == 59


def test_drafts_are_never_delivered(client: TestClient) -> None:
    r = client.get("/v1/pages/careers")
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/v1/pages/..%2F..%2Fetc%2Fpasswd", 400),
        ("/v1/pages/Home", 400),
        ("/v1/pages/home/", 400),
        ("/v1/pages/a//b", 400),
        ("/v1/pages/" + "a" * 300, 400),
        ("/v1/pages/home?locale=xx-YY", 400),
        ("/v1/pages/home?locale=%3Cscript%3E", 400),
        ("/v1/pages/does-not-exist", 404),
        ("/v1/entries/unknown-type/abc", 404),
        ("/v1/entries/pricing-plan/..%2Fsecret", 404),
        ("/v1/entries/pricing-plan/a%20b", 400),
        ("/v1/entries/pricing-plan?limit=0", 422),
        ("/v1/entries/pricing-plan?cursor=%%%", 400),
        ("/v1/entries/pricing-plan?fields.features=x", 400),
        ("/v1/entries/pricing-plan?sort=price", 400),
        ("/v1/entries", 404),  # a Charter family: problem+json (an unknown /v1/<name> is OpenAI-shaped)
    ],
)
def test_bad_delivery_requests_are_problems(client: TestClient, path: str, status: int) -> None:
    r = client.get(path)
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["status"] == status and r.json()["detail"]


def test_list_pagination_and_filters(client: TestClient) -> None:
    first = client.get("/v1/entries/doc?limit=4").json()
    assert len(first["items"]) == 4 and first["next_cursor"]
    rest = client.get(f"/v1/entries/doc?limit=4&cursor={first['next_cursor']}").json()
    assert len(rest["items"]) == 2 and rest["next_cursor"] is None
    ids = [e["id"] for e in first["items"] + rest["items"]]
    assert len(set(ids)) == 6 and ids == sorted(ids)
    security = client.get("/v1/entries/doc?fields.area=security").json()["items"]
    assert {e["data"]["slug"] for e in security} == {"data-retention", "sso"}
    assert [e["data"]["id"] for e in client.get("/v1/entries/pricing-plan?fields.price=49").json()["items"]] == ["team"]
    r = client.get("/v1/entries/doc?limit=2")
    assert "type:doc" in r.headers["surrogate-key"].split()


def test_render_is_traced_and_logged(client: TestClient, runtime: Runtime) -> None:
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = runtime.telemetry.exporter
    assert isinstance(exporter, InMemorySpanExporter)
    exporter.clear()
    r = client.get(
        "/v1/pages/about", headers={"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}
    )
    spans = {s.name: s for s in exporter.get_finished_spans()}
    render = spans["delivery.render"]
    assert render.attributes["charter.content_id"] == r.json()["id"]
    assert render.attributes["charter.schema_id"] == "page.v1"
    assert render.attributes["charter.revision"] == 1
    server = spans["GET /v1/pages/{slug:path}"]
    assert format(server.context.trace_id, "032x") == "0af7651916cd43dd8448eb211c80319c"
    assert server.attributes["http.response.status_code"] == 200
    assert r.headers["x-request-id"]


@pytest.mark.services("retrieval")  # /readyz reports retrieval "ok" once start-up has loaded the indexes
def test_operations_endpoints(client: TestClient) -> None:
    assert client.get("/healthz").json()["status"] == "ok"
    ready = client.get("/readyz").json()
    assert ready == {"status": "ok", "checks": {"database": "ok", "cache": "ok", "retrieval": "ok"}}
    client.get("/v1/pages/home")
    text = client.get("/metrics").text
    assert 'charter_http_requests_total{method="GET",route="/v1/pages/{slug:path}",status="200"}' in text
    assert "charter_delivery_renders_total" in text
    r = client.get("/healthz", headers={"X-Request-ID": "abc123"})
    assert r.headers["x-request-id"] == "abc123"


def test_index_lists_links_and_sends_browsers_to_docs(client: TestClient) -> None:
    body = client.get("/").json()
    assert body["name"] == "Charter" and body["links"]["api_docs"] == "/docs"
    assert client.get(body["links"]["openapi"]).status_code == 200
    r = client.get("/", headers={"Accept": "text/html,application/xhtml+xml"}, follow_redirects=False)
    assert r.status_code == 307
    assert r.headers["location"] == ("/admin" if "admin" in body["links"] else "/docs")


def test_cached_hits_answer_exactly_like_the_route(client: TestClient, runtime: Runtime) -> None:
    """The lean path for cached hits (charter.delivery.fastpath) sends the route's bytes and headers."""
    first = client.get("/v1/pages/pricing?locale=de-DE")  # a miss: rendered by the route
    hit = client.get("/v1/pages/pricing?locale=de-DE")  # a hit: answered from the cache
    assert hit.content == first.content
    for name in ("etag", "cache-control", "surrogate-key", "content-type", "content-length"):
        assert hit.headers[name] == first.headers[name], name
    assert hit.headers["x-request-id"]
    not_modified = client.get("/v1/pages/pricing?locale=de-DE", headers={"If-None-Match": first.headers["etag"]})
    assert not_modified.status_code == 304 and not_modified.content == b""
    # Anything unusual still goes to the route and its errors.
    assert client.get("/v1/pages/pricing?locale=de-DE&x=1").status_code == 400
    text = client.get("/metrics").text
    assert 'charter_http_requests_total{method="GET",route="/v1/pages/{slug:path}",status="200"} 2.0' in text
    assert 'route="/v1/pages/{slug:path}",status="304"} 1.0' in text
