"""The OpenAI-compatible API, driven by the official ``openai`` client against a real uvicorn."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from charter.gateway.mock_upstream import MockUpstream
from charter.runtime import Runtime
from tests.gateway.conftest import FAST, LiveServer, provider, write_model_yaml

SOURCES = (
    "Answer from the sources.\n"
    "[S1] (source: 11111111-1111-1111-1111-111111111111#0) The Team plan costs 49 EUR per month. "
    "It includes SSO with Google.\n"
    "[S2] (source: 22222222-2222-2222-2222-222222222222#3) Refunds are processed within 5 business days."
)


def client_for(server: LiveServer, key: str = "sk-anything", **kw: Any) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.url + "/v1", api_key=key, max_retries=0, timeout=30, **kw)


def test_models_list_and_retrieve(live_server: Callable[..., LiveServer]) -> None:
    client = client_for(live_server())
    ids = [m.id for m in client.models.list()]
    assert ids[:4] == ["default", "answer", "drafts", "cloud"]
    assert "local-extractive" in ids
    assert client.models.retrieve("local-extractive").owned_by == "local"
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("nope")


def test_chat_completion_local_answers_with_citations(live_server: Callable[..., LiveServer]) -> None:
    client = client_for(live_server())
    raw = client.chat.completions.with_raw_response.create(
        model="default",
        messages=[{"role": "system", "content": SOURCES}, {"role": "user", "content": "How long do refunds take?"}],
    )
    r = raw.parse()
    assert r.choices[0].message.content == "Refunds are processed within 5 business days. [S2]"
    assert r.model == "local-extractive"
    assert r.usage is not None and r.usage.completion_tokens == 8
    assert (r.model_extra or {})["citations"] == ["22222222-2222-2222-2222-222222222222#3"]
    assert raw.headers["x-charter-route"] == "default"
    unknown = client.chat.completions.create(
        model="default", messages=[{"role": "system", "content": SOURCES}, {"role": "user", "content": "Who is CEO?"}]
    )
    assert unknown.choices[0].message.content == "I don't know based on the provided sources."


def test_streaming_local_over_real_server(live_server: Callable[..., LiveServer]) -> None:
    client = client_for(live_server())
    stream = client.chat.completions.create(
        model="answer",
        stream=True,
        stream_options={"include_usage": True},
        messages=[{"role": "system", "content": SOURCES}, {"role": "user", "content": "What does the Team plan cost?"}],
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "The Team plan costs 49 EUR per month. [S1]"
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == 9


@pytest.mark.parametrize(
    ("body", "status", "param"),
    [
        (b"{not json", 400, None),
        (b"[]", 400, None),
        (b'{"messages": [{"role": "user", "content": "hi"}]}', 400, "model"),
        (b'{"model": "default", "messages": []}', 400, "messages"),
        (b'{"model": "default", "messages": [{"role": "boss", "content": "hi"}]}', 400, "messages[0].role"),
        (
            b'{"model": "default", "messages": [{"role": "user", "content": "hi"}], "temperature": 7}',
            400,
            "temperature",
        ),
        (b'{"model": "default", "messages": [{"role": "user", "content": "hi"}], "bogus": 1}', 400, "bogus"),
        (b'{"model": "default", "messages": [{"role": "user", "content": "hi"}], "n": 3}', 400, "n"),
        (b'{"model": "nope", "messages": [{"role": "user", "content": "hi"}]}', 404, "model"),
    ],
)
def test_bad_requests_get_openai_error_objects(
    gw_client: Callable[..., Any], body: bytes, status: int, param: str | None
) -> None:
    r = gw_client().post("/v1/chat/completions", content=body, headers={"content-type": "application/json"})
    assert r.status_code == status
    error = r.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["param"] == param
    assert error["type"] == "invalid_request_error"


def test_openai_client_raises_typed_errors(live_server: Callable[..., LiveServer]) -> None:
    client = client_for(live_server())
    with pytest.raises(openai.NotFoundError) as info:
        client.chat.completions.create(model="missing", messages=[{"role": "user", "content": "hi"}])
    assert info.value.code == "model_not_found"
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model="default", messages=[{"role": "user", "content": "hi"}], temperature=9)


# -- upstream providers, faults and fallback ------------------------------------------------------


def _two_targets(
    gw_project: Path, primary: MockUpstream, fallback: MockUpstream, kind: str = "openai", **route: Any
) -> None:
    write_model_yaml(
        gw_project,
        providers={"primary": provider(primary), "backup": provider(fallback, kind)},
        models={"p": {"provider": "primary", "model": "gpt-p"}, "b": {"provider": "backup", "model": "gpt-b"}},
        routes={"main": {"policy": "fallback", "targets": ["p", "b"], **route}},
    )


@pytest.mark.parametrize("fault", ["status:500", "status:503", "hang", "malformed", "wrong_shape", "truncate", "drop"])
def test_primary_down_fallback_serves_every_request(
    fault: str,
    gw_project: Path,
    upstreams: Callable[..., MockUpstream],
    make_runtime: Callable[..., Runtime],
    live_server: Callable[..., LiveServer],
) -> None:
    primary, backup = upstreams(fault), upstreams("ok", answer="from backup")
    _two_targets(gw_project, primary, backup)
    if fault == "hang":  # keep the test fast: a short upstream timeout
        text = (gw_project / "configs" / "model.yaml").read_text().replace("timeout: 2.0", "timeout: 0.3")
        (gw_project / "configs" / "model.yaml").write_text(text)
    client = client_for(live_server(make_runtime()))
    n = 6
    started = time.monotonic()
    answers = [
        client.chat.completions.create(model="main", messages=[{"role": "user", "content": f"q{i}"}]) for i in range(n)
    ]
    assert [a.choices[0].message.content for a in answers] == ["from backup"] * n  # 100 % success
    assert len(backup.requests) == n
    # The circuit opens after 3 failures (FAST breaker): later calls skip the primary.
    assert len(primary.requests) < n * 2
    assert time.monotonic() - started < 45  # six 0.3 s timeouts at most, never the 2 s default each (loose: CI load)


@pytest.mark.parametrize("fault", ["status:502", "truncate:1", "malformed", "drop", "hang"])
def test_streaming_falls_back_before_first_token(
    fault: str,
    gw_project: Path,
    upstreams: Callable[..., MockUpstream],
    make_runtime: Callable[..., Runtime],
    live_server: Callable[..., LiveServer],
) -> None:
    # truncate:1 sends only OpenAI's leading role chunk: no content yet, so the next target serves.
    primary, backup = upstreams(fault), upstreams("ok", answer="streamed from backup")
    _two_targets(gw_project, primary, backup)
    if fault == "hang":
        text = (gw_project / "configs" / "model.yaml").read_text().replace("timeout: 2.0", "timeout: 0.3")
        (gw_project / "configs" / "model.yaml").write_text(text)
    client = client_for(live_server(make_runtime()))
    for _ in range(3):
        stream = client.chat.completions.create(model="main", stream=True, messages=[{"role": "user", "content": "q"}])
        assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices) == "streamed from backup"


@pytest.mark.parametrize("fault", ["truncate", "stall"])
def test_stream_failing_after_first_token_ends_with_an_error_event(
    fault: str,
    gw_project: Path,
    upstreams: Callable[..., MockUpstream],
    make_runtime: Callable[..., Runtime],
    live_server: Callable[..., LiveServer],
) -> None:
    primary = upstreams(fault, answer="one two three four five six seven eight")
    write_model_yaml(
        gw_project,
        providers={"primary": provider(primary)},
        models={"p": {"provider": "primary", "model": "gpt-p"}},
        routes={},
        defaults={**FAST, "timeout": 0.5},
    )
    client = client_for(live_server(make_runtime()))
    stream = client.chat.completions.create(model="p", stream=True, messages=[{"role": "user", "content": "q"}])
    with pytest.raises(openai.APIError, match="interrupted"):
        list(stream)


def test_every_target_failing_is_a_clean_502(
    gw_project: Path,
    upstreams: Callable[..., MockUpstream],
    make_runtime: Callable[..., Runtime],
    live_server: Callable[..., LiveServer],
) -> None:
    _two_targets(gw_project, upstreams("status:500"), upstreams("malformed"))
    client = client_for(live_server(make_runtime()))
    with pytest.raises(openai.InternalServerError) as info:
        client.chat.completions.create(model="main", messages=[{"role": "user", "content": "q"}])
    assert info.value.status_code == 502
    assert info.value.code == "all_targets_failed"


def test_429_is_retried_with_backoff_on_the_same_target(
    gw_project: Path,
    upstreams: Callable[..., MockUpstream],
    make_runtime: Callable[..., Runtime],
    gw_client: Callable[..., Any],
) -> None:
    primary, backup = upstreams("status:429", fail_first=1, answer="after retry"), upstreams("ok")
    _two_targets(gw_project, primary, backup)
    r = gw_client(make_runtime()).post(
        "/v1/chat/completions", json={"model": "main", "messages": [{"role": "user", "content": "q"}]}
    )
    assert r.status_code == 200
    assert r.json()["choices"][0]["message"]["content"] == "after retry"
    assert len(primary.requests) == 2 and not backup.requests


def test_anthropic_messages_provider(
    gw_project: Path,
    upstreams: Callable[..., MockUpstream],
    make_runtime: Callable[..., Runtime],
    live_server: Callable[..., LiveServer],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    up = upstreams("ok", answer="Hello from Claude")
    monkeypatch.setenv("TEST_ANTHROPIC_KEY", "sk-ant-test-secret-key-0123456789")
    write_model_yaml(
        gw_project,
        providers={"claude": provider(up, "anthropic", api_key_env="TEST_ANTHROPIC_KEY")},
        models={
            "haiku": {
                "provider": "claude",
                "model": "claude-haiku",
                "price": {"input_per_1m": 1.0, "output_per_1m": 5.0},
            }
        },
        routes={},
    )
    client = client_for(live_server(make_runtime()))
    r = client.chat.completions.create(
        model="haiku",
        max_tokens=50,
        messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}],
    )
    assert r.choices[0].message.content == "Hello from Claude"
    assert r.usage is not None and r.usage.prompt_tokens == 10
    sent = up.requests[0]
    assert sent["system"] == "Be brief." and sent["max_tokens"] == 50
    assert sent["messages"] == [{"role": "user", "content": "Hi"}]
    assert up.headers_seen[0]["x-api-key"] == "sk-ant-test-secret-key-0123456789"
    assert up.headers_seen[0]["anthropic-version"] == "2023-06-01"
    stream = client.chat.completions.create(model="haiku", stream=True, messages=[{"role": "user", "content": "Hi"}])
    assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices) == "Hello from Claude"


def test_openai_provider_sends_key_and_passes_params(
    gw_project: Path,
    upstreams: Callable[..., MockUpstream],
    make_runtime: Callable[..., Runtime],
    gw_client: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    up = upstreams("ok")
    monkeypatch.setenv("TEST_OPENAI_KEY", "sk-test-upstream-secret-0123456789")
    write_model_yaml(
        gw_project,
        providers={"oa": provider(up, api_key_env="TEST_OPENAI_KEY")},
        models={"m": {"provider": "oa", "model": "gpt-upstream"}},
        routes={},
    )
    r = gw_client(make_runtime()).post(
        "/v1/chat/completions",
        json={"model": "m", "messages": [{"role": "user", "content": "q"}], "temperature": 0.2, "max_tokens": 9},
    )
    assert r.status_code == 200
    assert up.requests[0]["model"] == "gpt-upstream"
    assert up.requests[0]["temperature"] == 0.2 and up.requests[0]["max_tokens"] == 9
    assert up.headers_seen[0]["authorization"] == "Bearer sk-test-upstream-secret-0123456789"


def test_unconfigured_provider_key_is_skipped_not_called(
    gw_project: Path,
    upstreams: Callable[..., MockUpstream],
    make_runtime: Callable[..., Runtime],
    gw_client: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("TEST_MISSING_KEY", raising=False)
    up = upstreams("ok")
    write_model_yaml(
        gw_project,
        providers={"oa": provider(up, api_key_env="TEST_MISSING_KEY")},
        models={"m": {"provider": "oa", "model": "x"}},
        routes={"r": {"policy": "fallback", "targets": ["m", "local-extractive"]}},
    )
    r = gw_client(make_runtime()).post(
        "/v1/chat/completions", json={"model": "r", "messages": [{"role": "user", "content": "q"}]}
    )
    assert r.status_code == 200 and r.headers["x-charter-model"] == "local-extractive"
    assert not up.requests


def test_raw_http_stream_is_well_formed_sse(live_server: Callable[..., LiveServer]) -> None:
    server = live_server()
    with httpx.stream(
        "POST",
        server.url + "/v1/chat/completions",
        json={"model": "default", "stream": True, "messages": [{"role": "user", "content": "hello"}]},
    ) as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        lines = [line for line in r.iter_lines() if line]
    assert all(line.startswith("data: ") for line in lines)
    assert lines[-1] == "data: [DONE]"
