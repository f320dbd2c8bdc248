"""Anthropic Messages API over plain HTTP (no SDK): ``POST {base_url}/v1/messages``.

Translation from the OpenAI shape: system (and developer) messages become the ``system`` field;
consecutive messages of one role are merged (the Messages API wants user and assistant turns to
alternate); ``tool`` results become ``tool_result`` blocks and assistant ``tool_calls`` become
``tool_use`` blocks; OpenAI ``tools``/``tool_choice`` become Anthropic ``tools``/``tool_choice``;
``stop`` becomes ``stop_sequences``. ``max_tokens`` (required upstream) defaults to the provider
option ``max_tokens`` or 1024. Options: ``version`` (the ``anthropic-version`` header, default
``2023-06-01``), ``max_tokens``.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

import orjson

from charter.gateway.config import ProviderConfig
from charter.gateway.providers.base import HTTPProvider, sse_data, status_error, text_of
from charter.gateway.types import ChatRequest, ProviderError, ProviderResult, StreamDelta
from charter.observability.propagation import inject

STOP_REASONS = {"end_turn": "stop", "stop_sequence": "stop", "max_tokens": "length", "tool_use": "tool_calls"}
PASSTHROUGH = ("temperature", "top_p", "top_k")
_MALFORMED = (orjson.JSONDecodeError, KeyError, IndexError, TypeError, AttributeError, ValueError)


def _blocks(message: dict[str, Any]) -> list[dict[str, Any]]:
    role = message.get("role")
    if role == "tool":
        return [
            {
                "type": "tool_result",
                "tool_use_id": str(message.get("tool_call_id") or ""),
                "content": text_of(message.get("content")),
            }
        ]
    blocks: list[dict[str, Any]] = []
    text = text_of(message.get("content"))
    if text:
        blocks.append({"type": "text", "text": text})
    for call in message.get("tool_calls") or []:
        fn = call.get("function") or {}
        try:
            args = orjson.loads(fn.get("arguments") or "{}")
        except orjson.JSONDecodeError:
            args = {}
        blocks.append({"type": "tool_use", "id": call.get("id"), "name": fn.get("name"), "input": args})
    return blocks


def to_messages(messages: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """``(system, messages)`` in Anthropic's shape."""
    system = "\n\n".join(text_of(m.get("content")) for m in messages if m.get("role") in ("system", "developer"))
    out: list[dict[str, Any]] = []
    for m in messages:
        if m.get("role") in ("system", "developer"):
            continue
        role = "assistant" if m.get("role") == "assistant" else "user"
        blocks = _blocks(m)
        if not blocks:
            continue
        if out and out[-1]["role"] == role:
            out[-1]["content"].extend(blocks)
        else:
            out.append({"role": role, "content": blocks})
    # Plain single-text turns are sent as strings (what most examples and proxies expect).
    for m in out:
        if len(m["content"]) == 1 and m["content"][0]["type"] == "text":
            m["content"] = m["content"][0]["text"]
    return system, out


def to_tools(params: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    tools = params.get("tools")
    if tools:
        out["tools"] = [
            {
                "name": (t.get("function") or {}).get("name"),
                "description": (t.get("function") or {}).get("description", ""),
                "input_schema": (t.get("function") or {}).get("parameters") or {"type": "object"},
            }
            for t in tools
            if isinstance(t, dict)
        ]
    choice = params.get("tool_choice")
    if choice == "auto":
        out["tool_choice"] = {"type": "auto"}
    elif choice == "required":
        out["tool_choice"] = {"type": "any"}
    elif isinstance(choice, dict) and (choice.get("function") or {}).get("name"):
        out["tool_choice"] = {"type": "tool", "name": choice["function"]["name"]}
    return out


class AnthropicProvider(HTTPProvider):
    def __init__(self, config: ProviderConfig) -> None:
        super().__init__(config, config.base_url or "https://api.anthropic.com")
        self.url = "/v1/messages"
        self.version = str(config.options.get("version", "2023-06-01"))
        self.max_tokens = int(config.options.get("max_tokens", 1024))

    def _headers(self) -> dict[str, str]:
        headers = {"content-type": "application/json", "anthropic-version": self.version}
        if self.config.api_key:
            headers["x-api-key"] = self.config.api_key
        inject(headers)  # W3C trace context of the model call's span
        return headers

    def _body(self, request: ChatRequest, stream: bool) -> bytes:
        system, messages = to_messages(request.messages)
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
        body.update(to_tools(p))
        if stream:
            body["stream"] = True
        return orjson.dumps(body)

    async def complete(self, request: ChatRequest, timeout: float | None = None) -> ProviderResult:
        resp = await self.transport.post(self.url, self._body(request, False), self._headers(), self.timeout(timeout))
        if resp.status >= 400:
            raise status_error(resp.status, resp.body, resp.headers)
        try:
            data = orjson.loads(resp.body)
            blocks = data["content"]
            text = "".join(str(b.get("text", "")) for b in blocks if b.get("type") == "text")
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
            result = ProviderResult(
                text=text,
                model=str(data.get("model") or request.model),
                usage={
                    "prompt_tokens": int(usage.get("input_tokens") or 0),
                    "completion_tokens": int(usage.get("output_tokens") or 0),
                },
                finish_reason=STOP_REASONS.get(str(data.get("stop_reason")), "stop"),
                tool_calls=tool_calls,
            )
        except _MALFORMED:
            raise ProviderError("upstream sent a malformed response body", retryable=True, kind="malformed_response")
        return result

    async def stream(self, request: ChatRequest, timeout: float | None = None) -> AsyncGenerator[StreamDelta, None]:
        stopped = False
        prompt_tokens = 0
        tool_index: dict[int, int] = {}  # Anthropic content-block index -> OpenAI tool-call index
        body = self._body(request, True)
        async with self.transport.stream(self.url, body, self._headers(), self.timeout(timeout)) as resp:
            if resp.status >= 400:
                raise status_error(resp.status, await resp.aread(), resp.headers)
            async for data in sse_data(resp):
                try:
                    event = orjson.loads(data)
                    kind = event.get("type")
                    if kind == "message_start":
                        usage = (event.get("message") or {}).get("usage") or {}
                        prompt_tokens = int(usage.get("input_tokens") or 0)
                    elif kind == "content_block_start":
                        block = event.get("content_block") or {}
                        if block.get("type") == "tool_use":
                            n = tool_index.setdefault(int(event.get("index", 0)), len(tool_index))
                            yield StreamDelta(
                                tool_calls=[
                                    {
                                        "index": n,
                                        "id": block.get("id"),
                                        "type": "function",
                                        "function": {"name": block.get("name"), "arguments": ""},
                                    }
                                ]
                            )
                    elif kind == "content_block_delta":
                        delta = event.get("delta") or {}
                        if delta.get("type") == "input_json_delta":
                            n = tool_index.get(int(event.get("index", 0)), 0)
                            yield StreamDelta(
                                tool_calls=[{"index": n, "function": {"arguments": str(delta.get("partial_json", ""))}}]
                            )
                        else:
                            yield StreamDelta(text=str(delta.get("text", "")))
                    elif kind == "message_delta":
                        reason = (event.get("delta") or {}).get("stop_reason")
                        out = int((event.get("usage") or {}).get("output_tokens") or 0)
                        yield StreamDelta(
                            finish_reason=STOP_REASONS.get(str(reason), "stop"),
                            usage={"prompt_tokens": prompt_tokens, "completion_tokens": out},
                        )
                    elif kind == "error":
                        err = event.get("error") or {}
                        raise ProviderError(
                            f"upstream stream error: {str(err.get('message', ''))[:300]}", retryable=True
                        )
                    elif kind == "message_stop":
                        stopped = True
                        break
                except _MALFORMED:
                    raise ProviderError(
                        "upstream sent a malformed stream event", retryable=True, kind="malformed_response"
                    ) from None
        if not stopped:
            raise ProviderError("upstream stream ended early (truncated)", retryable=True, kind="truncated_stream")


def factory(config: ProviderConfig) -> AnthropicProvider:
    return AnthropicProvider(config)
