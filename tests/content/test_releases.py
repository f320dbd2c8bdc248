"""Releases through the real app: compose, review under the type policies, publish atomically."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi.testclient import TestClient

from charter.content.releases import release_items, releases
from charter.db.tables import entries, events, revisions
from charter.runtime import Runtime
from tests.conftest import auth
from tests.content.releasing import (
    CAREERS_PAGE,
    PRICING_PAGE,
    STARTER,
    TEAM,
    approved_release,
    new_release,
    plan,
    post,
    second_publisher,
)


def counts(rt: Runtime) -> tuple[int, ...]:
    with rt.read() as conn:
        return tuple(
            conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
            for t in (entries, revisions, releases, release_items)
        )


def test_release_reviewed_by_two_publishers_publishes_all_items_at_once(
    client: TestClient, tokens: dict[str, str], runtime: Runtime
) -> None:
    second = second_publisher(runtime)
    scale_id = "0b7e9a52-4a8f-4f38-9c55-2f0f1a2b3c4d"
    pricing = client.get("/v1/manage/entries/" + PRICING_PAGE, headers=auth(tokens["viewer"])).json()["data"]
    pricing["en"]["sections"][0]["plans"].append(scale_id)
    items = [
        {"action": "update", "entry_id": STARTER, "data": plan("starter", 5)},
        {"action": "create", "type": "pricing-plan", "entry_id": scale_id, "data": plan("scale", 199)},
        {"action": "update", "entry_id": PRICING_PAGE, "data": pricing},  # references the new plan
        {"action": "update", "entry_id": CAREERS_PAGE},  # publish the current draft revision
    ]
    rel = new_release(client, tokens["editor"], items, "Winter pricing")
    rid = rel["id"]
    assert rel["status"] == "draft" and [i["action"] for i in rel["items"]] == ["create", "update", "update", "update"]
    assert rel["policy"]["approvals"] == 2 and rel["policy"]["approver_role"] == "publisher"
    # Nothing is live yet.
    assert client.get("/v1/entries/pricing-plan/" + STARTER).json()["data"]["price"] == 0
    assert client.get("/v1/pages/careers").status_code == 404

    assert post(client, f"/v1/manage/releases/{rid}/approve", tokens["publisher"]).status_code == 409  # not in review
    r = post(client, f"/v1/manage/releases/{rid}/submit", tokens["editor"])
    assert r.status_code == 200 and r.json()["status"] == "in_review" and r.json()["round"] == 1
    # Editors may not approve; the same publisher counts once; two publishers are needed.
    r = post(client, f"/v1/manage/releases/{rid}/approve", tokens["editor"])
    assert r.status_code == 403
    r = post(client, f"/v1/manage/releases/{rid}/approve", tokens["publisher"], {"comment": "prices checked"})
    assert r.status_code == 200 and r.json()["status"] == "in_review"
    assert r.json()["policy"]["approved_by"] == ["token:test-publisher"]
    r = post(client, f"/v1/manage/releases/{rid}/approve", tokens["publisher"])
    assert r.status_code == 409 and "already approved" in r.json()["detail"]
    # Items cannot change under review.
    r = post(client, f"/v1/manage/releases/{rid}/items", tokens["editor"], {"action": "unpublish", "entry_id": TEAM})
    assert r.status_code == 409
    r = post(client, f"/v1/manage/releases/{rid}/approve", second)
    assert r.status_code == 200 and r.json()["status"] == "approved"

    r = post(client, f"/v1/manage/releases/{rid}/publish", tokens["publisher"])
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "published" and body["published_by"] == "token:test-publisher"
    assert all(i["published_revision"] for i in body["items"])
    assert client.get("/v1/entries/pricing-plan/" + STARTER).json()["data"]["price"] == 5
    assert client.get("/v1/entries/pricing-plan/" + scale_id).json()["data"]["id"] == "scale"
    page = client.get("/v1/pages/pricing").json()
    assert {e["data"]["id"] for e in page["included"]} == {"starter", "team", "enterprise", "scale"}
    assert client.get("/v1/pages/careers").status_code == 200

    with runtime.read() as conn:
        published = conn.execute(sa.select(events).where(events.c.type == "release.published")).all()
    assert len(published) == 1
    payload = published[0].payload
    assert payload["id"] == rid and set(payload["entries"]) == {STARTER, scale_id, PRICING_PAGE, CAREERS_PAGE}
    assert payload["delay_ms"] is None and payload["lead_time_ms"] > 0

    audit = client.get(f"/v1/manage/audit?subject_type=release&subject_id={rid}", headers=auth(tokens["viewer"]))
    actions = [a["action"] for a in reversed(audit.json())]
    assert actions == [
        "release.create",
        "release.item.add",
        "release.item.add",
        "release.item.add",
        "release.item.add",
        "release.submit",
        "release.approve",
        "release.approve",
        "release.publish",
    ]
    starter_add = next(
        a for a in audit.json() if a["action"] == "release.item.add" and a["detail"]["entry_id"] == STARTER
    )
    assert starter_add["actor"] == "token:test-editor"
    assert {"op": "replace", "path": "/en/price", "old": 0, "value": 5} in starter_add["detail"]["diff"]


def test_authors_cannot_approve_and_rejection_starts_a_new_round(
    client: TestClient, tokens: dict[str, str], runtime: Runtime
) -> None:
    second = second_publisher(runtime)
    rel = new_release(client, tokens["publisher"], [{"action": "update", "entry_id": TEAM, "data": plan("team", 59)}])
    rid = rel["id"]
    post(client, f"/v1/manage/releases/{rid}/submit", tokens["publisher"])
    r = post(client, f"/v1/manage/releases/{rid}/approve", tokens["publisher"])
    assert r.status_code == 403 and "authored" in r.json()["detail"]
    assert post(client, f"/v1/manage/releases/{rid}/approve", second).json()["status"] == "in_review"

    r = client.post(f"/v1/manage/releases/{rid}/reject", json={"comment": ""}, headers=auth(tokens["admin"]))
    assert r.status_code == 422
    r = client.post(
        f"/v1/manage/releases/{rid}/reject", json={"comment": "59 is too much"}, headers=auth(tokens["admin"])
    )
    assert r.status_code == 200 and r.json()["status"] == "rejected"
    assert r.json()["reviews"][-1] == {**r.json()["reviews"][-1], "decision": "reject", "comment": "59 is too much"}

    # Editing a rejected release makes it a draft; the next round needs two fresh approvals.
    item = r.json()["items"][0]["id"]
    r = client.put(
        f"/v1/manage/releases/{rid}/items/{item}",
        json={"action": "update", "data": plan("team", 54)},
        headers=auth(tokens["editor"]),
    )
    assert r.status_code == 200 and r.json()["status"] == "draft"
    r = post(client, f"/v1/manage/releases/{rid}/submit", tokens["editor"])
    assert r.json()["round"] == 2 and r.json()["policy"]["approved_by"] == []
    # The editor edited an item, so they are an author too; the first publisher no longer is.
    post(client, f"/v1/manage/releases/{rid}/approve", second)
    r = post(client, f"/v1/manage/releases/{rid}/approve", tokens["publisher"])
    assert r.status_code == 403  # still the release's creator
    r = post(client, f"/v1/manage/releases/{rid}/approve", tokens["admin"])
    assert r.json()["status"] == "approved"


def test_direct_publish_of_a_gated_type_is_refused(client: TestClient, tokens: dict[str, str]) -> None:
    r = post(client, f"/v1/manage/entries/{TEAM}/unpublish", tokens["admin"])
    assert r.status_code == 403 and r.json()["type"].endswith("/approval-required")
    assert "2 approvals" in r.json()["detail"]
    created = post(client, "/v1/manage/entries/pricing-plan", tokens["editor"], {"data": plan("solo", 9)}).json()
    r = post(client, f"/v1/manage/entries/{created['id']}/publish", tokens["publisher"])
    assert r.status_code == 403
    assert client.get(f"/v1/entries/pricing-plan/{created['id']}").status_code == 404
    # Pages have no policy: publishers publish them directly.
    assert post(client, f"/v1/manage/entries/{CAREERS_PAGE}/publish", tokens["publisher"]).status_code == 200


def test_a_release_of_ungated_types_needs_one_approval(client: TestClient, tokens: dict[str, str]) -> None:
    rel = new_release(client, tokens["editor"], [{"action": "update", "entry_id": CAREERS_PAGE}])
    assert rel["policy"]["approvals"] == 1
    post(client, f"/v1/manage/releases/{rel['id']}/submit", tokens["editor"])
    r = post(client, f"/v1/manage/releases/{rel['id']}/approve", tokens["publisher"])
    assert r.json()["status"] == "approved"


def test_a_failing_item_publishes_nothing_and_marks_the_release_failed(
    client: TestClient, tokens: dict[str, str], runtime: Runtime
) -> None:
    second = second_publisher(runtime)
    items = [
        {"action": "update", "entry_id": STARTER, "data": plan("starter", 1)},
        {"action": "create", "type": "pricing-plan", "data": plan("flex", 20)},
    ]
    rel = approved_release(client, tokens, second, items)
    # Someone takes the slug the release wanted after it was approved.
    assert (
        post(client, "/v1/manage/entries/pricing-plan", tokens["editor"], {"data": plan("flex", 25)}).status_code == 201
    )
    before = counts(runtime)
    r = post(client, f"/v1/manage/releases/{rel['id']}/publish", tokens["publisher"])
    assert r.status_code == 409 and "flex" in r.json()["detail"]
    assert counts(runtime) == before
    assert client.get("/v1/entries/pricing-plan/" + STARTER).json()["data"]["price"] == 0
    got = client.get(f"/v1/manage/releases/{rel['id']}", headers=auth(tokens["viewer"])).json()
    assert got["status"] == "failed" and "flex" in got["error"]
    with runtime.read() as conn:
        types = [r.type for r in conn.execute(sa.select(events.c.type).order_by(events.c.id.desc()).limit(3))]
    assert types[0] == "release.failed" and "release.published" not in types
    # Withdrawn, fixed and re-reviewed, it publishes.
    post(client, f"/v1/manage/releases/{rel['id']}/withdraw", tokens["editor"])
    item = next(i["id"] for i in got["items"] if i["action"] == "create")
    r = client.put(
        f"/v1/manage/releases/{rel['id']}/items/{item}",
        json={"action": "create", "type": "pricing-plan", "data": plan("flex-plus", 20)},
        headers=auth(tokens["editor"]),
    )
    assert r.status_code == 200, r.text
    post(client, f"/v1/manage/releases/{rel['id']}/submit", tokens["editor"])
    post(client, f"/v1/manage/releases/{rel['id']}/approve", tokens["publisher"])
    post(client, f"/v1/manage/releases/{rel['id']}/approve", second)
    assert post(client, f"/v1/manage/releases/{rel['id']}/publish", tokens["publisher"]).json()["status"] == "published"


def test_bad_items_are_problems_and_change_nothing(
    client: TestClient, tokens: dict[str, str], runtime: Runtime
) -> None:
    rid = new_release(client, tokens["editor"], [])["id"]
    before = counts(runtime)
    cases = [
        ({"action": "update", "entry_id": "00000000-0000-0000-0000-000000000000", "data": plan("x", 1)}, 404),
        ({"action": "update", "entry_id": STARTER, "data": {"en": {"id": "starter", "price": -1}}}, 422),
        ({"action": "create", "type": "no-such-type", "data": {}}, 404),
        ({"action": "create", "type": "pricing-plan"}, 422),  # no data: the item's schema says so
        ({"action": "create", "type": "pricing-plan", "data": plan("starter", 3)}, 409),  # slug taken
        ({"action": "unpublish", "entry_id": CAREERS_PAGE}, 409),  # not published
        ({"action": "update", "entry_id": STARTER, "revision": 99}, 404),
        ({"action": "update", "entry_id": STARTER, "revision": 1}, 409),  # already live
        ({"action": "delete", "entry_id": STARTER}, 422),
    ]
    for body, status in cases:
        r = post(client, f"/v1/manage/releases/{rid}/items", tokens["editor"], body)
        assert r.status_code == status, (body, r.status_code, r.text)
        assert r.headers["content-type"] == "application/problem+json"
    r = post(
        client,
        f"/v1/manage/releases/{rid}/items",
        tokens["editor"],
        {"action": "update", "entry_id": STARTER, "data": {"en": {"id": "starter", "price": -1}}},
    )
    assert {e["pointer"] for e in r.json()["errors"]} >= {"/en/price", "/en"}
    assert post(client, f"/v1/manage/releases/{rid}/submit", tokens["editor"]).status_code == 409  # no items
    assert client.post("/v1/manage/releases", json={"name": ""}, headers=auth(tokens["editor"])).status_code == 422
    assert post(client, "/v1/manage/releases", tokens["viewer"], {"name": "x"}).status_code == 403
    assert client.get("/v1/manage/releases/nope", headers=auth(tokens["viewer"])).status_code == 404
    assert counts(runtime) == before
    # A whole release with one bad item is not created at all.
    r = post(
        client,
        "/v1/manage/releases",
        tokens["editor"],
        {
            "name": "bad",
            "items": [{"action": "update", "entry_id": TEAM}, {"action": "unpublish", "entry_id": CAREERS_PAGE}],
        },
    )
    assert r.status_code == 409 and counts(runtime) == before


def test_list_filters_and_delete(client: TestClient, tokens: dict[str, str]) -> None:
    a = new_release(client, tokens["editor"], [{"action": "update", "entry_id": CAREERS_PAGE}], "A")
    new_release(client, tokens["editor"], [], "B")
    h = auth(tokens["viewer"])
    assert [r["name"] for r in client.get("/v1/manage/releases?entry_id=" + CAREERS_PAGE, headers=h).json()] == ["A"]
    assert len(client.get("/v1/manage/releases?status=draft", headers=h).json()) == 2
    assert client.get("/v1/manage/releases?status=nope", headers=h).status_code == 422
    post(client, f"/v1/manage/releases/{a['id']}/submit", tokens["editor"])
    assert client.delete(f"/v1/manage/releases/{a['id']}", headers=auth(tokens["editor"])).status_code == 409
    post(client, f"/v1/manage/releases/{a['id']}/withdraw", tokens["editor"])
    assert client.delete(f"/v1/manage/releases/{a['id']}", headers=auth(tokens["editor"])).status_code == 204
    assert client.get(f"/v1/manage/releases/{a['id']}", headers=h).status_code == 404
