"""Vendored front-end files are the npm packages' own bytes, served cached and compressed, and
no admin page loads more than 100 KB of JavaScript."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from charter.admin.web import STATIC, static_files

BUDGET = 100 * 1024


def test_vendored_files_match_their_manifests() -> None:
    for folder in (STATIC / "vendor", Path(__file__).parent / "vendor"):
        manifest = json.loads((folder / "manifest.json").read_text())
        for name, info in manifest["files"].items():
            digest = hashlib.sha256((folder / name).read_bytes()).hexdigest()
            assert digest == info["sha256"], f"{folder / name} differs from {info['package']}@{info['version']}"
            assert info["license"]
    assert not list(STATIC.rglob("axe*")), "axe-core is for tests only"


def test_static_files_are_cached_and_compressed(client) -> None:  # type: ignore[no-untyped-def]
    name = "vendor/htmx.min.js"
    f = static_files()[name]
    r = client.get(f"/admin/static/{name}?v={f.etag.strip(chr(34))[:12]}", headers={"Accept-Encoding": "gzip"})
    assert r.status_code == 200 and r.headers["content-encoding"] == "gzip"
    assert r.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert r.content == f.body  # decoded by the client
    assert client.get(f"/admin/static/{name}", headers={"If-None-Match": f.etag}).status_code == 304
    assert client.get("/admin/static/vendor/htmx.min.js").headers["cache-control"] == "public, max-age=300"
    assert client.get("/admin/static/../../app.py").status_code == 404
    assert client.get("/admin/static/nope.js").status_code == 404


def _scripts(html: str) -> list[str]:
    return re.findall(r'<script src="/admin/static/([^"?]+)', html)


def test_every_page_stays_under_the_javascript_budget(as_role) -> None:  # type: ignore[no-untyped-def]
    client, _ = as_role("admin")
    files = static_files()
    html = client.get("/admin/content").text
    ids = re.findall(r'href="/admin/content/([0-9a-f-]{36})"', html)
    pages = ["/admin/login", "/admin", "/admin/content", f"/admin/content/{ids[0]}", "/admin/users"]
    from charter.admin.pages import PAGES

    pages += [href for href, *_ in PAGES]
    for path in pages:
        page = client.get(path)
        total = sum(len(files[s].body) for s in _scripts(page.text))
        assert 0 < total <= BUDGET, (path, total)
        assert "<script>" not in page.text and " on" + "click=" not in page.text  # no inline script (CSP)
