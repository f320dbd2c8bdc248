"""Management API: writes are validated, versioned, guarded by If-Match, and all-or-nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from charter.config import Settings, load_settings
from charter.db.tables import entries, revisions
from charter.runtime import Runtime
from tests.conftest import auth


@pytest.fixture
def settings(project_dir: Path, database_url: str, services: frozenset[str]) -> Settings:
    """These tests exercise the plain content actions: no approval policies (the demo's pricing
    plans need two approvals; tests/content/test_workflow.py covers that gate)."""
    return load_settings(
        project_dir, database_url=database_url, trace_exporter="memory", workflow={}, worker="worker" in services
    )


PLAN = {
    "en": {"id": "pro", "name": "Pro", "price": 99, "currency": "EUR", "features": ["SSO"]},
    "de-DE": {"name": "Pro", "features": ["SSO"]},
}


def counts(rt: Runtime) -> tuple[int, int]:
    with rt.read() as conn:
        return (
            conn.execute(sa.select(sa.func.count()).select_from(entries)).scalar_one(),
            conn.execute(sa.select(sa.func.count()).select_from(revisions)).scalar_one(),
        )


def create(client: TestClient, token: str, data: dict[str, Any] = PLAN) -> Any:
    return client.post("/v1/manage/entries/pricing-plan", json={"data": data}, headers=auth(token))


def test_create_update_publish_lifecycle(client: TestClient, tokens: dict[str, str]) -> None:
    r = create(client, tokens["editor"])
    assert r.status_code == 201, r.text
    entry = r.json()
    etag = r.headers["etag"]
    assert entry["status"] == "draft" and entry["current_revision"] == 1
    assert r.headers["location"] == f"/v1/manage/entries/{entry['id']}"
    # Drafts never reach the delivery API.
    assert client.get(f"/v1/entries/pricing-plan/{entry['id']}").status_code == 404

    changed = {**PLAN, "en": {**PLAN["en"], "price": 89}}
    r = client.put(
        f"/v1/manage/entries/{entry['id']}",
        json={"data": changed, "message": "cheaper"},
        headers=auth(tokens["editor"], **{"If-Match": etag}),
    )
    assert r.status_code == 200, r.text
    assert r.json()["current_revision"] == 2 and r.headers["etag"] != etag

    assert client.post(f"/v1/manage/entries/{entry['id']}/publish", headers=auth(tokens["editor"])).status_code == 403
    r = client.post(f"/v1/manage/entries/{entry['id']}/publish", headers=auth(tokens["publisher"]))
    assert r.status_code == 200 and r.json()["status"] == "published"
    live = client.get(f"/v1/entries/pricing-plan/{entry['id']}?locale=de-DE").json()
    assert live["data"]["price"] == 89 and live["revision"] == 2 and live["locale"]["resolved"] == "de-DE"

    revs = client.get(f"/v1/manage/entries/{entry['id']}/revisions", headers=auth(tokens["viewer"])).json()
    assert [(x["number"], x["action"], x["message"]) for x in revs] == [(1, "create", None), (2, "update", "cheaper")]
    first = client.get(f"/v1/manage/entries/{entry['id']}/revisions/1", headers=auth(tokens["viewer"])).json()
    assert first["data"]["en"]["price"] == 99  # history is never overwritten

    r = client.post(f"/v1/manage/entries/{entry['id']}/unpublish", headers=auth(tokens["publisher"]))
    assert r.json()["status"] == "draft"
    assert client.get(f"/v1/entries/pricing-plan/{entry['id']}").status_code == 404


def test_invalid_write_lists_every_error_and_stores_nothing(
    client: TestClient, tokens: dict[str, str], runtime: Runtime
) -> None:
    before = counts(runtime)
    bad = {"en": {**PLAN["en"], "price": -5, "currency": "JPY"}, "de-DE": {"features": ["x"]}}
    r = create(client, tokens["editor"], bad)
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    problem = r.json()
    assert problem["status"] == 422 and problem["type"].endswith("/validation-failed")
    assert {e["pointer"] for e in problem["errors"]} == {"/en/price", "/en/currency", "/de-DE/name"}
    assert counts(runtime) == before


def test_optimistic_concurrency(client: TestClient, tokens: dict[str, str]) -> None:
    r = create(client, tokens["editor"])
    entry_id, etag = r.json()["id"], r.headers["etag"]
    url = f"/v1/manage/entries/{entry_id}"
    body = {"data": PLAN}
    r = client.put(url, json=body, headers=auth(tokens["editor"]))
    assert r.status_code == 428 and etag in r.json()["detail"]
    assert client.put(url, json=body, headers=auth(tokens["editor"], **{"If-Match": etag})).status_code == 200
    stale = client.put(url, json=body, headers=auth(tokens["editor"], **{"If-Match": etag}))
    assert stale.status_code == 412
    assert stale.json()["current_revision"] == 2
    assert client.delete(url, headers=auth(tokens["editor"], **{"If-Match": etag})).status_code == 412


def test_duplicate_slug_conflicts(client: TestClient, tokens: dict[str, str]) -> None:
    assert create(client, tokens["editor"]).status_code == 201
    r = create(client, tokens["editor"])
    assert r.status_code == 409 and "pro" in r.json()["detail"]


def test_delete_frees_slug_and_keeps_history(client: TestClient, tokens: dict[str, str], runtime: Runtime) -> None:
    r = create(client, tokens["editor"])
    entry_id, etag = r.json()["id"], r.headers["etag"]
    client.post(f"/v1/manage/entries/{entry_id}/publish", headers=auth(tokens["publisher"]))
    etag = client.get(f"/v1/manage/entries/{entry_id}", headers=auth(tokens["viewer"])).headers["etag"]
    # A live entry needs the publish permission to delete.
    assert (
        client.delete(
            f"/v1/manage/entries/{entry_id}", headers=auth(tokens["editor"], **{"If-Match": etag})
        ).status_code
        == 403
    )
    r = client.delete(f"/v1/manage/entries/{entry_id}", headers=auth(tokens["publisher"], **{"If-Match": etag}))
    assert r.status_code == 200 and r.json()["status"] == "deleted"
    assert client.get(f"/v1/entries/pricing-plan/{entry_id}").status_code == 404
    assert create(client, tokens["editor"]).status_code == 201
    with runtime.read() as conn:
        n = conn.execute(
            sa.select(sa.func.count()).select_from(revisions).where(revisions.c.entry_id == entry_id)
        ).scalar_one()
    assert n == 2


def test_bad_requests_are_problems(client: TestClient, tokens: dict[str, str], runtime: Runtime) -> None:
    before = counts(runtime)
    h = auth(tokens["editor"])
    r = client.post(
        "/v1/manage/entries/pricing-plan", content=b'{"data": {', headers={**h, "Content-Type": "application/json"}
    )
    assert r.status_code == 400 and "malformed JSON" in r.json()["detail"]
    r = client.post(
        "/v1/manage/entries/pricing-plan",
        content=b"data=1",
        headers={**h, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 415
    r = client.post("/v1/manage/entries/no-such-type", json={"data": PLAN}, headers=h)
    assert r.status_code == 404 and "no-such-type" in r.json()["detail"]
    r = client.post("/v1/manage/entries/pricing-plan", json={"data": "nope"}, headers=h)
    assert r.status_code == 422 and r.json()["errors"][0]["pointer"] == "/data"
    r = client.post(
        "/v1/manage/entries/pricing-plan",
        content=b"{" + b" " * 2_000_000 + b"}",
        headers={**h, "Content-Type": "application/json"},
    )
    assert r.status_code == 413
    for resp in (r,):
        assert resp.headers["content-type"] == "application/problem+json"
    r = client.get("/v1/manage/entries/does-not-exist", headers=auth(tokens["viewer"]))
    assert r.status_code == 404
    r = client.post("/v1/manage/entries/pricing-plan", json={"data": PLAN}, headers={"Authorization": "Bearer chr_x_y"})
    assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Bearer")
    assert counts(runtime) == before


def test_reference_integrity(client: TestClient, tokens: dict[str, str]) -> None:
    page = {
        "en": {
            "slug": "launch",
            "title": "Launch",
            "sections": [{"intent": "pricing-table", "plans": ["00000000-0000-0000-0000-000000000000"]}],
        }
    }
    r = client.post("/v1/manage/entries/page", json={"data": page}, headers=auth(tokens["editor"]))
    assert r.status_code == 422
    assert r.json()["errors"][0]["pointer"] == "/en/sections/0/plans/0"


def test_list_filters_by_type_and_status(client: TestClient, tokens: dict[str, str]) -> None:
    h = auth(tokens["viewer"])
    drafts = client.get("/v1/manage/entries?status=draft", headers=h).json()["items"]
    assert [e["slug"] for e in drafts] == ["careers"]
    plans = client.get("/v1/manage/entries?type=pricing-plan", headers=h).json()["items"]
    assert len(plans) == 3
    page1 = client.get("/v1/manage/entries?limit=5", headers=h).json()
    page2 = client.get(f"/v1/manage/entries?limit=5&cursor={page1['next_cursor']}", headers=h).json()
    assert not {e["id"] for e in page1["items"]} & {e["id"] for e in page2["items"]}
    assert client.get("/v1/manage/entries?status=bogus", headers=h).status_code == 422


def test_a_type_in_the_path_lists_its_entries_as_the_create_route_names_it(
    client: TestClient, tokens: dict[str, str]
) -> None:
    """POST /v1/manage/entries/<type> creates; GET on the same path lists that type's entries (an entry
    id is a UUID and a type name never is, so GET /v1/manage/entries/<uuid> still reads one entry)."""
    h = auth(tokens["viewer"])
    by_path = client.get("/v1/manage/entries/pricing-plan", headers=h)
    by_query = client.get("/v1/manage/entries?type=pricing-plan", headers=h)
    assert by_path.status_code == 200 and by_path.json() == by_query.json() and len(by_path.json()["items"]) == 3
    plan = by_path.json()["items"][0]
    assert client.get(f"/v1/manage/entries/{plan['id']}", headers=h).json()["id"] == plan["id"]
    assert client.get(f"/v1/manage/entries/{plan['id'].upper()}", headers=h).json()["id"] == plan["id"]
    drafts = client.get("/v1/manage/entries/page?status=draft", headers=h).json()["items"]
    assert [e["slug"] for e in drafts] == ["careers"]
    page1 = client.get("/v1/manage/entries/doc?limit=4", headers=h).json()
    page2 = client.get(f"/v1/manage/entries/doc?limit=4&cursor={page1['next_cursor']}", headers=h).json()
    assert len(page1["items"]) == 4 and len(page2["items"]) == 2
    missing = client.get("/v1/manage/entries/pricing-plans", headers=h)
    assert missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"
    assert "no content type 'pricing-plans'" in missing.json()["detail"] and "UUID" in missing.json()["detail"]
    gone = client.get("/v1/manage/entries/00000000-0000-4000-8000-000000000000", headers=h)
    assert gone.status_code == 404 and "entry" in gone.json()["detail"]
    assert client.get("/v1/manage/entries/doc").status_code == 401
    assert client.get("/v1/manage/entries/doc?limit=0", headers=h).status_code == 422
