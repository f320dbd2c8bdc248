"""OpenAI-compatible chat completions over HTTP: OpenAI, Azure OpenAI, vLLM, Ollama, LM Studio...

Options (``providers.<name>.options`` in model.yaml): ``auth_header`` (``authorization``, the
default, sends ``Bearer <key>``; ``api-key`` for Azure), ``query`` (extra query parameters such
as ``api-version``), ``path`` (default ``/chat/completions``), ``embeddings_path`` (default
``/embeddings``, for ``mode: embedding`` models).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any
from urllib.parse import urlencode

import orjson

from charter.gateway.config import ProviderConfig
from charter.gateway.providers.base import HTTPProvider, sse_data, status_error
from charter.gateway.types import (
    ChatRequest,
    EmbeddingRequest,
    EmbeddingResult,
    ProviderError,
    ProviderResult,
    StreamDelta,
)
from charter.observability.propagation import inject


class OpenAICompatibleProvider(HTTPProvider):
    def __init__(self, config: ProviderConfig) -> None:
        if not config.base_url:
            from charter.exceptions import ConfigError

            raise ConfigError(f"provider {config.name!r}: base_url is required")
        super().__init__(config, config.base_url)
        query = {str(k): str(v) for k, v in (config.options.get("query") or {}).items()}
        tail = f"?{urlencode(query)}" if query else ""
        self.url = str(config.options.get("path", "/chat/completions")) + tail
        self.embeddings_url = str(config.options.get("embeddings_path", "/embeddings")) + tail
        self.auth_header = str(config.options.get("auth_header", "authorization")).lower()

    def _headers(self) -> dict[str, str]:
        headers = {"content-type": "application/json"}
        key = self.config.api_key
        if key:
            headers[self.auth_header] = f"Bearer {key}" if self.auth_header == "authorization" else key
        inject(headers)  # W3C trace context of the model call's span
        return headers

    def _body(self, request: ChatRequest, stream: bool) -> bytes:
        body: dict[str, Any] = {**request.params, "model": request.model, "messages": request.messages}
        if stream:
            body["stream"] = True
            body.setdefault("stream_options", {"include_usage": True})
        else:
            body.pop("stream", None)
            body.pop("stream_options", None)
        return orjson.dumps(body)

    async def complete(self, request: ChatRequest, timeout: float | None = None) -> ProviderResult:
        resp = await self.transport.post(self.url, self._body(request, False), self._headers(), self.timeout(timeout))
        if resp.status >= 400:
            raise status_error(resp.status, resp.body, resp.headers)
        return parse_completion(resp.body, request.model)

    async def stream(self, request: ChatRequest, timeout: float | None = None) -> AsyncGenerator[StreamDelta, None]:
        done = False
        finished = False
        body = self._body(request, True)
        async with self.transport.stream(self.url, body, self._headers(), self.timeout(timeout)) as resp:
            if resp.status >= 400:
                raise status_error(resp.status, await resp.aread(), resp.headers)
            async for data in sse_data(resp):
                if data == "[DONE]":
                    done = True
                    break
                delta = parse_chunk(data)
                finished = finished or delta.finish_reason is not None
                yield delta
        if not done and not finished:
            raise ProviderError("upstream stream ended early (truncated)", retryable=True, kind="truncated_stream")

    def embeddings_unavailable(self) -> str | None:
        return None

    async def embed(self, request: EmbeddingRequest, timeout: float | None = None) -> EmbeddingResult:
        body: dict[str, Any] = {"model": request.model, "input": request.inputs, "encoding_format": "float"}
        if request.dimensions is not None:
            body["dimensions"] = request.dimensions
        if request.user is not None:
            body["user"] = request.user
        resp = await self.transport.post(
            self.embeddings_url, orjson.dumps(body), self._headers(), self.timeout(timeout)
        )
        if resp.status >= 400:
            raise status_error(resp.status, resp.body, resp.headers)
        return parse_embeddings(resp.body, request)


def parse_embeddings(body: bytes, request: EmbeddingRequest) -> EmbeddingResult:
    """An OpenAI ``list`` of ``embedding`` objects as an :class:`EmbeddingResult` (vectors in
    input order, by ``index``); a body that is not one, or has the wrong count, is a retryable
    ``malformed_response``."""
    try:
        data = orjson.loads(body)
        items = sorted(data["data"], key=lambda d: int(d["index"]))
        vectors = [[float(x) for x in item["embedding"]] for item in items]
        if len(vectors) != len(request.inputs) or [int(i["index"]) for i in items] != list(range(len(vectors))):
            raise ValueError("count")
        usage = data.get("usage") or {}
        return EmbeddingResult(
            vectors=vectors,
            model=str(data.get("model") or request.model),
            prompt_tokens=int(usage.get("prompt_tokens") or 0),
        )
    except (orjson.JSONDecodeError, KeyError, IndexError, TypeError, AttributeError, ValueError):
        raise ProviderError("upstream sent a malformed embeddings body", retryable=True, kind="malformed_response")


def _usage(raw: Any) -> dict[str, int]:
    return {
        "prompt_tokens": int(raw.get("prompt_tokens") or 0),
        "completion_tokens": int(raw.get("completion_tokens") or 0),
    }


def parse_completion(body: bytes, model: str) -> ProviderResult:
    """An OpenAI ``chat.completion`` body as a :class:`ProviderResult`; anything else (bad JSON,
    a missing or mistyped field) is a retryable ``malformed_response``."""
    try:
        data = orjson.loads(body)
        choice = data["choices"][0]
        message = choice["message"]
        text = message.get("content") or ""
        if not isinstance(text, str):
            raise TypeError("content")
        return ProviderResult(
            text=text,
            model=str(data.get("model") or model),
            usage=_usage(data.get("usage") or {}),
            finish_reason=str(choice.get("finish_reason") or "stop"),
            tool_calls=list(message.get("tool_calls") or []),
            raw=data,
        )
    except (orjson.JSONDecodeError, KeyError, IndexError, TypeError, AttributeError, ValueError):
        raise ProviderError("upstream sent a malformed response body", retryable=True, kind="malformed_response")


def parse_chunk(data: str) -> StreamDelta:
    """One ``chat.completion.chunk`` as a :class:`StreamDelta`. An ``error`` event (OpenAI sends
    one mid-stream on overload) is a retryable :class:`ProviderError`."""
    try:
        chunk = orjson.loads(data)
        if "error" in chunk:
            err = chunk["error"] if isinstance(chunk["error"], dict) else {"message": str(chunk["error"])}
            raise ProviderError(f"upstream stream error: {str(err.get('message', ''))[:300]}", retryable=True)
        usage = chunk.get("usage")
        delta = StreamDelta(usage=_usage(usage) if usage else None)
        for choice in chunk.get("choices") or []:
            d = choice.get("delta") or {}
            delta.text += d.get("content") or ""
            if d.get("tool_calls"):
                delta.tool_calls = list(d["tool_calls"])
            if choice.get("finish_reason"):
                delta.finish_reason = str(choice["finish_reason"])
        return delta
    except (orjson.JSONDecodeError, KeyError, TypeError, AttributeError, ValueError):
        raise ProviderError("upstream sent a malformed stream chunk", retryable=True, kind="malformed_response")


def factory(config: ProviderConfig) -> OpenAICompatibleProvider:
    return OpenAICompatibleProvider(config)
