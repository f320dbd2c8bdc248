"""The lean Redis client behind the shared limits: the RESP2 parser on every way a reply can be
cut, and the client against the real Redis (pipelining, databases, scripts, failures)."""

from __future__ import annotations

import asyncio
import socket
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import redis

from charter.gateway.resp import RedisClient, RedisUnavailable, ReplyError, Script, encode, parse
from tests.services import free_port, require_redis

REPLIES: list[tuple[bytes, Any]] = [
    (b"+OK\r\n", b"OK"),
    (b":42\r\n", 42),
    (b":-3\r\n", -3),
    (b"$5\r\nhe\r\no\r\n", b"he\r\no"),
    (b"$0\r\n\r\n", b""),
    (b"$-1\r\n", None),
    (b"*-1\r\n", None),
    (b"*0\r\n", []),
    (b"*3\r\n$2\r\nok\r\n:1\r\n*1\r\n$-1\r\n", [b"ok", 1, [None]]),
]


@pytest.mark.parametrize(("wire", "value"), REPLIES)
def test_parse_every_reply_kind_and_every_cut(wire: bytes, value: Any) -> None:
    assert parse(wire, 0) == (value, len(wire))
    assert parse(b"xx" + wire + b"+next\r\n", 2) == (value, 2 + len(wire))
    for cut in range(len(wire)):
        assert parse(wire[:cut], 0) is None, cut


def test_parse_error_replies_and_garbage() -> None:
    error, end = parse(b"-NOSCRIPT No matching script\r\n", 0)  # type: ignore[misc]
    assert isinstance(error, ReplyError) and str(error).startswith("NOSCRIPT") and end == 30
    with pytest.raises(ValueError, match="not a RESP2 reply"):
        parse(b"HTTP/1.1 200 OK\r\n", 0)


def test_encode() -> None:
    assert (
        encode(("SET", "k", b"v\r\n", 3, 0.5))
        == b"*5\r\n$3\r\nSET\r\n$1\r\nk\r\n$3\r\nv\r\n\r\n$1\r\n3\r\n$3\r\n0.5\r\n"
    )


@pytest.fixture
def prefix() -> Iterator[str]:
    url = require_redis()
    value = f"charter:test:resp:{uuid.uuid4().hex[:10]}:"
    yield value
    for db in (0, 3):
        client = redis.Redis.from_url(url, db=db)
        for key in client.scan_iter(value + "*"):
            client.delete(key)
        client.close()


def _url(db: int = 0) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(require_redis())
    return f"redis://{parts.hostname}:{parts.port or 6379}/{db}"


def test_pipelined_commands_get_their_own_replies(prefix: str) -> None:
    client = RedisClient(_url(), timeout=2.0)

    async def go() -> tuple[list[Any], Any, Any]:
        # 300 commands in flight on one connection at once, each awaiting its own reply.
        counts = await asyncio.gather(*(client.call("INCR", prefix + "n") for _ in range(300)))
        await client.call("SET", prefix + "big", b"x" * 1_000_000)  # a reply in many TCP segments
        big = await client.call("GET", prefix + "big")
        missing = await client.call("GET", prefix + "missing")
        await client.aclose()
        return counts, big, missing

    counts, big, missing = asyncio.run(go())
    assert sorted(counts) == list(range(1, 301)) and counts == sorted(counts)  # replies in order
    assert big == b"x" * 1_000_000 and missing is None


def test_the_database_of_the_url_is_selected(prefix: str) -> None:
    client = RedisClient(_url(3), timeout=2.0)

    async def go() -> None:
        await client.call("SET", prefix + "where", "db3")
        await client.aclose()

    asyncio.run(go())
    assert redis.Redis.from_url(_url(3)).get(prefix + "where") == b"db3"
    assert redis.Redis.from_url(_url(0)).get(prefix + "where") is None


def test_scripts_run_by_sha_after_their_first_eval(prefix: str) -> None:
    script = Script(f"-- {uuid.uuid4()}\nreturn {{KEYS[1], ARGV[1], redis.call('INCR', KEYS[1])}}")
    client = RedisClient(_url(), timeout=2.0)

    async def go() -> list[Any]:
        out = [await client.run(script, (prefix + "s",), ("a",)) for _ in range(2)]  # NOSCRIPT, then by sha
        await client.aclose()
        return out

    assert asyncio.run(go()) == [[(prefix + "s").encode(), b"a", 1], [(prefix + "s").encode(), b"a", 2]]
    assert redis.Redis.from_url(_url()).script_exists(script.sha) == [True]


def test_error_replies_raise_and_the_connection_stays_usable(prefix: str) -> None:
    client = RedisClient(_url(), timeout=2.0)

    async def go() -> Any:
        await client.call("SET", prefix + "str", "v")
        with pytest.raises(ReplyError, match="WRONGTYPE"):
            await client.call("LPUSH", prefix + "str", "x")
        value = await client.call("GET", prefix + "str")
        await client.aclose()
        return value

    assert asyncio.run(go()) == b"v"


def test_refused_and_silent_servers_are_unavailable_within_the_timeout() -> None:
    async def refused() -> None:
        await RedisClient(f"redis://127.0.0.1:{free_port()}/0", timeout=0.5).call("PING")

    with pytest.raises(RedisUnavailable, match="cannot connect"):
        asyncio.run(refused())

    silent = socket.socket()  # accepts connections (the kernel does), never answers
    silent.bind(("127.0.0.1", free_port()))
    silent.listen(8)
    client = RedisClient(f"redis://127.0.0.1:{silent.getsockname()[1]}/0", timeout=0.6)

    async def hang() -> list[Any]:
        started = time.monotonic()
        # Ten callers at once: each waits one timeout, not one per caller before it.
        out = await asyncio.gather(*(client.call("PING") for _ in range(10)), return_exceptions=True)
        assert time.monotonic() - started < 4.0  # one 0.6 s timeout, not ten in a row (loose: CI load)
        return out

    try:
        results = asyncio.run(hang())
    finally:
        silent.close()
    assert all(isinstance(r, RedisUnavailable) and "no reply within 0.6 s" in str(r) for r in results)


def test_the_password_of_the_url_is_sent_and_a_refusal_is_an_error() -> None:
    from urllib.parse import urlsplit

    parts = urlsplit(_url())
    # Not the test server's password (it usually has none): AUTH is refused, and so is the connection.
    client = RedisClient(f"redis://:not-the-password@{parts.hostname}:{parts.port}/0", timeout=2.0)
    with pytest.raises(ReplyError, match=r"AUTH|WRONGPASS"):
        asyncio.run(client.call("PING"))


@pytest.mark.parametrize("url", ["http://127.0.0.1:6379", "redis://127.0.0.1:6379/cache", "unix:///tmp/redis.sock"])
def test_unsupported_urls_are_refused(url: str) -> None:
    with pytest.raises(ValueError, match=r"(?i)redis"):
        RedisClient(url, timeout=1.0)
