"""The example front end (examples/frontend) against a running Charter in Chromium: the demo's home
and pricing pages rendered cross-origin with the typed client and the token CSS (CORS), and the
admin's live preview framing it beside the entry editor: a saved draft re-renders the frame without
reloading it or the editor. axe-core at 1280 and 390 pixels on both."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from charter.auth.roles import SYSTEM
from charter.config import DEMO_DIR, load_settings
from charter.runtime import Runtime
from tests.admin.conftest import FAST_HASH
from tests.admin.live import ARTIFACTS, CHROMIUM_ARGS, live_server, run_axe, serious
from tests.frontend.example_site import build_example, static_server
from tests.services import free_port, require_chromium

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PASSWORD = "ana-password-1"


@dataclass
class Site:
    charter: str
    site: str
    rt: Runtime


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    from charter.auth.users import create_user
    from charter.demo import load_demo_content

    require_chromium()
    root = tmp_path_factory.mktemp("example-site")
    project = root / "project"
    shutil.copytree(DEMO_DIR, project, ignore=shutil.ignore_patterns("__pycache__", "*.py", ".charter*"))
    site_port = free_port()
    site_origin = f"http://127.0.0.1:{site_port}"
    settings = load_settings(
        project,
        database_url=f"sqlite:///{root / 'charter.db'}",
        admin={"password_hash": FAST_HASH},
        log_json=True,
        cors={"allow_origins": [site_origin]},
        frontend={
            "allow": [site_origin + "/"],
            "types": {"page": {"preview_url": site_origin + "/index.html?slug={slug}"}},
        },
    )
    rt = Runtime.open(settings)
    load_demo_content(rt)
    create_user(rt, SYSTEM, "ana", PASSWORD, "editor", "Ana Editor")
    build_example(root / "site", project)
    try:
        with live_server(rt, free_port()) as base, static_server(root / "site", site_port) as site:
            yield Site(base, site, rt)
    finally:
        rt.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=require_chromium(), args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


def new_page(browser: Any, width: int) -> Any:
    context = browser.new_context(viewport={"width": width, "height": 900}, bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.js_errors = errors
    return page


def check(page: Any, name: str, width: int) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}-{width}.png"), full_page=True)
    violations = run_axe(page)
    assert not serious(violations), (name, width, serious(violations))
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, (name, width, f"{overflow}px of horizontal scrolling")
    assert not page.js_errors, page.js_errors


@pytest.mark.parametrize("width", [1280, 390])
def test_home_and_pricing_render_cross_origin_with_the_client_and_tokens(
    served: Site, browser: Any, width: int
) -> None:
    page = new_page(browser, width)
    page.goto(f"{served.site}/index.html?charter={served.charter}")
    page.wait_for_function("document.body.dataset.renders === '1'")
    assert page.locator("h1").inner_text() == "See what your customers do, not what you guess"
    assert page.locator(".pricing-table, section[aria-label='Simple pricing'] li.card").count() == 3
    # the token CSS styles it: the primary button is the brand's action colour
    assert page.locator(".button").first.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(37, 99, 235)"
    check(page, "example-home", width)
    page.goto(f"{served.site}/pricing.html?charter={served.charter}&locale=de-DE")
    page.wait_for_function("document.body.dataset.renders === '1'")
    assert page.locator("h1").inner_text() == "Preise"
    assert page.evaluate("document.documentElement.lang") == "de-DE"
    assert page.locator("li.card h3").all_inner_texts()[:3] == ["Starter", "Team", "Enterprise"]
    check(page, "example-pricing", width)
    page.context.close()


def test_without_cors_the_browser_refuses_the_read(served: Site, browser: Any, tmp_path: Path) -> None:
    page = new_page(browser, 1280)
    other = free_port()  # another origin, not in [charter.cors]
    with static_server(served.rt.settings.project_dir.parent / "site", other) as site:
        page.goto(f"{site}/index.html?charter={served.charter}")
        page.wait_for_function("document.body.dataset.renders === '1'")
        assert page.locator("h1").inner_text() == "Not available"
    page.context.close()


def _sign_in(page: Any, base: str) -> None:
    page.goto(f"{base}/admin/login")
    page.fill("#username", "ana")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/admin")


def _home_id(served: Site) -> str:
    from charter.content import store

    with served.rt.read() as conn:
        found = store.published_by_slug(conn, "page", "home")
    assert found is not None
    return found[0].id


@pytest.mark.parametrize("width", [1280, 390])
def test_the_editor_frames_the_front_end_and_a_saved_draft_updates_it_in_place(
    served: Site, browser: Any, width: int
) -> None:
    page = new_page(browser, width)
    _sign_in(page, served.charter)
    entry_id = _home_id(served)
    page.goto(f"{served.charter}/admin/content/{entry_id}")
    page.click("text=Live preview")
    page.wait_for_url(f"**/admin/content/{entry_id}?preview=1")
    frame_el = page.locator(".live-preview iframe")
    assert frame_el.get_attribute("src").startswith(f"{served.site}/index.html?slug=home&preview=")
    frame = page.frame_locator(".live-preview iframe")
    assert frame.locator("h1").inner_text() == page.input_value("#f-en-sections-0-title")  # the draft, as saved
    check(page, "editor-live-preview", width)

    page.evaluate("window.marker = 'editor not reloaded'")
    inner = next(f for f in page.frames if f.url.startswith(served.site))
    inner.wait_for_function("document.body.dataset.renders === '1'")
    inner.evaluate("window.marker = 'frame not reloaded'")
    title = f"Live from the editor at {width}px"
    page.fill("#f-en-sections-0-title", title)
    page.click("button[name=_action]")
    frame.locator("h1", has_text=title).wait_for(timeout=10_000)
    assert inner.evaluate("window.marker") == "frame not reloaded"
    assert page.evaluate("window.marker") == "editor not reloaded"
    assert "Saved revision" in page.locator("#live-preview-status").inner_text()
    assert page.locator("#editor-messages").inner_text().strip() == "Saved as a new revision."
    # the form took the new revision: a second save is not a conflict
    page.fill("#f-en-sections-0-title", title + " again")
    page.click("button[name=_action]")
    frame.locator("h1", has_text=title + " again").wait_for(timeout=10_000)
    assert page.locator(".conflict").count() == 0
    assert not page.js_errors, page.js_errors
    page.context.close()


def test_a_front_end_url_not_allowed_is_refused(served: Site, browser: Any) -> None:
    page = new_page(browser, 1280)
    _sign_in(page, served.charter)
    entry_id = _home_id(served)
    for url in ("https://evil.example/steal", f"{served.site.replace('127.0.0.1', 'localhost')}/index.html"):
        response = page.goto(f"{served.charter}/admin/content/{entry_id}?frontend={quote(url, safe='')}")
        assert response.status == 400
        assert "is not allowed by [charter.frontend] allow" in page.locator("main").inner_text()
        assert page.locator("iframe").count() == 0
    # an allowed one is framed, with a CSP that lets the editor frame that origin only
    response = page.goto(f"{served.charter}/admin/content/{entry_id}?frontend={served.site}/pricing.html")
    assert response.status == 200
    assert f"frame-src {served.site}" in response.headers["content-security-policy"]
    page.context.close()
