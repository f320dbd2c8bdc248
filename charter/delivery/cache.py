"""Response caches for the delivery API, tagged by surrogate key.

* ``memory``: an in-process LRU; purge by tag.
* ``redis``: the in-process LRU in front of a shared Redis store; a purge deletes the tagged keys
  in Redis and is broadcast on a pub/sub channel so every instance drops its local copies.
* ``off``: no caching (for measuring the uncached path).

A fill that raced with a purge is dropped: ``generation()`` is read before the source is queried
and ``set`` ignores values computed under an older generation, so a purge is never undone by a
slow reader.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

import structlog

from charter.config import Settings

log = structlog.get_logger("charter.cache")


@dataclass(frozen=True)
class CachedResponse:
    body: bytes
    etag: str
    surrogate_keys: tuple[str, ...]
    status: int = 200
    #: Wire forms derived from the fields above, built on first use and kept with the response
    #: (charter.delivery.fastpath keeps its header lists here); not part of the value.
    wire: dict[bytes, Any] = field(default_factory=dict, compare=False, repr=False)


class ResponseCache(Protocol):
    def get(self, key: str) -> CachedResponse | None: ...
    def set(self, key: str, value: CachedResponse, generation: int) -> None: ...
    def generation(self) -> int: ...
    def purge(self, tags: Iterable[str]) -> int: ...
    def clear(self) -> None: ...
    def close(self) -> None: ...


class MemoryCache:
    """An LRU of ``max_entries`` responses, purged by tag; with ``ttl`` > 0 an entry also expires
    ``ttl`` seconds after it was stored (for sources that announce no publishes)."""

    def __init__(self, max_entries: int = 10_000, ttl: float = 0) -> None:
        self._data: OrderedDict[str, CachedResponse] = OrderedDict()
        self._expires: dict[str, float] = {}
        self._tags: dict[str, set[str]] = {}
        self._lock = threading.Lock()
        self._generation = 0
        self.max_entries = max_entries
        self.ttl = ttl

    def get(self, key: str) -> CachedResponse | None:
        value = self._data.get(key)
        if value is not None:
            if self.ttl and self._expires.get(key, 0) < time.monotonic():
                with self._lock:
                    stale = self._data.pop(key, None)
                    if stale is not None:
                        self._untag(key, stale)
                return None
            try:
                self._data.move_to_end(key)
            except KeyError:  # purged concurrently
                pass
        return value

    def generation(self) -> int:
        return self._generation

    def set(self, key: str, value: CachedResponse, generation: int) -> None:
        with self._lock:
            if generation != self._generation:
                return
            self._data[key] = value
            self._data.move_to_end(key)
            if self.ttl:
                self._expires[key] = time.monotonic() + self.ttl
            for tag in value.surrogate_keys:
                self._tags.setdefault(tag, set()).add(key)
            while len(self._data) > self.max_entries:
                old_key, old = self._data.popitem(last=False)
                self._untag(old_key, old)

    def _untag(self, key: str, value: CachedResponse) -> None:
        self._expires.pop(key, None)
        for tag in value.surrogate_keys:
            keys = self._tags.get(tag)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._tags[tag]

    def purge(self, tags: Iterable[str]) -> int:
        removed = 0
        with self._lock:
            self._generation += 1
            for tag in tags:
                for key in self._tags.pop(tag, set()):
                    value = self._data.pop(key, None)
                    if value is not None:
                        self._untag(key, value)
                        removed += 1
        return removed

    def clear(self) -> None:
        with self._lock:
            self._generation += 1
            self._data.clear()
            self._tags.clear()
            self._expires.clear()

    def close(self) -> None:
        pass


class NullCache(MemoryCache):
    def set(self, key: str, value: CachedResponse, generation: int) -> None:
        return None


class RedisCache:
    """Shared cache in Redis with a local LRU in front; purges broadcast by pub/sub."""

    CHANNEL = "charter:cache:purge"

    def __init__(self, url: str, max_entries: int = 10_000, prefix: str = "charter:cache:", ttl: int = 0) -> None:
        import redis

        self.prefix = prefix
        self.ttl = ttl
        self.local = MemoryCache(max_entries, ttl)
        self.redis = redis.Redis.from_url(url)
        self.redis.ping()
        self._pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
        self._pubsub.subscribe(**{self.channel: self._on_purge})
        self._thread = self._pubsub.run_in_thread(sleep_time=0.05, daemon=True)

    @property
    def channel(self) -> str:
        return self.CHANNEL + ":" + self.prefix

    def _on_purge(self, message: dict[str, Any]) -> None:
        data = message.get("data")
        if isinstance(data, bytes):
            self.local.purge(data.decode().split())

    def get(self, key: str) -> CachedResponse | None:
        value = self.local.get(key)
        if value is not None:
            return value
        generation = self.local.generation()
        raw: dict[bytes, bytes] = self.redis.hgetall(self.prefix + key)  # type: ignore[assignment]
        if not raw:
            return None
        value = CachedResponse(
            body=raw[b"body"],
            etag=raw[b"etag"].decode(),
            surrogate_keys=tuple(raw[b"keys"].decode().split()),
            status=int(raw.get(b"status", b"200")),
        )
        self.local.set(key, value, generation)
        return value

    def generation(self) -> int:
        return self.local.generation()

    def set(self, key: str, value: CachedResponse, generation: int) -> None:
        if generation != self.local.generation():
            return
        pipe = self.redis.pipeline()
        pipe.hset(
            self.prefix + key,
            mapping={
                "body": value.body,
                "etag": value.etag,
                "keys": " ".join(value.surrogate_keys),
                "status": value.status,
            },
        )
        if self.ttl:
            pipe.expire(self.prefix + key, self.ttl)
        for tag in value.surrogate_keys:
            pipe.sadd(self.prefix + "tag:" + tag, key)
        pipe.execute()
        self.local.set(key, value, generation)

    def purge(self, tags: Iterable[str]) -> int:
        tags = list(tags)
        removed = self.local.purge(tags)
        pipe = self.redis.pipeline()
        for tag in tags:
            pipe.smembers(self.prefix + "tag:" + tag)
        members = pipe.execute()
        keys = {k.decode() for group in members for k in group}
        pipe = self.redis.pipeline()
        for key in keys:
            pipe.delete(self.prefix + key)
        for tag in tags:
            pipe.delete(self.prefix + "tag:" + tag)
        pipe.publish(self.channel, " ".join(tags))
        pipe.execute()
        return removed + len(keys)

    def clear(self) -> None:
        self.local.clear()
        for key in self.redis.scan_iter(self.prefix + "*"):
            self.redis.delete(key)

    def close(self) -> None:
        try:
            self._thread.stop()
            self._thread.join(timeout=2)  # let it leave get_message before its connection closes
            self._pubsub.close()
            self.redis.close()
        except Exception:  # closing is best effort at shutdown
            log.warning("redis_cache_close_failed")


def memory_cache(settings: Settings) -> MemoryCache:
    """``cache = "memory"``: in this process, ``cache_max_entries`` at most."""
    return MemoryCache(settings.cache_max_entries, settings.cache_ttl)


def null_cache(settings: Settings) -> NullCache:
    """``cache = "off"``."""
    return NullCache()


def redis_cache(settings: Settings) -> RedisCache:
    """``cache = "redis"``: shared by every instance (``redis_url``)."""
    return RedisCache(
        settings.redis_url,
        settings.cache_max_entries,
        prefix=settings.extra.get("redis_prefix", "charter:cache:"),
        ttl=settings.cache_ttl,
    )
