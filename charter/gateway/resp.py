"""A lean Redis client for the gateway's shared limits (:mod:`charter.gateway.limits`).

RESP2 over one asyncio connection per event loop. Commands are pipelined: each is written at
once and the replies are matched in order, so concurrent requests share the connection without a
lock or a pool. URLs: ``redis://`` and ``rediss://`` (TLS with the system's CA store), with an
optional user and password (``AUTH``) and database number (``SELECT``); not Cluster or Sentinel.

Why not redis-py's asyncio client: it costs about 0.2 ms of CPU a command, close to half of a
whole gateway request; this costs a few tens of microseconds (the reasoning of the HTTP providers'
transport, :mod:`charter.gateway.providers.transport`).

Every failure (a refused or dropped connection, ``timeout`` passed, an error reply) raises
:class:`RedisUnavailable`. A command that timed out closes its connection, whose later replies
could no longer be matched; the next command opens a fresh one.
"""

from __future__ import annotations

import asyncio
import hashlib
import ssl
from collections import deque
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

Arg = bytes | str | int | float


class RedisUnavailable(Exception):
    """Redis could not be asked, or answered with an error."""


class ReplyError(RedisUnavailable):
    """An error reply (``-ERR ...``, ``-NOSCRIPT ...``)."""


@dataclass(frozen=True)
class Script:
    """A Lua script, run by its SHA-1 (``EVALSHA``) and sent whole only when Redis lacks it."""

    source: str
    sha: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "sha", hashlib.sha1(self.source.encode()).hexdigest())


def encode(args: tuple[Arg, ...]) -> bytes:
    """One command as a RESP array of bulk strings."""
    out = [b"*%d\r\n" % len(args)]
    for arg in args:
        data = arg if isinstance(arg, bytes) else str(arg).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(out)


def parse(buf: bytes | bytearray, pos: int) -> tuple[Any, int] | None:
    """The reply starting at ``pos`` and the position after it; None while it is incomplete.
    Bulk strings are bytes, nil is None, an error reply is a :class:`ReplyError` (returned)."""
    end = buf.find(b"\r\n", pos)
    if end < 0:
        return None
    kind, line = buf[pos], bytes(buf[pos + 1 : end])
    if kind == 0x24:  # $ bulk string
        size = int(line)
        if size < 0:
            return None, end + 2
        start = end + 2
        if len(buf) < start + size + 2:
            return None
        return bytes(buf[start : start + size]), start + size + 2
    if kind == 0x2A:  # * array
        count = int(line)
        if count < 0:
            return None, end + 2
        items: list[Any] = []
        at = end + 2
        for _ in range(count):
            parsed = parse(buf, at)
            if parsed is None:
                return None
            item, at = parsed
            items.append(item)
        return items, at
    if kind == 0x2B:  # + simple string
        return line, end + 2
    if kind == 0x3A:  # : integer
        return int(line), end + 2
    if kind == 0x2D:  # - error
        return ReplyError(line.decode("utf-8", "replace")), end + 2
    raise ValueError(f"not a RESP2 reply: {bytes(buf[pos : pos + 16])!r}")


class _Connection(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.waiting: deque[asyncio.Future[Any]] = deque()
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        buf: bytes | bytearray = data
        if self.buffer:
            self.buffer += data
            buf = self.buffer
        pos = 0
        try:
            while self.waiting:
                parsed = parse(buf, pos)
                if parsed is None:
                    break
                value, pos = parsed
                waiter = self.waiting.popleft()
                if waiter.done():  # timed out or cancelled: the reply is dropped
                    continue
                if isinstance(value, ReplyError):
                    waiter.set_exception(value)
                else:
                    waiter.set_result(value)
        except ValueError as exc:
            self._fail(RedisUnavailable(f"malformed reply ({exc})"))
            self.close()
            return
        if buf is self.buffer:
            del self.buffer[:pos]
        elif pos < len(data):
            self.buffer += data[pos:]

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._fail(RedisUnavailable(f"connection lost ({exc or 'closed by the server'})"))

    def _fail(self, exc: RedisUnavailable) -> None:
        while self.waiting:
            waiter = self.waiting.popleft()
            if not waiter.done():
                waiter.set_exception(exc)
                waiter.exception()  # retrieved: its caller may have left already

    def send(self, payload: bytes) -> asyncio.Future[Any]:
        assert self.transport is not None
        waiter = asyncio.get_running_loop().create_future()
        self.waiting.append(waiter)
        self.transport.write(payload)
        return waiter

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()


class RedisClient:
    """``await client.call("INCR", "k")``; ``await client.run(script, keys, args)``."""

    def __init__(self, url: str, timeout: float) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("redis", "rediss"):
            raise ValueError(f"the gateway's limits need a redis:// or rediss:// URL, not {url!r}")
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 6379
        self.tls = parts.scheme == "rediss"
        self.username = unquote(parts.username) if parts.username else ""
        self.password = unquote(parts.password) if parts.password else ""
        db = parts.path.strip("/")
        if db and not db.isdigit():
            raise ValueError(f"the database in a Redis URL is a number, not {db!r}")
        self.db = int(db or 0)
        self.timeout = timeout
        self._conn: _Connection | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._opening: asyncio.Task[_Connection] | None = None

    async def _connection(self) -> _Connection:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:  # a new event loop (tests): the old one's connection is unusable
            self._loop, self._conn, self._opening = loop, None, None
        # One attempt at a time, shared by every caller that finds no connection (so a Redis that
        # does not answer costs each of them one timeout, not one per caller queued before it).
        opening = self._opening
        if opening is None:
            opening = self._opening = loop.create_task(self._open(loop))
            opening.add_done_callback(self._opened)
        return await asyncio.shield(opening)

    def _opened(self, task: asyncio.Task[_Connection]) -> None:
        if self._opening is task:
            self._opening = None
        if not task.cancelled() and task.exception() is None:
            self._conn = task.result()

    async def _open(self, loop: asyncio.AbstractEventLoop) -> _Connection:
        where = f"{self.host}:{self.port}"
        try:
            async with asyncio.timeout(self.timeout):
                _, conn = await loop.create_connection(
                    _Connection,
                    self.host,
                    self.port,
                    ssl=ssl.create_default_context() if self.tls else None,
                    server_hostname=self.host if self.tls else None,
                )
                hello: list[tuple[Arg, ...]] = []
                if self.password:
                    hello.append(("AUTH", self.username, self.password) if self.username else ("AUTH", self.password))
                if self.db:
                    hello.append(("SELECT", self.db))
                try:
                    for waiter in [conn.send(encode(command)) for command in hello]:
                        await waiter
                except BaseException:
                    conn.close()
                    raise
        except TimeoutError:
            raise RedisUnavailable(f"timed out connecting to {where}") from None
        except OSError as exc:
            raise RedisUnavailable(f"cannot connect to {where}: {exc}") from None
        return conn

    async def call(self, *args: Arg) -> Any:
        """Send one command and wait for its reply. The command is written before the first
        wait whenever a connection is open, so a caller cancelled while waiting still has it run."""
        conn = self._conn
        if conn is None or conn.closed or self._loop is not asyncio.get_running_loop():
            conn = await self._connection()
        waiter = conn.send(encode(args))
        timer = asyncio.get_running_loop().call_later(self.timeout, self._expire, conn, waiter)
        try:
            return await waiter
        finally:
            timer.cancel()

    def _expire(self, conn: _Connection, waiter: asyncio.Future[Any]) -> None:
        if not waiter.done():
            waiter.set_exception(RedisUnavailable(f"no reply within {self.timeout} s"))
            conn.close()

    async def run(self, script: Script, keys: tuple[str, ...], args: tuple[Arg, ...]) -> Any:
        """Run ``script`` (``EVALSHA``, falling back to ``EVAL`` when Redis does not know it yet)."""
        try:
            return await self.call("EVALSHA", script.sha, len(keys), *keys, *args)
        except ReplyError as exc:
            if not str(exc).startswith("NOSCRIPT"):
                raise
        return await self.call("EVAL", script.source, len(keys), *keys, *args)

    async def aclose(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
