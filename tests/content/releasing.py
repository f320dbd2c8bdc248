"""Helpers for the release, workflow, rollback and preview tests."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from charter.auth.roles import SYSTEM
from charter.auth.tokens import create_token
from charter.runtime import Runtime
from tests.conftest import auth

STARTER = "222a2e6b-cfcd-5f4e-8b89-362b9d6ed071"
TEAM = "ff6dcf98-de74-5663-a8ef-2263d4d0f054"
ENTERPRISE = "543ed651-06d2-5c62-8bec-935560b23b90"
PRICING_PAGE = "c40c5721-3df4-5c45-a5f8-47c68e916865"
ABOUT_PAGE = "cb226fa3-2f0c-52e3-ba03-454b9c7554a3"
CAREERS_PAGE = "4f34b839-d0f7-523c-8ec8-fed3cd0221b5"
TERMS = "29b9433c-608b-5f93-befc-6abe82a72777"


def plan(slug: str, price: float, name: str | None = None) -> dict[str, Any]:
    name = name or slug.title()
    return {
        "en": {"id": slug, "name": name, "price": price, "currency": "EUR", "features": ["Dashboards"]},
        "de-DE": {"name": name, "features": ["Dashboards"]},
    }


def second_publisher(runtime: Runtime, name: str = "test-publisher-2") -> str:
    return create_token(runtime, SYSTEM, name, "publisher")[0]


def post(client: TestClient, path: str, token: str, body: Any = None) -> Any:
    if body is None:
        return client.post(path, headers=auth(token))
    return client.post(path, json=body, headers=auth(token))


def new_release(client: TestClient, token: str, items: list[dict[str, Any]], name: str = "Test release") -> Any:
    r = post(client, "/v1/manage/releases", token, {"name": name, "items": items})
    assert r.status_code == 201, r.text
    return r.json()


def approved_release(
    client: TestClient, tokens: dict[str, str], second: str, items: list[dict[str, Any]], name: str = "Approved"
) -> Any:
    """Created by the editor, submitted, approved by two publishers."""
    rel = new_release(client, tokens["editor"], items, name)
    assert post(client, f"/v1/manage/releases/{rel['id']}/submit", tokens["editor"]).status_code == 200
    for token in (tokens["publisher"], second):
        r = post(client, f"/v1/manage/releases/{rel['id']}/approve", token)
        assert r.status_code == 200, r.text
    assert r.json()["status"] == "approved", r.json()
    return r.json()
