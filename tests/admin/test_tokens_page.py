"""The design-token page: swatches per theme with their contrast results (charter.tokens.check)."""

from __future__ import annotations

import re


def test_tokens_page_shows_swatches_and_contrast_per_theme(as_role) -> None:  # type: ignore[no-untyped-def]
    client, _ = as_role("viewer")
    page = client.get("/admin/tokens")
    assert page.status_code == 200
    assert "Theme " in page.text and "Contrast pairs in" in page.text
    fills = re.findall(r'<rect [^>]*fill="(#[0-9a-f]{6})"', page.text)
    assert fills, "no colour swatch"
    assert "passes" in page.text
    assert "style=" not in page.text  # swatches are SVG fills: no inline style (CSP)
