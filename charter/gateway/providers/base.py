"""The provider interface and the HTTP plumbing the HTTP providers share."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from typing import Any, Protocol

from charter.gateway.config import ProviderConfig
from charter.gateway.providers.transport import StreamResponse, Transport, make_transport
from charter.gateway.types import (
    ChatRequest,
    EmbeddingRequest,
    EmbeddingResult,
    ProviderError,
    ProviderResult,
    StreamDelta,
)

RETRYABLE_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504, 520, 522, 524, 529})


class Provider(Protocol):
    """What a provider must do. ``complete`` and ``stream`` raise :class:`ProviderError` on any
    upstream failure (never a bare httpx error) and must honour ``timeout`` so nothing hangs.
    ``stream`` must raise if the upstream stream ends before its end marker (truncation)."""

    name: str

    async def complete(self, request: ChatRequest, timeout: float | None = None) -> ProviderResult: ...

    def stream(self, request: ChatRequest, timeout: float | None = None) -> AsyncGenerator[StreamDelta, None]: ...

    async def aclose(self) -> None: ...


class EmbeddingProvider(Protocol):
    """What a provider that serves embedding models must do as well (``mode: embedding`` models
    of model.yaml). ``embeddings_unavailable`` says why it cannot embed right now (None when it
    can): the router skips it then, as it skips a provider whose key is unset. ``embed`` raises
    :class:`ProviderError` on any failure and returns one vector per input, in order."""

    def embeddings_unavailable(self) -> str | None: ...

    async def embed(self, request: EmbeddingRequest, timeout: float | None = None) -> EmbeddingResult: ...


class HTTPProvider:
    """Shared plumbing of the HTTP providers: one keep-alive :mod:`transport
    <charter.gateway.providers.transport>` per provider, and the timeout rule."""

    def __init__(self, config: ProviderConfig, base_url: str) -> None:
        self.config = config
        self.name = config.name
        self.transport: Transport = make_transport(base_url, config.headers, config.connect_timeout, config.egress)

    def timeout(self, timeout: float | None) -> float:
        """The provider's timeout, or the caller's deadline when that is sooner."""
        return min(timeout, self.config.timeout) if timeout else self.config.timeout

    async def aclose(self) -> None:
        await self.transport.aclose()


def status_error(status: int, body: bytes, headers: Mapping[str, str]) -> ProviderError:
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


async def sse_data(response: StreamResponse) -> AsyncIterator[str]:
    """The ``data:`` payloads of a server-sent-event stream (WHATWG HTML §9.2), one per event."""
    async for line in response.lines():
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
