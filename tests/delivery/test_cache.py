"""The in-process response cache: LRU bound, purge by tag, the purge/fill race, TTL."""

from __future__ import annotations

import time

from charter.delivery.cache import CachedResponse, MemoryCache, NullCache


def response(*keys: str) -> CachedResponse:
    return CachedResponse(b"{}", '"x"', keys)


def test_purge_by_tag_drops_every_tagged_response() -> None:
    cache = MemoryCache()
    g = cache.generation()
    cache.set("page|home|", response("entry:home", "entry:plan"), g)
    cache.set("page|pricing|", response("entry:pricing", "entry:plan"), g)
    cache.set("page|about|", response("entry:about"), g)
    assert cache.purge(["entry:plan"]) == 2
    assert cache.get("page|home|") is None and cache.get("page|pricing|") is None
    assert cache.get("page|about|") is not None
    assert cache.purge(["entry:plan"]) == 0


def test_a_fill_that_raced_with_a_purge_is_dropped() -> None:
    cache = MemoryCache()
    before = cache.generation()  # a reader starts rendering...
    cache.purge(["entry:home"])  # ...a publish purges meanwhile...
    cache.set("page|home|", response("entry:home"), before)  # ...the stale render must not stick
    assert cache.get("page|home|") is None
    cache.set("page|home|", response("entry:home"), cache.generation())
    assert cache.get("page|home|") is not None


def test_lru_bound_evicts_the_least_recently_used() -> None:
    cache = MemoryCache(max_entries=2)
    g = cache.generation()
    cache.set("a", response("entry:a"), g)
    cache.set("b", response("entry:b"), g)
    assert cache.get("a") is not None  # a is now the most recent
    cache.set("c", response("entry:c"), g)
    assert cache.get("b") is None and cache.get("a") is not None and cache.get("c") is not None
    assert cache.purge(["entry:b"]) == 0  # its tags went with it


def test_ttl_expires_entries() -> None:
    cache = MemoryCache(ttl=0.05)
    cache.set("a", response("entry:a"), cache.generation())
    assert cache.get("a") is not None
    time.sleep(0.08)
    assert cache.get("a") is None
    assert cache.purge(["entry:a"]) == 0


def test_off_never_stores() -> None:
    cache = NullCache()
    cache.set("a", response("entry:a"), cache.generation())
    assert cache.get("a") is None
