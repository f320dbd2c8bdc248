"""How HTTP providers talk to their upstream: ``post`` (a whole body) and ``stream`` (body chunks).

The default transport is a lean HTTP/1.1 client on asyncio with a keep-alive pool and the
``httptools`` response parser (the one uvicorn uses): an LLM gateway makes one upstream call per
request, and a general-purpose client costs more CPU than the rest of the request together. It
speaks plain HTTP and HTTPS (TLS with the system's CA store), content-length and chunked bodies
(RFC 9112), and retries once on a fresh connection when a pooled one turns out to be closed before
any response byte arrived (the server dropped an idle keep-alive connection; nothing was processed).

When the process has an HTTP(S) proxy configured (``HTTPS_PROXY``/``HTTP_PROXY``/``ALL_PROXY``, with
``NO_PROXY``), :class:`HttpxTransport` is used instead, which honours it.

Egress (docs/egress.md): given a :class:`charter.egress.Policy`, each *new* connection resolves the
host once, keeps the addresses the policy permits and connects to one of them (TLS SNI and ``Host``
keep the name); pooled connections are reused as before, so the check costs nothing per request.

Every failure is a :class:`~charter.gateway.types.ProviderError` (timeouts and connection errors
are retryable); callers bound the whole call with their own deadline as well.
"""

from __future__ import annotations

import asyncio
import ssl
import urllib.request
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit

import httptools

from charter.gateway.types import ProviderError


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes = b""


@dataclass
class StreamResponse:
    status: int
    headers: dict[str, str]
    chunks: AsyncIterator[bytes] = field(repr=False)

    async def aread(self) -> bytes:
        return b"".join([c async for c in self.chunks])

    async def lines(self) -> AsyncIterator[str]:
        """The body's lines (LF or CRLF), decoded as UTF-8."""
        buffer = b""
        async for chunk in self.chunks:
            buffer += chunk
            *complete, buffer = buffer.split(b"\n")
            for line in complete:
                yield line.rstrip(b"\r").decode("utf-8", "replace")
        if buffer:
            yield buffer.rstrip(b"\r").decode("utf-8", "replace")


class Transport(Protocol):
    """``url`` is a path (and query) below the base URL the transport was made for."""

    async def post(self, url: str, body: bytes, headers: dict[str, str], timeout: float) -> Response: ...

    def stream(self, url: str, body: bytes, headers: dict[str, str], timeout: float) -> Any:
        """An async context manager yielding a :class:`StreamResponse`."""

    async def aclose(self) -> None: ...


def timeout_error(what: str) -> ProviderError:
    return ProviderError(f"upstream timed out ({what})", retryable=True, kind="timeout")


def connection_error(exc: BaseException) -> ProviderError:
    return ProviderError(f"upstream unreachable ({type(exc).__name__}: {exc})", retryable=True, kind="connection_error")


class _Closed(Exception):
    """The connection closed before any byte of the response arrived."""


class _Connection(asyncio.Protocol):
    """One HTTP/1.1 connection; one request at a time.

    Streamed (``_reset(stream=True)``): ``head`` resolves with the response head and the body
    arrives in ``chunks``. Whole (the default, ``post``): the body collects in ``body`` and
    ``head`` resolves when the response is complete (no queue, one wake-up per response)."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self._reset()

    def _reset(self, stream: bool = False) -> None:
        self.parser = httptools.HttpResponseParser(self)
        self.headers: dict[str, str] = {}
        self.head: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.chunks: asyncio.Queue[bytes | BaseException | None] | None = asyncio.Queue() if stream else None
        self.body: list[bytes] = []
        self.complete = False
        self.keep_alive = False
        self.received = False

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.received = True
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(
                ProviderError(
                    f"upstream sent a malformed HTTP response ({exc})", retryable=True, kind="malformed_response"
                )
            )
            self.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if not self.complete:
            if not self.received:
                self._fail(_Closed())
            else:
                self._fail(
                    ProviderError(
                        "upstream closed the connection mid-response (truncated)",
                        retryable=True,
                        kind="truncated_stream",
                    )
                )

    # httptools callbacks
    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers[name.decode("latin-1").lower()] = value.decode("latin-1")

    def on_headers_complete(self) -> None:
        if self.chunks is not None and not self.head.done():
            self.head.set_result(None)

    def on_body(self, body: bytes) -> None:
        if self.chunks is not None:
            self.chunks.put_nowait(body)
        else:
            self.body.append(body)

    def on_message_complete(self) -> None:
        # Read now: httptools resets its state once the message is complete.
        self.keep_alive = self.parser.should_keep_alive()
        self.complete = True
        if self.chunks is not None:
            self.chunks.put_nowait(None)
        elif not self.head.done():
            self.head.set_result(None)

    def _fail(self, exc: BaseException) -> None:
        if not self.head.done():
            self.head.set_exception(exc)
            self.head.exception()  # mark retrieved: a waiter may already have left
        if self.chunks is not None:
            self.chunks.put_nowait(exc)

    @property
    def status(self) -> int:
        return int(self.parser.get_status_code())

    @property
    def reusable(self) -> bool:
        return self.complete and self.keep_alive and not self.closed

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()


class PooledTransport:
    """Keep-alive connections to one origin (scheme, host, port), created per event loop."""

    def __init__(
        self,
        base_url: str,
        headers: dict[str, str],
        connect_timeout: float,
        max_idle: int = 64,
        egress: Any = None,
    ) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"unsupported upstream URL {base_url!r}")
        self.host = parts.hostname
        self.prefix = parts.path.rstrip("/")  # requests name paths below the base URL's path
        self.tls = parts.scheme == "https"
        self.port = parts.port or (443 if self.tls else 80)
        default_port = (self.tls and self.port == 443) or (not self.tls and self.port == 80)
        authority = self.host if default_port else f"{self.host}:{self.port}"
        extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        self.fixed = f"host: {authority}\r\nuser-agent: charter-gateway\r\naccept-encoding: identity\r\n{extra}"
        self.connect_timeout = connect_timeout
        self.max_idle = max_idle
        self._idle: list[_Connection] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ssl: ssl.SSLContext | None = ssl.create_default_context() if self.tls else None
        self.egress = egress

    async def _addresses(self) -> list[str]:
        if self.egress is None:
            return [self.host]
        from charter.egress import Refused

        try:
            found = await asyncio.to_thread(self.egress.host_addresses, self.host, self.port)
        except Refused as exc:
            raise ProviderError(str(exc), retryable=False, kind="egress_refused") from None
        return [str(a) for a in found]

    async def _connect(self) -> _Connection:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self.connect_timeout):
                for address in (addresses := await self._addresses()):
                    try:
                        _, conn = await loop.create_connection(
                            _Connection,
                            address,
                            self.port,
                            ssl=self._ssl,
                            server_hostname=self.host if self.tls else None,
                        )
                        return conn
                    except OSError:
                        if address == addresses[-1]:
                            raise
        except TimeoutError:
            raise timeout_error("connect") from None
        except OSError as exc:
            raise connection_error(exc) from None
        raise connection_error(OSError(f"no address for {self.host}"))  # pragma: no cover

    async def _checkout(self, stream: bool) -> tuple[_Connection, bool]:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:  # a new event loop (tests): connections of the old one are unusable
            self._idle, self._loop = [], loop
        while self._idle:
            conn = self._idle.pop()
            if not conn.closed:
                conn._reset(stream)
                return conn, True
        conn = await self._connect()
        if stream:
            conn._reset(stream)
        return conn, False

    def _checkin(self, conn: _Connection) -> None:
        if conn.reusable and len(self._idle) < self.max_idle:
            self._idle.append(conn)
        else:
            conn.close()

    def _request(self, url: str, body: bytes, headers: dict[str, str]) -> bytes:
        head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        target = self.prefix + url
        return (f"POST {target} HTTP/1.1\r\n{self.fixed}{head}content-length: {len(body)}\r\n\r\n").encode() + body

    async def _send(self, url: str, body: bytes, headers: dict[str, str], stream: bool) -> _Connection:
        """Send the request and wait for the response head (streamed) or the whole response; one
        retry on a stale pooled connection."""
        data = self._request(url, body, headers)
        for _ in range(2):
            conn, reused = await self._checkout(stream)
            assert conn.transport is not None
            conn.transport.write(data)
            try:
                await conn.head
            except _Closed:
                conn.close()
                if reused:
                    continue
                raise connection_error(ConnectionResetError("closed before answering")) from None
            except BaseException:
                conn.close()
                raise
            return conn
        raise connection_error(ConnectionResetError("closed before answering"))  # pragma: no cover

    async def _chunks(self, conn: _Connection) -> AsyncGenerator[bytes, None]:
        assert conn.chunks is not None
        try:
            while True:
                item = await conn.chunks.get()
                if item is None:
                    return
                if isinstance(item, BaseException):
                    raise item if not isinstance(item, _Closed) else connection_error(ConnectionResetError())
                yield item
        finally:
            if conn.complete:
                self._checkin(conn)
            else:
                conn.close()

    async def post(self, url: str, body: bytes, headers: dict[str, str], timeout: float) -> Response:
        try:
            async with asyncio.timeout(timeout):
                conn = await self._send(url, body, headers, False)
        except TimeoutError:
            raise timeout_error("read") from None
        parts = conn.body
        response = Response(conn.status, conn.headers, parts[0] if len(parts) == 1 else b"".join(parts))
        self._checkin(conn)
        return response

    @asynccontextmanager
    async def stream(
        self, url: str, body: bytes, headers: dict[str, str], timeout: float
    ) -> AsyncIterator[StreamResponse]:
        try:
            async with asyncio.timeout(timeout):
                conn = await self._send(url, body, headers, True)
        except TimeoutError:
            raise timeout_error("connect or response head") from None
        chunks = self._chunks(conn)
        try:
            yield StreamResponse(conn.status, conn.headers, chunks)
        finally:
            await chunks.aclose()
            if not conn.complete:
                conn.close()

    async def aclose(self) -> None:
        for conn in self._idle:
            conn.close()
        self._idle = []


class HttpxTransport:
    """The same interface over ``httpx`` (used when a proxy is configured: httpx honours it)."""

    def __init__(self, base_url: str, headers: dict[str, str], connect_timeout: float, egress: Any = None) -> None:
        import httpx

        self.base_url = base_url.rstrip("/") + "/"  # httpx joins relative URLs below it
        self.headers = headers
        self.connect_timeout = connect_timeout
        self.egress = egress
        self._client: httpx.AsyncClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _http(self) -> Any:
        import httpx

        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop:
            self._loop = loop
            from charter.egress import Policy, async_client

            self._client = async_client(
                self.egress or Policy().trusting(self.base_url),
                base_url=self.base_url,
                headers=self.headers,
                limits=httpx.Limits(max_connections=256, max_keepalive_connections=64, keepalive_expiry=30),
                proxy=proxy_for(self.base_url),
            )
        return self._client

    def _timeout(self, timeout: float) -> Any:
        import httpx

        return httpx.Timeout(timeout, connect=min(timeout, self.connect_timeout))

    async def post(self, url: str, body: bytes, headers: dict[str, str], timeout: float) -> Response:
        import httpx

        try:
            r = await self._http().post(url.lstrip("/"), content=body, headers=headers, timeout=self._timeout(timeout))
        except httpx.TimeoutException as exc:
            raise timeout_error(type(exc).__name__) from None
        except httpx.HTTPError as exc:
            raise connection_error(exc) from None
        return Response(r.status_code, dict(r.headers), r.content)

    @asynccontextmanager
    async def stream(
        self, url: str, body: bytes, headers: dict[str, str], timeout: float
    ) -> AsyncIterator[StreamResponse]:
        import httpx

        async def chunks(r: httpx.Response) -> AsyncIterator[bytes]:
            try:
                async for c in r.aiter_raw():
                    yield c
            except httpx.TimeoutException as exc:
                raise timeout_error(type(exc).__name__) from None
            except httpx.HTTPError as exc:
                raise ProviderError(
                    f"upstream closed the stream ({type(exc).__name__})", retryable=True, kind="truncated_stream"
                ) from None

        try:
            async with self._http().stream(
                "POST", url.lstrip("/"), content=body, headers=headers, timeout=self._timeout(timeout)
            ) as r:
                yield StreamResponse(r.status_code, dict(r.headers), chunks(r))
        except httpx.TimeoutException as exc:
            raise timeout_error(type(exc).__name__) from None
        except httpx.HTTPError as exc:
            raise connection_error(exc) from None

    async def aclose(self) -> None:
        if self._client is not None and self._loop is asyncio.get_running_loop():
            await self._client.aclose()
        self._client = None


def proxy_for(base_url: str) -> str | None:
    """The proxy the environment routes ``base_url`` through (as httpx would), if any."""
    parts = urlsplit(base_url)
    proxies = urllib.request.getproxies()
    proxy = proxies.get(parts.scheme) or proxies.get("all")
    if not proxy or urllib.request.proxy_bypass(parts.hostname or ""):
        return None
    return proxy


def proxied(base_url: str) -> bool:
    """Whether the environment routes ``base_url`` through a proxy (as httpx would)."""
    return proxy_for(base_url) is not None


def make_transport(base_url: str, headers: dict[str, str], connect_timeout: float, egress: Any = None) -> Transport:
    """The transport for a provider; ``egress`` is the :class:`charter.egress.Policy` new
    connections go through (``None``: a bare transport, for tests of the transport itself)."""
    if proxied(base_url):
        return HttpxTransport(base_url, headers, connect_timeout, egress)
    return PooledTransport(base_url, headers, connect_timeout, egress=egress)
