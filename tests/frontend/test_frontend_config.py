"""``[charter.frontend]`` (charter.frontend.live_preview): the allow-list of front ends the admin may
frame, URL templates, and every bad table refused with the key named."""

from __future__ import annotations

from typing import Any

import pytest

from charter.exceptions import ConfigError
from charter.frontend.live_preview import FrontendUrlRefused, frame_url, frontend_config, with_preview

SITE = {
    "allow": ["https://www.lumen.example/", "http://localhost:5173/preview"],
    "preview_url": "https://www.lumen.example/{slug}",
}


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://www.lumen.example/", True),
        ("https://www.lumen.example/pricing?x=1", True),
        ("https://WWW.lumen.example/a", True),
        ("http://localhost:5173/preview", True),
        ("http://localhost:5173/preview/home", True),
        ("http://localhost:5173/previewer", False),  # a prefix is a path segment, not a string prefix
        ("http://localhost:5173/", False),
        ("http://www.lumen.example/", False),
        ("https://www.lumen.example.evil.example/", False),
        ("https://user:pw@www.lumen.example/", False),
        ("https://www.lumen.example/a b", False),
        ("javascript:alert(1)", False),
        ("", False),
    ],
)
def test_the_allow_list(url: str, allowed: bool) -> None:
    config = frontend_config(SITE)
    assert config.allowed(url) is allowed
    if not allowed:
        with pytest.raises(FrontendUrlRefused, match="is not allowed by"):
            config.check(url)


def test_templates_and_the_frame_url() -> None:
    config = frontend_config({**SITE, "types": {"doc": {"preview_url": "http://localhost:5173/preview/{type}/{id}"}}})
    assert config.template_for("page") == "https://www.lumen.example/{slug}"
    assert config.template_for("doc") == "http://localhost:5173/preview/{type}/{id}"
    assert config.origins == ("https://www.lumen.example", "http://localhost:5173")
    url = frame_url(
        "http://localhost:5173/preview/{slug}?l={locale}", type_name="page", entry_id="x", slug="a b/c", locale="de-AT"
    )
    assert url == "http://localhost:5173/preview/a%20b/c?l=de-AT"
    assert with_preview(url, "cpt1.t", "http://127.0.0.1:8000") == (
        "http://localhost:5173/preview/a%20b/c?l=de-AT&preview=cpt1.t&charter=http%3A%2F%2F127.0.0.1%3A8000"
    )


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"allow": ["www.lumen.example"]}, "not a URL prefix"),
        ({"allow": ["https://x.example/?q=1"]}, "not a URL prefix"),
        ({"allow": "ftp://x.example"}, "not a URL prefix"),
        ({"allow": [], "preview_url": "https://x.example/"}, "not covered"),
        ({"allow": ["https://x.example/"], "preview_url": "https://x.example/{nope}"}, "unknown placeholder"),
        ({"allow": ["https://x.example/"], "types": {"page": {"url": "x"}}}, "only preview_url"),
        ({"allow": ["https://x.example/"], "ttl": 5}, "ttl"),
        ({"alow": []}, "unknown key"),
    ],
)
def test_a_bad_table_is_a_config_error(table: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        frontend_config(table)
