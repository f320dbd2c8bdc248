"""Preview tokens: signed, expiring, scoped; served privately and never through a shared cache."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient

from charter.auth import preview
from charter.auth.roles import Actor, Role
from charter.config import DEMO_DIR, load_settings
from charter.delivery.keys import page_key
from charter.exceptions import Unauthorized
from charter.runtime import Runtime
from tests.conftest import auth
from tests.content.releasing import CAREERS_PAGE, PRICING_PAGE, STARTER, TEAM, new_release, plan, post

H = preview.HEADER


def _token(client: TestClient, token: str, **body: object) -> dict[str, object]:
    r = post(client, "/v1/manage/previews", token, body)
    assert r.status_code == 201, r.text
    return r.json()


def test_entry_preview_shows_the_draft_privately_and_nothing_else(
    client: TestClient, tokens: dict[str, str], runtime: Runtime
) -> None:
    minted = _token(client, tokens["editor"], entry_id=CAREERS_PAGE, ttl=600)
    token = str(minted["token"])
    assert minted["scope"] == "entry" and f"/v1/pages/careers?preview={token}" in minted["urls"]
    assert client.get("/v1/pages/careers").status_code == 404

    for r in (client.get("/v1/pages/careers", headers={H: token}), client.get(f"/v1/pages/careers?preview={token}")):
        assert r.status_code == 200, r.text
        assert r.json()["data"]["title"] == "Careers"
        assert r.headers["cache-control"] == "private, no-store"
        assert "surrogate-key" not in r.headers
        assert r.headers["charter-preview"] == f"entry={CAREERS_PAGE}"
    # Nothing of it reached the cache or the public API.
    assert runtime.cache.get(page_key("careers", None)) is None
    assert client.get("/v1/pages/careers").status_code == 404
    # Scoped: other pages are their published selves; other drafts stay hidden.
    about = client.get("/v1/pages/about", headers={H: token})
    assert about.status_code == 200 and about.headers["cache-control"] == "private, no-store"
    other = post(
        client,
        "/v1/manage/entries/page",
        tokens["editor"],
        {"data": {"en": {"slug": "jobs", "title": "Jobs", "sections": []}}},
    )
    assert other.status_code == 201, other.text
    assert client.get("/v1/pages/jobs", headers={H: token}).status_code == 404


def test_release_preview_shows_the_release_as_it_will_publish(
    client: TestClient, tokens: dict[str, str], runtime: Runtime
) -> None:
    new_plan = "6a1f3c9e-8d2b-4e7a-9f10-1b2c3d4e5f60"
    page = client.get("/v1/manage/entries/" + PRICING_PAGE, headers=auth(tokens["viewer"])).json()["data"]
    page["en"]["title"] = "Pricing 2027"
    page["en"]["sections"][0]["plans"] = [STARTER, new_plan]
    items = [
        {"action": "update", "entry_id": PRICING_PAGE, "data": page},
        {"action": "update", "entry_id": STARTER, "data": plan("starter", 5)},
        {"action": "create", "type": "pricing-plan", "entry_id": new_plan, "data": plan("pro", 129)},
        {"action": "unpublish", "entry_id": TEAM},
    ]
    rel = new_release(client, tokens["editor"], items)
    public = client.get("/v1/pages/pricing")
    token = str(_token(client, tokens["editor"], release_id=rel["id"])["token"])

    r = client.get("/v1/pages/pricing", headers={H: token})
    assert r.status_code == 200 and r.headers["cache-control"] == "private, no-store"
    body = r.json()
    assert body["data"]["title"] == "Pricing 2027"
    assert {e["data"]["id"]: e["data"]["price"] for e in body["included"]} == {"starter": 5, "pro": 129}
    listed = client.get("/v1/entries/pricing-plan", headers={H: token}).json()["items"]
    assert sorted(e["data"]["id"] for e in listed) == ["enterprise", "pro", "starter"]
    assert client.get(f"/v1/entries/pricing-plan/{TEAM}", headers={H: token}).status_code == 404
    assert client.get(f"/v1/entries/pricing-plan/{new_plan}", headers={H: token}).json()["data"]["name"] == "Pro"

    # The public page is untouched, byte for byte, and still served from the cache.
    again = client.get("/v1/pages/pricing")
    assert again.headers["etag"] == public.headers["etag"] and again.json()["data"]["title"] == "Pricing"
    assert client.get(f"/v1/entries/pricing-plan/{new_plan}").status_code == 404


def test_forged_expired_and_foreign_tokens_are_refused(
    client: TestClient, tokens: dict[str, str], runtime: Runtime
) -> None:
    token = str(_token(client, tokens["editor"], entry_id=CAREERS_PAGE)["token"])
    head, payload, sig = token.split(".")
    forged_sig = f"{head}.{payload}.{'A' if sig[0] != 'A' else 'B'}{sig[1:]}"
    other_scope = preview.issue(runtime.settings, Actor("x", Role.EDITOR), "release", "x")[0].split(".")[1]
    expired, _ = preview.issue(
        runtime.settings, Actor("x", Role.EDITOR), "entry", CAREERS_PAGE, 60, now=time.time() - 3600
    )
    foreign_settings = load_settings(runtime.settings.project_dir, secret_key="another-secret")
    foreign, _ = preview.issue(foreign_settings, Actor("x", Role.EDITOR), "entry", CAREERS_PAGE)
    for bad, text in [
        (forged_sig, "signature"),
        (f"{head}.{other_scope}.{sig}", "signature"),  # a payload swapped under a valid signature
        (expired, "expired"),
        (foreign, "signature"),
        ("nonsense", "invalid preview token"),
        ("cpt1.x.y", "signature"),
    ]:
        r = client.get("/v1/pages/careers", headers={H: bad})
        assert r.status_code == 401 and text in r.json()["detail"], (bad, r.text)
        assert r.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"entry_id": CAREERS_PAGE, "release_id": "x"}, 422),
        ({}, 422),
        ({"entry_id": "00000000-0000-0000-0000-000000000000"}, 404),
        ({"release_id": "nope"}, 404),
        ({"entry_id": CAREERS_PAGE, "ttl": 10**8}, 422),
    ],
)
def test_minting_bad_previews(client: TestClient, tokens: dict[str, str], body: dict[str, object], status: int) -> None:
    assert post(client, "/v1/manage/previews", tokens["editor"], body).status_code == status


def test_viewers_cannot_mint_previews(client: TestClient, tokens: dict[str, str]) -> None:
    assert post(client, "/v1/manage/previews", tokens["viewer"], {"entry_id": CAREERS_PAGE}).status_code == 403


def test_verify_checks_expiry_to_the_second() -> None:
    settings = load_settings(DEMO_DIR, secret_key="k")
    token, _ = preview.issue(settings, Actor("x", Role.EDITOR), "entry", "e", ttl=10, now=1000)
    assert preview.verify(settings, token, now=1009).id == "e"
    with pytest.raises(Unauthorized):
        preview.verify(settings, token, now=1010)
