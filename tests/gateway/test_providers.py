"""Providers: the wire translations, the offline ``local`` provider, and providers as plugins."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from charter.exceptions import ConfigError
from charter.gateway import get_gateway
from charter.gateway.config import ProviderConfig
from charter.gateway.providers.anthropic import to_messages, to_tools
from charter.gateway.providers.local import REFUSAL, LocalProvider
from charter.gateway.providers.openai_compat import parse_chunk, parse_completion
from charter.gateway.types import ChatRequest, ProviderError, ProviderResult, StreamDelta
from charter.hookspecs import hookimpl
from tests.gateway.conftest import provider, write_model_yaml

SOURCES = (
    "[S1] (source: a#0) The Team plan costs 49 EUR per month. It includes SSO with Google.\n"
    "[S2] (source: b#3) Refunds are processed within 5 business days."
)


def local(**options: Any) -> LocalProvider:
    return LocalProvider(ProviderConfig(name="local", kind="local", options=options))


def ask(question: str, **params: Any) -> ChatRequest:
    return ChatRequest(
        "extractive-v1", [{"role": "system", "content": SOURCES}, {"role": "user", "content": question}], params
    )


def test_local_answers_extractively_with_citations() -> None:
    result = asyncio.run(local().complete(ask("How long do refunds take?")))
    assert result.text == "Refunds are processed within 5 business days. [S2]"
    assert result.citations == ["b#3"]
    again = asyncio.run(local().complete(ask("How long do refunds take?")))
    assert again == result  # deterministic


def test_local_refuses_what_the_sources_do_not_cover() -> None:
    result = asyncio.run(local().complete(ask("Who is the CEO?")))
    assert result.text == REFUSAL and result.citations == []
    no_sources = ChatRequest("x", [{"role": "user", "content": "What does the Team plan cost?"}])
    assert asyncio.run(local().complete(no_sources)).text == REFUSAL


def test_local_streams_the_same_answer() -> None:
    async def collect() -> list[StreamDelta]:
        return [d async for d in local().stream(ask("What does the Team plan cost?"))]

    deltas = asyncio.run(collect())
    assert "".join(d.text for d in deltas) == "The Team plan costs 49 EUR per month. [S1]"
    assert deltas[-1].finish_reason == "stop" and deltas[-1].usage


def test_local_structured_output_is_typed_by_the_schema() -> None:
    schema = {
        "type": "object",
        "properties": {
            "price": {"type": "number"},
            "seats": {"type": "integer"},
            "features": {"type": "array", "items": {"type": "string"}},
            "sso": {"type": "boolean"},
            "currency": {"enum": ["EUR", "USD"]},
            "missing": {"type": "string"},
        },
    }
    text = "price: 49,50\nseats: 10 users\nfeatures: SSO; audit log\nsso: yes\ncurrency: eur"
    request = ChatRequest(
        "x",
        [{"role": "user", "content": text}],
        {"response_format": {"type": "json_schema", "json_schema": {"schema": schema}}},
    )
    out = json.loads(asyncio.run(local().complete(request)).text)
    assert out == {"price": 49.5, "seats": 10, "features": ["SSO", "audit log"], "sso": True, "currency": "EUR"}


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b"[]",
        b'{"choices": []}',
        b'{"choices": [{"message": "text"}]}',
        b'{"choices": [{"message": {"content": 5}}]}',
    ],
)
def test_openai_malformed_bodies_are_retryable_errors(body: bytes) -> None:
    with pytest.raises(ProviderError) as info:
        parse_completion(body, "m")
    assert info.value.retryable and info.value.kind == "malformed_response"


def test_openai_stream_chunks() -> None:
    delta = parse_chunk('{"choices": [{"delta": {"content": "Hi"}, "finish_reason": null}]}')
    assert delta.text == "Hi" and delta.finish_reason is None
    assert parse_chunk('{"choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 2}}').usage == {
        "prompt_tokens": 3,
        "completion_tokens": 2,
    }
    with pytest.raises(ProviderError, match="overloaded"):
        parse_chunk('{"error": {"message": "overloaded"}}')
    for bad in ("{", "5", '{"choices": 7}'):
        with pytest.raises(ProviderError):
            parse_chunk(bad)


def test_anthropic_message_translation() -> None:
    system, messages = to_messages(
        [
            {"role": "system", "content": "Be brief."},
            {"role": "developer", "content": "Cite sources."},
            {"role": "user", "content": "Hi"},
            {"role": "user", "content": [{"type": "text", "text": "again"}]},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [{"id": "t1", "function": {"name": "lookup", "arguments": '{"q": "x"}'}}],
            },
            {"role": "tool", "tool_call_id": "t1", "content": "found"},
        ]
    )
    assert system == "Be brief.\n\nCite sources."
    assert messages == [
        {"role": "user", "content": [{"type": "text", "text": "Hi"}, {"type": "text", "text": "again"}]},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "lookup", "input": {"q": "x"}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "found"}]},
    ]
    tools = to_tools(
        {
            "tools": [{"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}}}],
            "tool_choice": {"type": "function", "function": {"name": "lookup"}},
        }
    )
    assert tools == {
        "tools": [{"name": "lookup", "description": "", "input_schema": {"type": "object"}}],
        "tool_choice": {"type": "tool", "name": "lookup"},
    }


def test_azure_style_provider_options(gw_project, upstreams, make_runtime, gw_client, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    up = upstreams("ok")
    monkeypatch.setenv("TEST_AZURE_KEY", "azure-key-0123456789abcdef")
    write_model_yaml(
        gw_project,
        providers={
            "azure": {
                "kind": "azure",
                "base_url": up.url + "/openai/deployments/gpt",
                "api_key_env": "TEST_AZURE_KEY",
                "options": {"auth_header": "api-key", "query": {"api-version": "2024-10-21"}},
                "headers": {"x-team": "web"},
            }
        },
        models={"az": {"provider": "azure", "model": "gpt-4o"}},
        routes={},
    )
    r = gw_client(make_runtime()).post(
        "/v1/chat/completions", json={"model": "az", "messages": [{"role": "user", "content": "q"}]}
    )
    assert r.status_code == 200
    seen = up.headers_seen[0]
    assert seen["api-key"] == "azure-key-0123456789abcdef" and "authorization" not in seen
    assert seen["x-team"] == "web"


class EchoProvider:
    """A third-party provider: repeats the last user message."""

    name = "echo"

    def __init__(self, config: ProviderConfig) -> None:
        self.prefix = str(config.options.get("prefix", ""))

    async def complete(self, request: ChatRequest, timeout: float | None = None) -> ProviderResult:
        return ProviderResult(text=self.prefix + str(request.messages[-1]["content"]), model=request.model)

    async def stream(self, request: ChatRequest, timeout: float | None = None) -> Any:
        yield StreamDelta(text=self.prefix + str(request.messages[-1]["content"]), finish_reason="stop")

    async def aclose(self) -> None:
        return None


class EchoPlugin:
    @hookimpl
    def register_providers(self, register: Any) -> None:
        register("echo", EchoProvider)


def test_providers_are_plugins(gw_project, make_runtime) -> None:  # type: ignore[no-untyped-def]
    write_model_yaml(
        gw_project,
        providers={"mine": {"kind": "echo", "options": {"prefix": "echo: "}}},
        models={"e": {"provider": "mine", "model": "e1"}},
        routes={},
    )
    rt = make_runtime()
    rt.plugins.register(EchoPlugin())
    c = asyncio.run(get_gateway(rt).complete("e", [{"role": "user", "content": "hello"}]))
    assert c.text == "echo: hello" and c.provider == "mine"


def test_unknown_provider_kind_lists_the_known_ones(gw_project, make_runtime) -> None:  # type: ignore[no-untyped-def]
    write_model_yaml(
        gw_project, providers={"x": {"kind": "nope"}}, models={"m": {"provider": "x", "model": "m"}}, routes={}
    )
    with pytest.raises(ConfigError, match=r"no provider plugin for kind 'nope'.*anthropic.*local.*openai"):
        get_gateway(make_runtime())


def test_openai_provider_against_a_real_loopback_server(gw_project, upstreams, make_runtime) -> None:  # type: ignore[no-untyped-def]
    up = upstreams("ok", answer="hello world")
    write_model_yaml(
        gw_project, providers={"oa": provider(up)}, models={"m": {"provider": "oa", "model": "gpt"}}, routes={}
    )
    gw = get_gateway(make_runtime())

    async def go() -> tuple[str, str]:
        c = await gw.complete("m", [{"role": "user", "content": "q"}])
        parts = [d.text async for _, d in gw.stream("m", [{"role": "user", "content": "q"}])]
        return c.text, "".join(parts)

    assert asyncio.run(go()) == ("hello world", "hello world")
    assert up.requests[1]["stream"] is True and up.requests[1]["stream_options"] == {"include_usage": True}


def test_transport_survives_servers_that_drop_idle_connections(upstreams) -> None:  # type: ignore[no-untyped-def]
    from charter.gateway.providers.transport import PooledTransport

    up = upstreams("ok", close_after=True)
    transport = PooledTransport(up.url + "/v1", {}, connect_timeout=1.0)

    async def go() -> list[int]:
        statuses = []
        for _ in range(20):  # each answer closes its connection; the next call must not fail
            r = await transport.post("/chat/completions", b"{}", {"content-type": "application/json"}, 2.0)
            statuses.append(r.status)
        return statuses

    assert asyncio.run(go()) == [200] * 20


def test_transport_reuses_connections_and_streams_chunked_bodies(upstreams) -> None:  # type: ignore[no-untyped-def]
    from charter.gateway.providers.transport import PooledTransport

    up = upstreams("ok", answer="one two three")
    transport = PooledTransport(up.url + "/v1", {"x-extra": "1"}, connect_timeout=1.0)

    async def go() -> tuple[list[str], int]:
        for _ in range(5):
            await transport.post("/chat/completions", b"{}", {}, 2.0)
        async with transport.stream("/chat/completions", b'{"stream": true}', {}, 2.0) as r:
            lines = [line async for line in r.lines() if line]
        return lines, len(transport._idle)

    lines, idle = asyncio.run(go())
    assert lines[-1] == "data: [DONE]" and len(lines) == 7  # role chunk, 3 words, finish, usage, DONE
    assert idle == 1  # one keep-alive connection served all six calls
    assert up.headers_seen[0]["x-extra"] == "1" and up.headers_seen[0]["host"] == f"127.0.0.1:{up.port}"


def test_proxies_switch_to_httpx(upstreams, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from charter.gateway.providers.transport import HttpxTransport, PooledTransport, make_transport

    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    monkeypatch.setenv("NO_PROXY", "localhost,127.0.0.1")
    assert isinstance(make_transport("https://api.openai.com/v1", {}, 1.0), HttpxTransport)
    assert isinstance(make_transport("http://127.0.0.1:9/v1", {}, 1.0), PooledTransport)
    # The httpx transport speaks the same interface.
    up = upstreams("ok", answer="via httpx")
    transport = HttpxTransport(up.url + "/v1", {}, 1.0)

    async def go() -> tuple[int, list[str]]:
        r = await transport.post("/chat/completions", b"{}", {}, 2.0)
        async with transport.stream("/chat/completions", b'{"stream": true}', {}, 2.0) as s:
            lines = [line async for line in s.lines() if line]
        await transport.aclose()
        return r.status, lines

    status, lines = asyncio.run(go())
    assert status == 200 and lines[-1] == "data: [DONE]"
