"""The gateway's value types: what a provider receives and returns, and what callers get back."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from typing import Any

# Audit record and completion ids need to be unique, not secret: a PRNG seeded once from the OS
# is enough, and os.urandom per call costs a third of a millisecond on some virtual machines.
_ids = random.Random(uuid.uuid4().int)


def new_id() -> str:
    """A random (version 4) UUID, as a string."""
    return str(uuid.UUID(int=_ids.getrandbits(128), version=4))


@dataclass
class ChatRequest:
    """One chat call as a provider sees it. ``model`` is the upstream model name; ``params`` holds
    the OpenAI sampling and tool fields passed through unchanged (temperature, max_tokens, tools,
    response_format, ...)."""

    model: str
    messages: list[dict[str, Any]]
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class EmbeddingRequest:
    """One embeddings call as a provider sees it: ``inputs`` are strings (checked by the gateway);
    ``dimensions`` asks for shortened vectors (only models that support it honour it)."""

    model: str
    inputs: list[str]
    dimensions: int | None = None
    user: str | None = None


@dataclass
class EmbeddingResult:
    """A provider's vectors, one per input in input order, and the prompt tokens it counted."""

    vectors: list[list[float]]
    model: str
    prompt_tokens: int = 0


@dataclass
class ProviderResult:
    """A complete provider answer, already in OpenAI terms."""

    text: str
    model: str
    usage: dict[str, int] = field(default_factory=lambda: {"prompt_tokens": 0, "completion_tokens": 0})
    finish_reason: str = "stop"
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    citations: list[str] = field(default_factory=list)
    #: The upstream's own response body when it was OpenAI-shaped (passed through on the fast path).
    raw: dict[str, Any] | None = None


@dataclass
class StreamDelta:
    """One streamed piece: text and/or a finish reason, with usage on the last one when known."""

    text: str = ""
    finish_reason: str | None = None
    usage: dict[str, int] | None = None
    tool_calls: list[dict[str, Any]] | None = None


@dataclass
class Completion:
    """What :meth:`charter.gateway.service.Gateway.complete` returns.

    ``fallback_chain`` lists every target tried, in order, as ``{"model", "provider", "outcome",
    "error"?}``; the last one with outcome ``ok`` produced the answer. ``citations`` are the source
    ids (``entry_id#chunk``) the answer cites.
    """

    text: str
    model: str
    provider: str
    route: str
    fallback_chain: list[dict[str, Any]]
    usage: dict[str, int]
    latency_ms: float
    cost: float
    citations: list[str] = field(default_factory=list)
    finish_reason: str = "stop"
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    model_version: str = ""
    audit_id: str = ""
    raw: dict[str, Any] | None = None


@dataclass
class Embeddings:
    """What :meth:`charter.gateway.service.Gateway.embed` returns: one vector per input."""

    vectors: list[list[float]]
    model: str
    provider: str
    route: str
    prompt_tokens: int
    cost: float
    audit_id: str
    fallback_chain: list[dict[str, Any]] = field(default_factory=list)


class ProviderError(Exception):
    """An upstream failed. ``retryable`` (429, 5xx, timeouts, connection errors, malformed or
    truncated bodies) means the same target may be tried again after a backoff; any error moves
    the router on to the next target once retries are spent."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        retryable: bool = False,
        retry_after: float | None = None,
        kind: str = "upstream_error",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.retryable = retryable
        self.retry_after = retry_after
        self.kind = kind
