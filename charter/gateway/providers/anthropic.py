"""Anthropic Messages API over plain HTTP (no SDK): ``POST {base_url}/v1/messages``.

System messages become the ``system`` field; ``max_tokens`` (required upstream) defaults to the
provider option ``max_tokens`` or 1024. Options: ``version`` (the ``anthropic-version`` header,
default ``2023-06-01``).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

import httpx
import orjson

from charter.gateway.config import ProviderConfig
from charter.gateway.providers.base import HTTPProvider, sse_data, status_error, text_of, transport_error
from charter.gateway.types import ChatRequest, ProviderError, ProviderResult, StreamDelta

STOP_REASONS = {"end_turn": "stop", "stop_sequence": "stop", "max_tokens": "length", "tool_use": "tool_calls"}
PASSTHROUGH = ("temperature", "top_p", "top_k", "metadata")


class AnthropicProvider(HTTPProvider):
    def __init__(self, config: ProviderConfig) -> None:
        super().__init__(config)
        self.url = (config.base_url or "https://api.anthropic.com") + "/v1/messages"
        self.version = str(config.options.get("version", "2023-06-01"))
        self.max_tokens = int(config.options.get("max_tokens", 1024))

    def _headers(self) -> dict[str, str]:
        headers = {"content-type": "application/json", "anthropic-version": self.version}
        if self.config.api_key:
            headers["x-api-key"] = self.config.api_key
        return headers

    def _body(self, request: ChatRequest, stream: bool) -> bytes:
        system = "\n\n".join(text_of(m.get("content")) for m in request.messages if m.get("role") == "system")
        messages = [
            {"role": "assistant" if m.get("role") == "assistant" else "user", "content": text_of(m.get("content"))}
            for m in request.messages
            if m.get("role") != "system"
        ]
        p = request.params
        body: dict[str, Any] = {
            "model": request.model,
            "messages": messages,
            "max_tokens": int(p.get("max_tokens") or p.get("max_completion_tokens") or self.max_tokens),
        }
        if system:
            body["system"] = system
        if p.get("stop"):
            body["stop_sequences"] = [p["stop"]] if isinstance(p["stop"], str) else list(p["stop"])
        for key in PASSTHROUGH:
            if key in p:
                body[key] = p[key]
        if stream:
            body["stream"] = True
        return orjson.dumps(body)

    async def complete(self, request: ChatRequest, timeout: float | None = None) -> ProviderResult:
        try:
            resp = await self.client().post(
                self.url, content=self._body(request, False), headers=self._headers(), timeout=self.timeout(timeout)
            )
        except httpx.HTTPError as exc:
            raise transport_error(exc) from None
        if resp.status_code >= 400:
            raise status_error(resp.status_code, resp.content, resp.headers)
        try:
            data = orjson.loads(resp.content)
            blocks = data["content"]
            text = "".join(b.get("text", "") for b in blocks if b.get("type") == "text")
            tool_calls = [
                {
                    "id": b.get("id"),
                    "type": "function",
                    "function": {"name": b.get("name"), "arguments": orjson.dumps(b.get("input", {})).decode()},
                }
                for b in blocks
                if b.get("type") == "tool_use"
            ]
            usage = data.get("usage") or {}
        except (orjson.JSONDecodeError, KeyError, TypeError, AttributeError):
            raise ProviderError("upstream sent a malformed response body", retryable=True, kind="malformed_response")
        return ProviderResult(
            text=text,
            model=str(data.get("model") or request.model),
            usage={
                "prompt_tokens": int(usage.get("input_tokens") or 0),
                "completion_tokens": int(usage.get("output_tokens") or 0),
            },
            finish_reason=STOP_REASONS.get(str(data.get("stop_reason")), "stop"),
            tool_calls=tool_calls,
        )

    async def stream(self, request: ChatRequest, timeout: float | None = None) -> AsyncGenerator[StreamDelta, None]:
        stopped = False
        prompt_tokens = 0
        try:
            async with self.client().stream(
                "POST",
                self.url,
                content=self._body(request, True),
                headers=self._headers(),
                timeout=self.timeout(timeout),
            ) as resp:
                if resp.status_code >= 400:
                    raise status_error(resp.status_code, await resp.aread(), resp.headers)
                async for data in sse_data(resp):
                    try:
                        event = orjson.loads(data)
                    except orjson.JSONDecodeError:
                        raise ProviderError(
                            "upstream sent a malformed stream event", retryable=True, kind="malformed_response"
                        )
                    kind = event.get("type")
                    if kind == "message_start":
                        prompt_tokens = int(((event.get("message") or {}).get("usage") or {}).get("input_tokens") or 0)
                    elif kind == "content_block_delta":
                        yield StreamDelta(text=(event.get("delta") or {}).get("text", ""))
                    elif kind == "message_delta":
                        reason = (event.get("delta") or {}).get("stop_reason")
                        out = int((event.get("usage") or {}).get("output_tokens") or 0)
                        yield StreamDelta(
                            finish_reason=STOP_REASONS.get(str(reason), "stop"),
                            usage={"prompt_tokens": prompt_tokens, "completion_tokens": out},
                        )
                    elif kind == "error":
                        err = event.get("error") or {}
                        raise ProviderError(f"upstream stream error: {err.get('message', '')}", retryable=True)
                    elif kind == "message_stop":
                        stopped = True
                        break
        except httpx.HTTPError as exc:
            raise transport_error(exc) from None
        if not stopped:
            raise ProviderError("upstream stream ended early (truncated)", retryable=True, kind="truncated_stream")


def factory(config: ProviderConfig) -> AnthropicProvider:
    return AnthropicProvider(config)
