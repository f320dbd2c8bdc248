"""Hypothesis over the admin's forms (issue 13): the entry form of every content type, filled
with hostile values (NaN, Infinity, 1e400, integers beyond 2**53, NUL, lone surrogates sent as
raw bytes, JSON with such values), and every other admin POST form with arbitrary fields. Every
example gets a page with a 4xx or a success (never a 5xx); after a 4xx every table is unchanged."""

from __future__ import annotations

import os
import re
from typing import Any
from urllib.parse import quote_from_bytes

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from charter.runtime import Runtime
from tests.admin.htmlforms import form_fields
from tests.api.routes import api_routes
from tests.api.test_hostile_json import counts

EXAMPLES = int(os.environ.get("CHARTER_HOSTILE_EXAMPLES", "60"))
TYPES = ["page", "doc", "pricing-plan", "marketing-claim", "legal-text"]
HOSTILE = [
    "NaN", "Infinity", "-Infinity", "1e400", "9007199254740993", "-99999999999999999999999", "0x10",
    "\x00", "a\x00b", "\ud800", "x\udfffy", '{"a": NaN}', '[1e999]', '{"\\u0000": 1}', '"\\ud800"',
    " ", "", "<script>alert(1)</script>", "../../etc/passwd",
]  # fmt: skip
values = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=12))


def encode(fields: list[tuple[str, str]]) -> bytes:
    """application/x-www-form-urlencoded, with lone surrogates sent as their raw bytes."""
    return "&".join(
        f"{quote_from_bytes(k.encode('utf-8', 'surrogatepass'))}={quote_from_bytes(v.encode('utf-8', 'surrogatepass'))}"
        for k, v in fields
    ).encode()


def post(client: TestClient, path: str, fields: list[tuple[str, str]]) -> Any:
    return client.post(
        path,
        content=encode(fields),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        follow_redirects=False,
    )


def check(runtime: Runtime, r: Any, before: dict[str, int], what: object) -> None:
    assert r.status_code < 500, (what, r.status_code, r.text[:500])
    if r.status_code >= 400:
        assert counts(runtime) == before, (what, r.status_code)


@pytest.mark.parametrize("type_name", TYPES)
def test_entry_forms_refuse_hostile_values(runtime: Runtime, as_role, type_name: str) -> None:  # type: ignore[no-untyped-def]
    client, _csrf = as_role("admin")
    page = client.get(f"/admin/content/new?type={type_name}")
    assert page.status_code == 200
    fields = form_fields(page.text, "entry-form")
    editable = [i for i, (name, _) in enumerate(fields) if name.startswith("/")]
    assert editable, fields

    @settings(max_examples=max(10, EXAMPLES // len(TYPES)), deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])  # fmt: skip
    @given(st.lists(st.tuples(st.sampled_from(editable), values), min_size=1, max_size=6))
    def fill(changes: list[tuple[int, str]]) -> None:
        sent = list(fields)
        for i, value in changes:
            sent[i] = (sent[i][0], value)
        before = counts(runtime)
        check(runtime, post(client, f"/admin/content/new?type={type_name}", sent), before, changes)

    fill()


def test_every_admin_post_form_survives_arbitrary_fields(runtime: Runtime, as_role, app) -> None:  # type: ignore[no-untyped-def]
    client, csrf = as_role("admin")
    entry_id = client.get("/v1/pages/about").json()["id"]
    paths = sorted(
        re.sub(r"\{[^}]+\}", lambda m: entry_id if "entry" in m.group(0) else "x", path)
        for path, route in api_routes(app)
        if path.startswith("/admin") and "POST" in route.methods and "{rest" not in path
        and path not in ("/admin/logout", "/admin/login")
    )  # fmt: skip
    assert len(paths) > 15, paths
    names = st.sampled_from(["title", "name", "role", "password", "revision", "version", "label", "message", "x"])

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])  # fmt: skip
    @given(st.sampled_from(paths), st.lists(st.tuples(names, values), max_size=5))
    def submit(path: str, fields: list[tuple[str, str]]) -> None:
        before = counts(runtime)
        check(runtime, post(client, path, [("csrf_token", csrf), *fields]), before, (path, fields))

    submit()
    assert client.get("/admin").status_code == 200  # still signed in, still serving
