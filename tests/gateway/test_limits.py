"""Client keys, per-key rate limits, enforced spend budgets and route restrictions."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from charter.gateway.mock_upstream import MockUpstream
from charter.runtime import Runtime
from tests.gateway.conftest import flush, provider, write_model_yaml

TOKEN = "sk-client-token-0123456789"
BODY = {"model": "paid", "messages": [{"role": "user", "content": "hello there"}]}


def _setup(
    gw_project: Path, up: MockUpstream, key: dict[str, Any], monkeypatch: pytest.MonkeyPatch, **extra: Any
) -> None:
    monkeypatch.setenv("TEST_CLIENT_KEY", TOKEN)
    write_model_yaml(
        gw_project,
        providers={"up": provider(up)},
        # The mock answers with 10 prompt tokens and one token per word: "Mock answer from the upstream." = 5.
        models={"paid": {"provider": "up", "model": "m", "price": {"input_per_1m": 1000.0, "output_per_1m": 2000.0}}},
        routes={},
        keys=[{"name": "site", "env": "TEST_CLIENT_KEY", **key}],
        **extra,
    )


def auth(token: str = TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_unknown_and_missing_keys_are_401(gw_project, upstreams, make_runtime, gw_client, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    _setup(gw_project, upstreams("ok"), {}, monkeypatch, anonymous=False)
    client = gw_client(make_runtime())
    r = client.post("/v1/chat/completions", json=BODY, headers=auth("sk-wrong"))
    assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_api_key"
    r = client.post("/v1/chat/completions", json=BODY)
    assert r.status_code == 401 and r.json()["error"]["code"] == "missing_api_key"
    assert client.get("/v1/models").status_code == 401
    assert client.post("/v1/chat/completions", json=BODY, headers=auth()).status_code == 200
    # Azure-style header works too.
    assert client.post("/v1/chat/completions", json=BODY, headers={"api-key": TOKEN}).status_code == 200


def test_key_by_sha256(gw_project, upstreams, make_runtime, gw_client) -> None:  # type: ignore[no-untyped-def]
    write_model_yaml(
        gw_project,
        providers={"up": provider(upstreams("ok"))},
        models={"paid": {"provider": "up", "model": "m"}},
        routes={},
        keys=[{"name": "ci", "sha256": hashlib.sha256(b"sk-hashed-token").hexdigest()}],
    )
    client = gw_client(make_runtime())
    assert client.post("/v1/chat/completions", json=BODY, headers=auth("sk-hashed-token")).status_code == 200
    assert client.post("/v1/chat/completions", json=BODY, headers=auth("sk-other")).status_code == 401


def test_rate_limit_per_key(gw_project, upstreams, make_runtime, gw_client, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    up = upstreams("ok")
    _setup(gw_project, up, {"rpm": 3}, monkeypatch)
    client = gw_client(make_runtime())
    codes = [client.post("/v1/chat/completions", json=BODY, headers=auth()).status_code for _ in range(5)]
    assert codes == [200, 200, 200, 429, 429]
    r = client.post("/v1/chat/completions", json=BODY, headers=auth())
    assert r.json()["error"]["code"] == "rate_limit_exceeded" and int(r.headers["retry-after"]) >= 1
    assert len(up.requests) == 3  # refused calls never reach the upstream
    # Streams count too.
    r = client.post("/v1/chat/completions", json={**BODY, "stream": True}, headers=auth())
    assert r.status_code == 429


def test_budget_is_enforced_not_advisory(gw_project, upstreams, make_runtime, gw_client, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    up = upstreams("ok")
    # One call costs 10 * 1000/1e6 + 5 * 2000/1e6 = 0.02 USD.
    _setup(gw_project, up, {"budget": {"usd": 0.05, "period": "month"}}, monkeypatch)
    rt = make_runtime()
    client = gw_client(rt)
    codes = [client.post("/v1/chat/completions", json=BODY, headers=auth()).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    r = client.post("/v1/chat/completions", json=BODY, headers=auth())
    assert r.json()["error"]["type"] == "insufficient_quota" and r.json()["error"]["code"] == "budget_exceeded"
    assert len(up.requests) == 3


def test_budget_refuses_a_call_whose_max_tokens_would_overspend(  # type: ignore[no-untyped-def]
    gw_project, upstreams, make_runtime, gw_client, monkeypatch
) -> None:
    up = upstreams("ok")
    _setup(gw_project, up, {"budget": {"usd": 0.05}}, monkeypatch)
    client = gw_client(make_runtime())
    # max_tokens 100 at 2000 USD per million output tokens could cost 0.2 USD: more than the budget.
    r = client.post("/v1/chat/completions", json={**BODY, "max_tokens": 100}, headers=auth())
    assert r.status_code == 429 and "may cost up to" in r.json()["error"]["message"]
    assert not up.requests
    assert client.post("/v1/chat/completions", json={**BODY, "max_tokens": 10}, headers=auth()).status_code == 200


def test_spend_survives_a_restart(  # type: ignore[no-untyped-def]
    gw_project, upstreams, make_runtime: Callable[..., Runtime], gw_client, monkeypatch
) -> None:
    up = upstreams("ok")
    _setup(gw_project, up, {"budget": {"usd": 0.02, "period": "day"}}, monkeypatch)
    rt = make_runtime()
    assert gw_client(rt).post("/v1/chat/completions", json=BODY, headers=auth()).status_code == 200
    flush(rt)
    rt2 = make_runtime()  # a new process: the spend comes from the audit records
    client = gw_client(rt2)
    assert client.post("/v1/chat/completions", json=BODY, headers=auth()).status_code == 429


def test_key_route_restriction(gw_project, upstreams, make_runtime, gw_client, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    _setup(gw_project, upstreams("ok"), {"routes": ["default"]}, monkeypatch)
    client = gw_client(make_runtime())
    r = client.post("/v1/chat/completions", json=BODY, headers=auth())
    assert r.status_code == 403 and r.json()["error"]["code"] == "model_not_allowed"
    assert client.post("/v1/chat/completions", json={**BODY, "model": "default"}, headers=auth()).status_code == 200


def test_anonymous_limits_apply_without_a_key(gw_project, upstreams, make_runtime, gw_client) -> None:  # type: ignore[no-untyped-def]
    write_model_yaml(
        gw_project,
        providers={"up": provider(upstreams("ok"))},
        models={"paid": {"provider": "up", "model": "m"}},
        routes={},
        anonymous={"rpm": 2},
    )
    client = gw_client(make_runtime())
    codes = [client.post("/v1/chat/completions", json=BODY).status_code for _ in range(3)]
    assert codes == [200, 200, 429]
