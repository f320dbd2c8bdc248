"""HTTP conformance (issue 13): every route answers OPTIONS with ``Allow``; the API reference
(/docs, /redoc) is served from assets vendored in the package, nothing from a CDN."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from fastapi.testclient import TestClient

from charter.http.apidocs import CSP, STATIC
from tests.api.routes import api_routes


def test_every_route_answers_options_with_allow(client: TestClient) -> None:
    routes = api_routes(client.app)
    assert len(routes) > 50
    for path, route in routes:
        if getattr(route.endpoint, "charter_fallback", False):
            continue  # the admin's "no such page": see the next test
        concrete = re.sub(r"\{[^}]+\}", "x", path)
        r = client.options(concrete)
        assert r.status_code == 204, (path, r.status_code, r.text[:200])
        allowed = {m.strip() for m in r.headers["allow"].split(",")}
        assert route.methods <= allowed and "OPTIONS" in allowed, (path, allowed, route.methods)
        assert r.content == b""


def test_allow_lists_every_route_of_a_path_and_no_fallback(client: TestClient) -> None:
    r = client.options("/v1/manage/entries/00000000-0000-4000-8000-000000000000")
    # POST too: the router sends it to POST /v1/manage/entries/{type_name} (an unknown type, 404).
    assert r.headers["allow"] == "GET, POST, PUT, DELETE, OPTIONS"
    # The admin's "no such page" catch-all answers every method with a 404 page: not listed.
    assert client.options("/admin/login").headers["allow"] == "GET, POST, OPTIONS"
    r = client.options("/no/such/route")
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"


def test_api_reference_is_served_from_vendored_assets(client: TestClient) -> None:
    for page in ("/docs", "/redoc"):
        r = client.get(page)
        assert r.status_code == 200 and r.headers["content-security-policy"] == CSP
        urls = re.findall(r'(?:src|href)="([^"]+)"', r.text)
        assert urls and all(u.startswith("/docs/static/") for u in urls), urls
        assert "http://" not in r.text and "https://" not in r.text
        for url in urls:
            asset = client.get(url)
            assert asset.status_code == 200 and "immutable" in asset.headers["cache-control"], url
            name = url.split("?")[0].rsplit("/", 1)[1]
            assert asset.content == (STATIC / name).read_bytes()
            again = client.get(url, headers={"If-None-Match": asset.headers["etag"]})
            assert again.status_code == 304
    assert client.get("/docs/static/nope.js").status_code == 404
    assert "script-src 'self';" in CSP and "connect-src 'self';" in CSP  # nothing from another host


def test_vendored_files_are_the_npm_packages_bytes() -> None:
    """VENDORED.md records the sha256 of each file as copied from the npm tarballs."""
    listed = re.findall(r"^    ([0-9a-f]{64})  (\S+)$", (STATIC / "VENDORED.md").read_text(), re.M)
    assert {name for _, name in listed} >= {"swagger-ui-bundle.js", "swagger-ui.css", "redoc.standalone.js"}
    for digest, name in listed:
        assert hashlib.sha256(Path(STATIC / name).read_bytes()).hexdigest() == digest, name
