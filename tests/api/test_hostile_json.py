"""The strict JSON gate (charter.strictjson) and the store's own check, through the real app:
issue 13's reproducers (a lone surrogate title, a price of Infinity / NaN / 1e400, a chunked body
over the limit, a text/plain chat completion) and every hostile spelling against every JSON write
route. Each gets a 4xx naming the JSON pointer, and the database is unchanged (every table counted)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi import params
from fastapi.testclient import TestClient

from charter import strictjson
from charter.auth.roles import SYSTEM
from charter.content.actions import create_entry
from charter.db.tables import load_all
from charter.exceptions import CharterError
from charter.http.routes import CharterRoute
from charter.runtime import Runtime
from tests.api.routes import api_routes

JSON = "application/json"

#: (case, raw JSON text with a hostile value, the pointer the refusal must name)
HOSTILE: list[tuple[str, bytes, str]] = [
    ("lone high surrogate escape", rb'{"data": {"en": {"title": "\ud800"}}}', "/data/en/title"),
    ("lone low surrogate escape", rb'{"data": {"en": {"title": "a\udc00b"}}}', "/data/en/title"),
    ("raw surrogate bytes", b'{"data": {"en": {"title": "\xed\xa0\x80"}}}', "/data/en/title"),
    ("NaN", b'{"data": {"en": {"price": NaN}}}', "/data/en/price"),
    ("Infinity", b'{"data": {"en": {"price": Infinity}}}', "/data/en/price"),
    ("-Infinity", b'{"data": {"en": {"price": -Infinity}}}', "/data/en/price"),
    ("1e400 overflow", b'{"data": {"en": {"price": 1e400}}}', "/data/en/price"),
    ("-1e400 overflow in a list", b'{"data": {"en": {"features": ["a", -1e400]}}}', "/data/en/features/1"),
    ("integer beyond 2**53", b'{"data": {"en": {"price": 9007199254740993}}}', "/data/en/price"),
    ("integer beyond 64 bits", b'{"data": {"en": {"price": 100000000000000000000000}}}', "/data/en/price"),
    ("negative integer beyond 2**53", b'{"revision": -9007199254740993}', "/revision"),
    ("NUL in a member name", b'{"data": {"en": {"ti\\u0000tle": "x"}}}', "/data/en/ti\x00tle"),
    ("NUL in a top-level name", b'{"\\u0000": 1}', "/\x00"),
    ("escaped slash and tilde in the pointer", b'{"a/b": {"c~d": NaN}}', "/a~1b/c~0d"),
    ("nesting deeper than 1024", b"[" * 3000 + b"]" * 3000, ""),
]  # fmt: skip


#: The gateway's OpenAI-compatible routes answer errors as OpenAI does ({"error": {...}}, JSON).
OPENAI_PATHS = ("/v1/chat/completions", "/v1/embeddings")


def refusal(r: Any, path: str) -> tuple[str, str | None]:
    """``(kind, JSON pointer)`` of an error answer, in the shape its route promises: problem+json
    (``type`` and the first error's ``pointer``), or on the gateway OpenAI's (``code``, ``param``)."""
    if path in OPENAI_PATHS:
        assert r.headers["content-type"] == JSON, (path, r.headers)
        error = r.json()["error"]
        return str(error["code"]).replace("_", "-"), error["param"] or ""
    assert r.headers["content-type"] == "application/problem+json", (path, r.headers)
    problem = r.json()
    return problem["type"].rsplit("/", 1)[-1], (problem.get("errors") or [{}])[0].get("pointer")


#: The LLM path records every call, refusals included (the gateway's audit, and the review queue
#: that takes refused calls): after a refusal these grow, and nothing else may.
AUDIT_TRAIL = frozenset({"gateway_calls", "review_items", "review_cursor", "events"})


def without_audit(table_counts: dict[str, int]) -> dict[str, int]:
    return {name: n for name, n in table_counts.items() if name not in AUDIT_TRAIL}


def counts(rt: Runtime) -> dict[str, int]:
    """Rows per table, every table Charter has: "nothing written" means this is unchanged (the
    app runs no worker here, so nothing else writes meanwhile: tests/conftest.py). The gateway's
    audit records are written by a background thread: those queued are written first, so a
    refusal's record counts where it was made, never in a later request's count."""
    if rt.gateway is not None:
        rt.gateway.audit.flush()
    with rt.read() as conn:
        return {
            t.name: conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
            for t in load_all().sorted_tables
        }


def json_write_routes(app: Any) -> Iterator[tuple[str, str]]:
    """(method, path with its parameters filled) of every route taking a JSON body: those with a
    pydantic body, and those reading their body themselves (the gateway's OpenAI routes, a content
    source's webhook) that the OpenAPI document declares with an ``application/json`` body."""
    declared = {
        (method.upper(), path)
        for path, item in app.openapi()["paths"].items()
        for method, op in item.items()
        if isinstance(op, dict) and JSON in (op.get("requestBody") or {}).get("content", {})
    }
    for path, route in api_routes(app):
        if route.body_field is None:
            methods = sorted(m for m in route.methods if (m, path) in declared)
        elif not isinstance(route, CharterRoute) or isinstance(route.body_field.field_info, params.Form):
            continue
        else:
            methods = sorted(route.methods)
        filled = path
        for name in route.param_convertors:
            filled = filled.replace(
                "{" + name + "}", "00000000-0000-4000-8000-000000000000" if name.endswith("_id") else "doc"
            )
        for method in methods:
            yield method, filled


def test_every_json_write_route_refuses_every_hostile_spelling(
    client: TestClient, tokens: dict[str, str], runtime: Runtime
) -> None:
    routes = list(json_write_routes(client.app))
    assert len(routes) >= 20, routes  # the gate is checked on every JSON route, not on a sample
    assert {("POST", p) for p in OPENAI_PATHS} <= set(routes), routes  # raw-body routes included
    before = counts(runtime)
    for method, path in routes:
        for case, body, ptr in HOSTILE:
            r = client.request(
                method, path, content=body, headers={"Authorization": f"Bearer {tokens['admin']}", "Content-Type": JSON}
            )
            assert r.status_code == 400, (method, path, case, r.status_code, r.text[:300])
            assert refusal(r, path) == ("invalid-json", ptr), (path, case, r.text[:300])
    assert without_audit(counts(runtime)) == without_audit(before)


def test_lone_surrogate_title_is_refused_and_reads_stay_up(
    client: TestClient, tokens: dict[str, str], runtime: Runtime
) -> None:
    """Issue 13: the title "\\ud800" answered 500 but was stored; delivery and audit then stayed 500."""
    editor = {"Authorization": f"Bearer {tokens['editor']}", "Content-Type": JSON}
    before = counts(runtime)
    body = rb'{"data": {"en": {"slug": "evil", "title": "\ud800", "body": "x"}}}'
    r = client.post("/v1/manage/entries/doc", content=body, headers=editor)
    assert r.status_code == 400, r.text
    assert r.json()["errors"] == [
        {
            "pointer": "/data/en/title",
            "message": "string contains a lone UTF-16 surrogate (not valid Unicode)",
            "keyword": "i-json",
        }
    ]
    assert counts(runtime) == before
    assert client.get("/v1/entries/doc").status_code == 200
    assert client.get("/v1/manage/audit", headers={"Authorization": f"Bearer {tokens['admin']}"}).status_code == 200


@pytest.mark.parametrize("price", [b"Infinity", b"-Infinity", b"NaN", b"1e400", b"-1e400", b"9007199254740993"])
def test_pricing_plan_with_a_non_finite_or_unsafe_price_is_refused(
    client: TestClient, tokens: dict[str, str], runtime: Runtime, price: bytes
) -> None:
    """Issue 13: "price": Infinity passed "minimum: 0", was stored, and every read of it answered 500."""
    before = counts(runtime)
    body = (
        b'{"data": {"en": {"id": "evil", "name": "Evil", "price": ' + price + b', "currency": "EUR", "features": []}}}'
    )
    r = client.post(
        "/v1/manage/entries/pricing-plan",
        content=body,
        headers={"Authorization": f"Bearer {tokens['editor']}", "Content-Type": JSON},
    )
    assert r.status_code == 400, r.text
    assert r.json()["errors"][0]["pointer"] == "/data/en/price"
    assert counts(runtime) == before
    assert client.get("/v1/entries/pricing-plan").status_code == 200


def test_a_chunked_body_over_the_limit_is_413(client: TestClient, tokens: dict[str, str], runtime: Runtime) -> None:
    """Issue 13: an 11 MB chunked body answered 400 "send UTF-8 encoded JSON" instead of 413."""
    before = counts(runtime)

    def chunks() -> Iterator[bytes]:
        yield b'{"data": {"en": {"title": "'
        for _ in range(11 * 16):
            yield b"x" * 65536
        yield b'"}}}'

    for path in ("/v1/manage/entries/doc", "/v1/manage/webhooks", "/v1/manage/tokens"):
        r = client.post(
            path, content=chunks(), headers={"Authorization": f"Bearer {tokens['admin']}", "Content-Type": JSON}
        )
        assert r.status_code == 413, (path, r.status_code, r.text[:200])
        assert r.headers["content-type"] == "application/problem+json"
        assert "larger than" in r.json()["detail"]
    assert counts(runtime) == before


@pytest.mark.parametrize(
    ("case", "field", "value"),
    [
        ("NaN", "price", float("nan")),
        ("Infinity", "price", math.inf),
        ("unsafe integer", "price", 2**60),
        ("lone surrogate", "name", "\ud800"),
        ("NUL in a value", "name", "a\x00b"),
    ],
)
def test_the_store_refuses_what_it_could_not_serve_whatever_the_door(
    runtime: Runtime, case: str, field: str, value: Any
) -> None:
    """Defence in depth, past the HTTP gate: the action every door calls (API, admin, CLI) hands the
    value to the store, whose write transaction refuses it (422) and rolls back: nothing is stored."""
    before = counts(runtime)
    data = {
        "en": {"id": "evil", "name": "Evil", "price": 1, "currency": "EUR", "features": []},
        "de-DE": {"name": "Böse", "features": []},
    }
    data["en"][field] = value
    with pytest.raises(CharterError) as info:
        create_entry(runtime, SYSTEM, "pricing-plan", data)
    assert info.value.status == 422, (case, info.value)
    if isinstance(info.value, strictjson.UnservableValue):
        assert info.value.errors[0].pointer == f"/en/{field}"
    assert counts(runtime) == before


@pytest.mark.parametrize(
    ("ctype", "body"),
    [
        ("text/plain", b'{"model": "demo", "messages": [{"role": "user", "content": "hi"}]}'),
        ("application/x-www-form-urlencoded", b"model=demo&messages=hi"),
        (
            "multipart/form-data; boundary=x",
            b"--x\r\nContent-Disposition: form-data; name=model\r\n\r\ndemo\r\n--x--\r\n",
        ),
        ("", b'{"model": "demo", "messages": [{"role": "user", "content": "hi"}]}'),
    ],
)
def test_chat_completions_refuses_bodies_not_declared_json(
    client: TestClient, runtime: Runtime, ctype: str, body: bytes
) -> None:
    """Issue 13: a simple cross-site request (text/plain or a form) must not spend quota. It is
    refused before routing, and audited as such (one ``refused`` record), like every refusal."""
    before = counts(runtime)
    headers = {"Content-Type": ctype} if ctype else {}
    r = client.post("/v1/chat/completions", content=body, headers=headers)
    assert r.status_code == 415, r.text
    assert r.json()["error"]["code"] == "unsupported_media_type"
    assert r.json()["error"]["type"] == "invalid_request_error"
    after = counts(runtime)
    assert without_audit(after) == without_audit(before)
    assert after["gateway_calls"] == before["gateway_calls"] + 1


@pytest.mark.parametrize(("case", "body", "ptr"), [c for c in HOSTILE if c[2]], ids=[c[0] for c in HOSTILE if c[2]])
def test_chat_completions_refuses_hostile_json_in_the_openai_shape(
    client: TestClient, case: str, body: bytes, ptr: str
) -> None:
    r = client.post("/v1/chat/completions", content=body, headers={"Content-Type": JSON})
    assert r.status_code == 400, r.text
    error = r.json()["error"]
    assert error["code"] == "invalid_json" and error["param"] == ptr, error
