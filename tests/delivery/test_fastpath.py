"""The delivery fast path (charter.delivery.fastpath): cached hits answered in front of the app,
with the route's bytes and headers; everything unusual falls through to the route; a publish
purges what it serves. SQLite only: the fast path never touches the database."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from charter.config import Settings, load_settings
from charter.delivery.fastpath import DeliveryFastPath
from charter.http.cors import CorsLayer
from charter.runtime import Runtime
from tests.conftest import auth

SAME = ("etag", "cache-control", "surrogate-key", "vary", "content-type", "content-length")


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'charter.db'}"


@pytest.fixture
def settings(project_dir: Path, database_url: str, services: frozenset[str]) -> Settings:
    return load_settings(
        project_dir, database_url=database_url, trace_exporter="memory", workflow={}, worker="worker" in services
    )


def front(client: TestClient) -> DeliveryFastPath:
    fast = client.app.front  # type: ignore[attr-defined]
    if isinstance(fast, CorsLayer):  # the demo allows CORS: its layer is in front of the fast path
        fast = fast.app
    assert isinstance(fast, DeliveryFastPath)
    return fast


def headers_of(r: object, names: tuple[str, ...] = SAME) -> dict[str, str | None]:
    return {name: r.headers.get(name) for name in names}  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "path",
    [
        "/v1/pages/pricing?locale=de-DE",
        "/v1/pages/home",
        "/v1/entries/doc?limit=4",
        "/v1/entries/doc?fields.area=security",
    ],
)
def test_a_second_request_is_a_hit_with_the_routes_bytes_and_headers(client: TestClient, path: str) -> None:
    fast = front(client)
    first = client.get(path)  # the route renders and fills the cache
    assert first.status_code == 200 and fast.hits == 0
    hit = client.get(path)
    assert fast.hits == 1
    assert hit.content == first.content and headers_of(hit) == headers_of(first)
    assert first.headers["vary"] in ("Charter-Schema", "Charter-Schema, Origin")  # Origin: the demo allows CORS


def test_single_entries_are_hits_too(client: TestClient) -> None:
    plan = next(e for e in client.get("/v1/entries/pricing-plan").json()["items"] if e["data"]["id"] == "team")
    path = f"/v1/entries/pricing-plan/{plan['id']}?locale=de-DE"
    first = client.get(path)
    assert first.status_code == 200, first.text
    hit = client.get(path)
    assert front(client).hits == 1 and hit.content == first.content and headers_of(hit) == headers_of(first)


def test_not_modified_answers_like_the_route(client: TestClient, runtime: Runtime) -> None:
    fast = front(client)
    etag = client.get("/v1/pages/about").headers["etag"]
    runtime.cache.clear()
    by_route = client.get("/v1/pages/about", headers={"If-None-Match": f'"x", W/{etag}'})
    assert fast.hits == 0 and by_route.status_code == 304
    by_fast_path = client.get("/v1/pages/about", headers={"If-None-Match": f'"x", W/{etag}'})
    assert fast.hits == 1 and by_fast_path.status_code == 304 and by_fast_path.content == b""
    assert headers_of(by_fast_path) == headers_of(by_route)
    assert by_fast_path.headers.get("content-length") is None and by_fast_path.headers["etag"] == etag
    assert client.get("/v1/pages/about", headers={"If-None-Match": "*"}).status_code == 304
    assert client.get("/v1/pages/about", headers={"If-None-Match": '"other"'}).status_code == 200
    assert fast.hits == 3


def test_head_sends_the_get_headers_without_a_body(client: TestClient) -> None:
    fast = front(client)
    get = client.get("/v1/pages/about")
    head_by_route = client.head("/v1/pages/doesnt-matter-yet")
    assert head_by_route.status_code == 404 and head_by_route.content == b""
    assert head_by_route.headers["content-type"] == "application/problem+json"
    head = client.head("/v1/pages/about")
    assert fast.hits == 1 and head.status_code == 200 and head.content == b""
    assert headers_of(head) == headers_of(get)
    client.get("/v1/pages/home")
    fast.targets.clear()  # forget the targets: HEAD on a cached page answered by the route
    head = client.head("/v1/pages/home")
    assert fast.hits == 1 and head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == client.get("/v1/pages/home").headers["content-length"]
    not_modified = client.head("/v1/pages/about", headers={"If-None-Match": get.headers["etag"]})
    assert not_modified.status_code == 304


@pytest.mark.parametrize(
    ("headers", "query", "status"),
    [
        ({"Charter-Schema": "page.v99"}, "", 400),  # a pinned major: the route resolves it
        ({"Charter-Preview": "not-a-token"}, "", 401),  # a preview: never from the cache
        ({}, "?preview=not-a-token", 401),
        ({}, "?locale=en&x=1", 400),  # an unknown parameter: the route's error
    ],
)
def test_unusual_requests_go_to_the_route(client: TestClient, headers: dict[str, str], query: str, status: int) -> None:
    fast = front(client)
    client.get("/v1/pages/home")
    client.get("/v1/pages/home")
    assert fast.hits == 1  # the page is cached and its target known
    r = client.get("/v1/pages/home" + query, headers=headers)
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert fast.hits == 1


def test_a_request_with_a_body_goes_to_the_app(client: TestClient, runtime: Runtime) -> None:
    fast = front(client)
    client.get("/v1/pages/home")
    r = client.request("GET", "/v1/pages/home", content=b"x" * 10)
    assert r.status_code == 200 and fast.hits == 0
    too_big = client.request("GET", "/v1/pages/home", content=b"x" * (runtime.settings.max_body_bytes + 1))
    assert too_big.status_code == 413 and fast.hits == 0


def test_a_publish_purges_what_the_fast_path_serves(client: TestClient, tokens: dict[str, str]) -> None:
    fast = front(client)
    client.get("/v1/pages/pricing")
    page = client.get("/v1/pages/pricing").json()
    assert fast.hits == 1
    team = next(e for e in page["included"] if e["data"]["id"] == "team")
    draft = client.get(f"/v1/manage/entries/{team['id']}", headers=auth(tokens["viewer"]))
    data = draft.json()["data"]
    data["en"]["price"] = 59
    client.put(
        f"/v1/manage/entries/{team['id']}",
        json={"data": data},
        headers=auth(tokens["editor"], **{"If-Match": draft.headers["etag"]}),
    ).raise_for_status()
    client.post(f"/v1/manage/entries/{team['id']}/publish", headers=auth(tokens["publisher"])).raise_for_status()
    fresh = client.get("/v1/pages/pricing")  # purged: the route renders again
    assert fast.hits == 1
    assert next(e for e in fresh.json()["included"] if e["id"] == team["id"])["data"]["price"] == 59
    again = client.get("/v1/pages/pricing")
    assert fast.hits == 2 and again.content == fresh.content
    client.post(f"/v1/manage/entries/{page['id']}/unpublish", headers=auth(tokens["publisher"])).raise_for_status()
    assert client.get("/v1/pages/pricing").status_code == 404
    assert fast.hits == 2


def test_hits_get_request_ids_spans_and_metrics(client: TestClient, runtime: Runtime) -> None:
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = runtime.telemetry.exporter
    assert isinstance(exporter, InMemorySpanExporter)
    client.get("/v1/pages/about")
    exporter.clear()
    trace_id = "0af7651916cd43dd8448eb211c80319c"
    hit = client.get("/v1/pages/about", headers={"traceparent": f"00-{trace_id}-b7ad6b7169203331-01"})
    assert front(client).hits == 1
    (span,) = exporter.get_finished_spans()
    assert span.name == "GET /v1/pages/{slug:path}"
    assert format(span.context.trace_id, "032x") == trace_id
    assert span.attributes["http.response.status_code"] == 200
    assert span.attributes["charter.request_id"] == hit.headers["x-request-id"]
    ids = {client.get("/v1/pages/about").headers["x-request-id"] for _ in range(3)}
    assert len(ids) == 3 and all(re.fullmatch(r"[0-9a-f]{32}", i) for i in ids)
    assert client.get("/v1/pages/about", headers={"X-Request-ID": "abc-123"}).headers["x-request-id"] == "abc-123"
    assert client.get("/v1/pages/about", headers={"X-Request-ID": "a b\r"}).headers["x-request-id"] != "a b\r"
    text = client.get("/metrics").text
    assert 'charter_http_requests_total{method="GET",route="/v1/pages/{slug:path}",status="200"} 7.0' in text


def test_spans_nobody_records_are_not_built(project_dir: Path, database_url: str) -> None:
    from charter.observability.telemetry import Telemetry

    assert Telemetry.build(load_settings(project_dir, database_url=database_url, trace_exporter="memory")).exporting()
    quiet = Telemetry.build(load_settings(project_dir, database_url=database_url, trace_exporter="none"))
    assert not quiet.exporting()


def test_the_target_map_is_bounded(client: TestClient, runtime: Runtime) -> None:
    fast = DeliveryFastPath(client.app.call_stack, runtime, max_targets=2)  # type: ignore[attr-defined]
    client.app.front = fast  # type: ignore[attr-defined]
    for slug in ("home", "about", "pricing"):
        client.get(f"/v1/pages/{slug}")
    assert len(fast.targets) == 1 and ("/v1/pages/pricing", b"") in fast.targets


@pytest.mark.parametrize("ratio", [0.0, 0.25, 1.0])
def test_hits_without_a_parent_are_sampled_at_the_configured_ratio(
    ratio: float, project_dir: Path, database_url: str
) -> None:
    from charter.app import create_app
    from charter.demo import load_demo_content

    settings = load_settings(
        project_dir, database_url=database_url, trace_exporter="memory", telemetry={"traces_sampler_arg": ratio}
    )
    rt = Runtime.open(settings)
    load_demo_content(rt)
    with TestClient(create_app(settings, runtime=rt)) as client:
        client.get("/v1/pages/about")
        rt.telemetry.exporter.clear()
        for _ in range(400):
            client.get("/v1/pages/about")
        assert front(client).hits == 400
        recorded = len(rt.telemetry.exporter.get_finished_spans())
        # Binomial(400, ratio): the mean is 100 for 0.25 and the bounds are over 5 standard deviations.
        assert {0.0: recorded == 0, 0.25: 55 <= recorded <= 145, 1.0: recorded == 400}[ratio], recorded
        # An unsampled caller is followed, and a sampled one too, whatever the ratio.
        rt.telemetry.exporter.clear()
        client.get(
            "/v1/pages/about", headers={"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00"}
        )
        client.get(
            "/v1/pages/about", headers={"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}
        )
        assert len(rt.telemetry.exporter.get_finished_spans()) == 1
    rt.close()
