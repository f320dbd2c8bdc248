"""The media library in Chromium at 1280 and 390 px: upload a file (with and without alt text),
find it, edit its alt text and focal point; axe-core on every state (no serious or critical
violation), no sideways scrolling, no script error."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from charter.runtime import Runtime
from tests.admin.test_browser import browser, check, live, new_page, sign_in  # noqa: F401 (fixtures)
from tests.assets.images import image_bytes

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.mark.parametrize("width", [1280, 390])
def test_media_journey(live: tuple[str, Runtime], browser: Any, width: int, tmp_path: Path) -> None:  # noqa: F811
    base, _rt = live
    photo = tmp_path / f"harbour-{width}.jpg"
    photo.write_bytes(image_bytes("JPEG", (1200, 800), (20, 90, 160 + width % 90)))
    page = new_page(browser, width)
    sign_in(page, base, "ana")
    page.goto(f"{base}/admin/media")
    check(page, "media-empty-or-list", width)
    page.set_input_files("#file", str(photo))
    page.click("#upload-form button[type=submit]")
    page.wait_for_selector("#upload-error")  # no alt text, not decorative: refused, shown on the page
    check(page, "media-upload-error", width)
    page.set_input_files("#file", str(photo))
    page.fill("#alt", "Boats in a harbour at dawn")
    page.click("#upload-form button[type=submit]")
    page.wait_for_url(f"{base}/admin/media/*")
    assert "Uploaded." in page.inner_text("main")
    check(page, "media-edit", width)
    page.fill("#alt-2", "Boote in einem Hafen")
    page.fill("#locale-2", "de")
    page.fill("#focal_x", "0.3")
    page.fill("#focal_y", "0.6")
    page.click("#meta-form button[type=submit]")
    page.wait_for_url("**done=saved")
    assert page.input_value("#focal_x") == "0.3"
    check(page, "media-saved", width)
    page.goto(f"{base}/admin/media?q=harbour-{width}")
    assert page.locator(".media-card img[alt='Boats in a harbour at dawn']").count() == 1
    check(page, "media-search", width)
    page.context.close()
