"""The one conditional-request rule (RFC 9110 §13.1.2) the delivery routes, the fast path and
pinned responses share; the routes' own answers are tested in test_delivery/test_fastpath/test_migrate."""

from __future__ import annotations

import pytest

from charter.delivery.http_caching import etag_of, if_none_match, public_cache_control

ETAG = etag_of(b'{"a":1}')


@pytest.mark.parametrize(
    ("header", "matches"),
    [
        (None, False),
        ("", False),
        (b"", False),
        (ETAG, True),
        (ETAG.encode(), True),
        (f"W/{ETAG}", True),  # weak comparison
        (f'"other", {ETAG}', True),
        (f' "other" ,W/{ETAG} ', True),
        ('"other"', False),
        (ETAG[:-2] + '"', False),
        ("*", True),
        (b" * ", True),
        ('"*"', False),  # a quoted star is an entity tag, not the wildcard
    ],
)
def test_if_none_match(header: str | bytes | None, matches: bool) -> None:
    assert if_none_match(header, ETAG) is matches


def test_etag_is_strong_and_covers_the_bytes() -> None:
    assert ETAG.startswith('"') and ETAG.endswith('"') and len(ETAG) == 26
    assert etag_of(b'{"a":2}') != ETAG and etag_of(b'{"a":1}') == ETAG


def test_cache_control() -> None:
    assert public_cache_control(60) == "public, max-age=60"
    assert public_cache_control(60, 30) == "public, max-age=60, stale-while-revalidate=30"
