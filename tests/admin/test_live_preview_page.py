"""The editor's live preview (docs/frontend.md): the demo frames the example front end for pages;
a front-end URL the allow-list does not cover is refused with a 400 page, never framed; viewers
(who may not mint preview tokens) get no frame; the page's CSP frames that one origin only."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest

from charter.content import store
from charter.runtime import Runtime


def _entry(runtime: Runtime, type_name: str, slug: str | None = None) -> str:
    with runtime.read() as conn:
        if slug:
            found = store.published_by_slug(conn, type_name, slug)
            assert found is not None
            return found[0].id
        return store.list_entries(conn, type_name=type_name)[0].id


def test_a_page_offers_the_live_preview_and_frames_the_configured_front_end(as_role: Any, runtime: Runtime) -> None:
    client, _ = as_role("editor")
    entry_id = _entry(runtime, "page", "home")
    plain = client.get(f"/admin/content/{entry_id}")
    assert f'href="/admin/content/{entry_id}?preview=1">Live preview</a>' in plain.text
    r = client.get(f"/admin/content/{entry_id}?preview=1")
    assert r.status_code == 200
    assert 'src="http://localhost:8080/index.html?slug=home&amp;preview=cpt' in r.text
    assert "charter=http%3A%2F%2Ftestserver" in r.text
    assert "frame-src http://localhost:8080" in r.headers["content-security-policy"]
    assert 'data-origin="http://localhost:8080"' in r.text
    again = client.get(f"/admin/content/{entry_id}?preview=1")  # the live token is reused
    token = r.text.split('data-token="')[1].split('"')[0]
    assert token in again.text


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example/",
        "http://localhost:8081/index.html",  # another port
        "https://localhost:8080/index.html",  # another scheme
        "http://user@localhost:8080/index.html",  # credentials
        "javascript:alert(1)",
        "//localhost:8080/",
    ],
)
def test_a_front_end_url_not_allowed_is_refused(as_role: Any, runtime: Runtime, url: str) -> None:
    client, _ = as_role("editor")
    r = client.get(f"/admin/content/{_entry(runtime, 'page', 'home')}?frontend={quote(url, safe='')}")
    assert r.status_code == 400
    assert "is not allowed by [charter.frontend] allow" in r.text
    assert "<iframe" not in r.text and "frame-src" not in r.headers["content-security-policy"]


def test_a_type_without_a_preview_url_and_a_viewer_get_no_frame(as_role: Any, runtime: Runtime) -> None:
    editor, _ = as_role("editor")
    doc = _entry(runtime, "doc")
    assert "Live preview</a>" not in editor.get(f"/admin/content/{doc}").text
    r = editor.get(f"/admin/content/{doc}?preview=1")
    assert r.status_code == 400 and "No front-end preview URL is configured for" in r.text
    viewer, _ = as_role("viewer")
    home = _entry(runtime, "page", "home")
    assert "Live preview</a>" not in viewer.get(f"/admin/content/{home}").text
    assert viewer.get(f"/admin/content/{home}?preview=1").status_code == 403
