"""The provider interface and the HTTP plumbing the HTTP providers share."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any, Protocol

import httpx

from charter.gateway.config import ProviderConfig
from charter.gateway.types import ChatRequest, ProviderError, ProviderResult, StreamDelta

RETRYABLE_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504, 520, 522, 524, 529})


class Provider(Protocol):
    """What a provider must do. ``complete`` and ``stream`` raise :class:`ProviderError` on any
    upstream failure (never a bare httpx error) and must honour ``timeout`` so nothing hangs.
    ``stream`` must raise if the upstream stream ends before its end marker (truncation)."""

    name: str

    async def complete(self, request: ChatRequest, timeout: float | None = None) -> ProviderResult: ...

    def stream(self, request: ChatRequest, timeout: float | None = None) -> AsyncGenerator[StreamDelta, None]: ...

    async def aclose(self) -> None: ...


class HTTPProvider:
    """One keep-alive ``httpx.AsyncClient`` per event loop (a server has one loop; tests may start
    several), created on first use."""

    def __init__(self, config: ProviderConfig) -> None:
        self.config = config
        self.name = config.name
        self._client: httpx.AsyncClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def client(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop:
            self._loop = loop
            self._client = httpx.AsyncClient(
                timeout=httpx.Timeout(self.config.timeout, connect=self.config.connect_timeout),
                limits=httpx.Limits(max_connections=256, max_keepalive_connections=64, keepalive_expiry=30),
                headers=self.config.headers,
            )
        return self._client

    def timeout(self, timeout: float | None) -> httpx.Timeout:
        total = min(timeout, self.config.timeout) if timeout else self.config.timeout
        return httpx.Timeout(total, connect=min(total, self.config.connect_timeout))

    async def aclose(self) -> None:
        if self._client is not None and self._loop is asyncio.get_running_loop():
            await self._client.aclose()
        self._client = None


def status_error(status: int, body: bytes, headers: httpx.Headers) -> ProviderError:
    """Map an upstream error response to a :class:`ProviderError` (no body echo beyond 300 bytes)."""
    retry_after = None
    if "retry-after" in headers:
        try:
            retry_after = float(headers["retry-after"])
        except ValueError:
            retry_after = None
    snippet = body[:300].decode("utf-8", "replace")
    return ProviderError(
        f"upstream returned HTTP {status}: {snippet}",
        status=status,
        retryable=status in RETRYABLE_STATUS or status >= 500,
        retry_after=retry_after,
        kind="rate_limited" if status == 429 else "upstream_error",
    )


def transport_error(exc: Exception) -> ProviderError:
    if isinstance(exc, httpx.TimeoutException):
        return ProviderError(f"upstream timed out ({type(exc).__name__})", retryable=True, kind="timeout")
    return ProviderError(f"upstream unreachable ({type(exc).__name__}: {exc})", retryable=True, kind="connection_error")


async def sse_data(response: httpx.Response) -> AsyncIterator[str]:
    """The ``data:`` payloads of a server-sent-event stream (WHATWG HTML §9.2), one per event."""
    async for line in response.aiter_lines():
        if line.startswith("data:"):
            yield line[5:].lstrip()


def text_of(content: Any) -> str:
    """Message content as text: a string, or the text parts of an OpenAI content-part list."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text")
    return str(content)
