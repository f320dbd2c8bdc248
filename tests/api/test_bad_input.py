# ruff: noqa: E501  (a table of cases reads best one case per line)
"""Bad input, table-driven: every case gets a 4xx application/problem+json with a clear detail,
never a 5xx, and nothing is written (entries, revisions, events and audit rows are counted)."""

from __future__ import annotations

import json
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from charter.db.tables import audit_log, entries, events, revisions
from charter.runtime import Runtime

PLAN = {
    "en": {"id": "pro", "name": "Pro", "price": 99, "currency": "EUR", "features": ["SSO"]},
    "de-DE": {"name": "Pro", "features": ["SSO"]},
}
JSON = "application/json"


def rows(rt: Runtime) -> tuple[int, ...]:
    with rt.read() as conn:
        return tuple(
            conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
            for t in (entries, revisions, events, audit_log)
        )


# (case, method, path, headers, body, status, words the detail must contain); "{editor}" is replaced
# by an editor token and "{id}" by a real entry id.
CASES: list[tuple[str, str, str, dict[str, str], Any, int, str]] = [
    ("malformed JSON", "POST", "/v1/manage/entries/pricing-plan", {"Content-Type": JSON}, b'{"data": {', 400, "malformed JSON"),
    ("JSON array body", "POST", "/v1/manage/entries/pricing-plan", {"Content-Type": JSON}, b"[1, 2]", 422, "invalid input"),
    ("not UTF-8", "POST", "/v1/manage/entries/pricing-plan", {"Content-Type": JSON}, b'{"data": "\xff"}', 400, "malformed"),
    ("unknown type", "POST", "/v1/manage/entries/no-such-type", {}, {"data": PLAN}, 404, "no-such-type"),
    ("traversal type", "POST", "/v1/manage/entries/..%2Fpage", {}, {"data": PLAN}, 404, ""),
    ("schema violation", "POST", "/v1/manage/entries/pricing-plan", {}, {"data": {**PLAN, "en": {**PLAN["en"], "price": "free"}}}, 422, "validating"),
    ("unknown locale in data", "POST", "/v1/manage/entries/pricing-plan", {}, {"data": {**PLAN, "fr-FR": {"name": "Pro"}}}, 422, "validating"),
    ("non-localised field in a locale", "POST", "/v1/manage/entries/pricing-plan", {}, {"data": {**PLAN, "de-DE": {**PLAN["de-DE"], "price": 1}}}, 422, "validating"),
    ("NUL in data", "POST", "/v1/manage/entries/pricing-plan", {}, {"data": {**PLAN, "en": {**PLAN["en"], "name": "P\x00ro"}}}, 422, "validating"),
    ("NUL in path", "GET", "/v1/manage/entries/%00", {}, None, 400, "NUL"),
    ("oversized body", "POST", "/v1/manage/entries/pricing-plan", {"Content-Type": JSON}, b'{"data": "' + b"x" * 1_100_000 + b'"}', 413, "larger than"),
    ("form body", "POST", "/v1/manage/entries/pricing-plan", {"Content-Type": "application/x-www-form-urlencoded"}, b"data=1", 415, "send JSON"),
    ("text body", "POST", "/v1/manage/entries/pricing-plan", {"Content-Type": "text/plain"}, b"{}", 415, "send JSON"),
    ("no content type", "PUT", "/v1/manage/entries/{id}", {"Content-Type": ""}, b"{}", 415, "send JSON"),
    ("no token", "POST", "/v1/manage/entries/pricing-plan", {"Authorization": ""}, {"data": PLAN}, 401, "API token"),
    ("garbage token", "POST", "/v1/manage/entries/pricing-plan", {"Authorization": "Bearer nonsense"}, {"data": PLAN}, 401, "invalid"),
    ("unknown token", "POST", "/v1/manage/entries/pricing-plan", {"Authorization": "Bearer chr_00000000_x"}, {"data": PLAN}, 401, "invalid"),
    ("basic auth", "POST", "/v1/manage/entries/pricing-plan", {"Authorization": "Basic dXNlcjpwYXNz"}, {"data": PLAN}, 401, ""),
    ("viewer writes", "POST", "/v1/manage/entries/pricing-plan", {"Authorization": "Bearer {viewer}"}, {"data": PLAN}, 403, "may not write"),
    ("traversal entry id", "GET", "/v1/manage/entries/..%2F..%2Fetc%2Fpasswd", {}, None, 404, "no route matches"),
    ("update without If-Match", "PUT", "/v1/manage/entries/{id}", {}, {"data": PLAN}, 428, "If-Match"),
    ("stale If-Match", "PUT", "/v1/manage/entries/{id}", {"If-Match": '"stale"'}, {"data": PLAN}, 412, "has changed"),
    ("huge revision number", "GET", "/v1/manage/entries/{id}/revisions/99999999999999999999", {}, None, 422, "invalid"),
    ("publish a missing revision", "POST", "/v1/manage/entries/{id}/publish", {"Authorization": "Bearer {publisher}"}, {"revision": 99}, 400, "no revision 99"),
    ("message too long", "POST", "/v1/manage/entries/pricing-plan", {}, {"data": PLAN, "message": "m" * 501}, 422, "invalid"),
    ("token with bad role", "POST", "/v1/manage/tokens", {"Authorization": "Bearer {admin}"}, {"name": "x", "role": "owner"}, 422, "invalid"),
    ("unknown delivery parameter", "GET", "/v1/pages/home?lang=de", {}, None, 400, "unknown query parameter"),
    ("unknown delivery locale", "GET", "/v1/pages/home?locale=fr-FR", {}, None, 400, "not available"),
    ("odd slug", "GET", "/v1/pages/Home%20Page", {}, None, 400, "not a valid slug"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("case", "method", "path", "headers", "body", "status", "words"), CASES, ids=[c[0] for c in CASES]
)
def test_bad_input_is_a_problem_and_writes_nothing(
    client: TestClient,
    tokens: dict[str, str],
    runtime: Runtime,
    case: str,
    method: str,
    path: str,
    headers: dict[str, str],
    body: Any,
    status: int,
    words: str,
) -> None:
    entry_id = client.get("/v1/pages/about").json()["id"]
    path = path.replace("{id}", entry_id)
    sent = {"Authorization": f"Bearer {tokens['editor']}"}
    for name, value in headers.items():
        for role, token in tokens.items():
            value = value.replace("{" + role + "}", token)
        if value:
            sent[name] = value
        else:
            sent.pop(name, None)
    before = rows(runtime)
    if isinstance(body, bytes):
        r = client.request(method, path, content=body, headers=sent)
    elif body is None:
        r = client.request(method, path, headers=sent)
    else:
        r = client.request(method, path, content=json.dumps(body).encode(), headers={"Content-Type": JSON, **sent})
    assert r.status_code == status, (case, r.status_code, r.text[:500])
    assert r.headers["content-type"] == "application/problem+json", case
    problem = r.json()
    assert problem["status"] == status and problem["type"].startswith("https://charter.dev/problems/")
    assert words.lower() in problem["detail"].lower(), (case, problem["detail"])
    assert rows(runtime) == before, f"{case}: something was written"
