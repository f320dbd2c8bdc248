"""One audit record per call, redacted before it is stored; provider keys never logged; the
optional redaction before the provider; the audit tables match their migrations."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import sqlalchemy as sa

from charter.gateway import get_gateway
from charter.gateway.redaction import hash_user
from charter.gateway.tables import gateway_calls
from tests.gateway.conftest import flush, provider, write_model_yaml

SECRET = "sk-upstream-secret-value-0123456789"
PII = "I am ana@lumen.example, card 4111 1111 1111 1111, call +49 30 12345678, IP 10.1.2.3"


def rows(rt: Any) -> list[Any]:
    flush(rt)
    with rt.read() as conn:
        return list(conn.execute(sa.select(gateway_calls).order_by(gateway_calls.c.at)))


def test_one_redacted_record_per_chat_call(gw_project, upstreams, make_runtime, gw_client, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("TEST_UP_KEY", SECRET)
    up = upstreams("ok", answer="Reach us at help@lumen.example")
    write_model_yaml(
        gw_project,
        providers={"up": provider(up, api_key_env="TEST_UP_KEY")},
        models={"m": {"provider": "up", "model": "gpt-x", "version": "2026-01", "price": {"input_per_1m": 1.0}}},
        routes={"r": {"policy": "fallback", "targets": ["m"]}},
    )
    rt = make_runtime()
    client = gw_client(rt)
    body = {
        "model": "r",
        "user": "customer-7",
        "messages": [
            {"role": "system", "content": "[S1] (source: e1#2) Refunds take 5 days."},
            {"role": "user", "content": PII},
        ],
    }
    r = client.post("/v1/chat/completions", json=body)
    assert r.status_code == 200
    assert up.requests[0]["messages"][1]["content"] == PII  # the provider sees the original by default
    [row] = rows(rt)
    assert r.json()["id"] == "chatcmpl-" + row.id.replace("-", "")
    assert (row.endpoint, row.route, row.model, row.model_version, row.provider) == ("chat", "r", "m", "2026-01", "up")
    assert row.status == "ok" and row.error is None
    assert row.fallback_chain == [{"model": "m", "provider": "up", "outcome": "ok", "attempt": 1}]
    assert row.retrieval_sources == ["e1#2"]
    assert row.prompt_tokens == 10 and row.completion_tokens == 4 and row.cost > 0 and row.latency_ms > 0
    assert row.user_hash == hash_user("customer-7", get_gateway(rt).pii_key) and "customer-7" not in str(row)
    stored = str(row.request) + str(row.response)
    for leak in ("ana@lumen.example", "4111 1111 1111 1111", "12345678", "10.1.2.3", "help@lumen.example"):
        assert leak not in stored
    assert "[EMAIL]" in stored and "[CARD]" in stored and "[PHONE]" in stored and "[IP]" in stored


def test_streams_and_failures_are_audited_once(gw_project, upstreams, make_runtime, gw_client) -> None:  # type: ignore[no-untyped-def]
    write_model_yaml(
        gw_project,
        providers={"bad": provider(upstreams("status:500"))},
        models={"b": {"provider": "bad", "model": "x"}},
        routes={},
    )
    rt = make_runtime()
    client = gw_client(rt)
    with client.stream(
        "POST",
        "/v1/chat/completions",
        json={"model": "default", "stream": True, "messages": [{"role": "user", "content": "hi"}]},
    ) as r:
        assert r.status_code == 200
        list(r.iter_lines())
    assert (
        client.post(
            "/v1/chat/completions", json={"model": "b", "messages": [{"role": "user", "content": "hi"}]}
        ).status_code
        == 502
    )
    stream_row, failed_row = rows(rt)
    assert stream_row.endpoint == "stream" and stream_row.status == "ok" and stream_row.model == "local-extractive"
    assert failed_row.status == "error" and failed_row.model is None
    assert [s["outcome"] for s in failed_row.fallback_chain] == ["error", "error"]
    assert "every target of route 'b' failed" in failed_row.error


def test_provider_keys_never_reach_a_log_or_a_record(  # type: ignore[no-untyped-def]
    gw_project, upstreams, make_runtime, gw_client, monkeypatch, capfd, caplog
) -> None:
    monkeypatch.setenv("TEST_UP_KEY", SECRET)
    # A careless upstream that repeats the credentials it got in its error body.
    write_model_yaml(
        gw_project,
        providers={"leaky": provider(upstreams("echo_auth"), api_key_env="TEST_UP_KEY")},
        models={"m": {"provider": "leaky", "model": "x"}},
        routes={},
    )
    caplog.set_level(logging.DEBUG)
    rt = make_runtime()
    client = gw_client(rt)
    r = client.post(
        "/v1/chat/completions", json={"model": "m", "messages": [{"role": "user", "content": f"my key is {SECRET}"}]}
    )
    assert r.status_code == 502
    assert SECRET not in r.text
    [row] = rows(rt)
    assert SECRET not in str(tuple(row))
    out, err = capfd.readouterr()
    assert SECRET not in out and SECRET not in err and SECRET not in caplog.text


def test_redact_before_provider(gw_project, upstreams, make_runtime, gw_client) -> None:  # type: ignore[no-untyped-def]
    up = upstreams("ok")
    write_model_yaml(
        gw_project,
        providers={"up": provider(up)},
        models={"m": {"provider": "up", "model": "x"}},
        routes={},
        privacy={"redact_before_provider": True, "log_content": False},
    )
    rt = make_runtime()
    r = gw_client(rt).post("/v1/chat/completions", json={"model": "m", "messages": [{"role": "user", "content": PII}]})
    assert r.status_code == 200
    sent = up.requests[0]["messages"][0]["content"]
    assert "ana@lumen.example" not in sent and "[EMAIL]" in sent and "[CARD]" in sent
    [row] = rows(rt)
    assert row.request is None and row.response is None  # log_content: false keeps only the metadata


def test_library_calls_are_audited_with_their_metadata(gw_project, make_runtime) -> None:  # type: ignore[no-untyped-def]
    rt = make_runtime()
    gw = get_gateway(rt)
    meta = {"retrieval_sources": ["e9#1"], "prompt": "support-answer", "prompt_version": "1.1.0"}
    c = asyncio.run(gw.complete("", [{"role": "user", "content": "hello"}], metadata=meta))
    assert c.route == "default" and c.audit_id
    [row] = rows(rt)
    assert row.id == c.audit_id and row.endpoint == "sdk" and row.key_name == "internal"
    assert (row.prompt, row.prompt_version, row.retrieval_sources) == ("support-answer", "1.1.0", ["e9#1"])


def test_gateway_tables_match_their_migrations(make_runtime) -> None:  # type: ignore[no-untyped-def]
    from charter.gateway import tables

    rt = make_runtime()
    inspector = sa.inspect(rt.engine)
    for table in (
        tables.gateway_calls,
        tables.prompt_releases,
        tables.prompt_labels,
        tables.prompt_label_moves,
        tables.gateway_drafts,
        tables.prompt_evals,
    ):
        migrated = {c["name"]: c for c in inspector.get_columns(table.name)}
        assert set(migrated) == set(table.c.keys()), table.name
        for column in table.c:
            assert migrated[column.name]["nullable"] == column.nullable, (table.name, column.name)
        assert {i.name for i in table.indexes} <= {i["name"] for i in inspector.get_indexes(table.name)}


def _route_r(gw_project: Any, up: Any) -> None:
    """One route, ``r``, to one model on the upstream ``up``."""
    write_model_yaml(
        gw_project,
        providers={"up": provider(up)},
        models={"m": {"provider": "up", "model": "gpt-x"}},
        routes={"r": {"policy": "fallback", "targets": ["m"]}},
    )


def test_a_nul_character_never_costs_the_record(gw_project, upstreams, make_runtime, gw_client, database_url) -> None:  # type: ignore[no-untyped-def]
    """A NUL in a message (valid JSON: "\\u0000") or in a refusal quoting a member name once made
    PostgreSQL refuse the audit row, so the call went unrecorded. Every call is recorded on both
    backends, the NUL written as U+FFFD."""
    up = upstreams("ok", answer="fine")
    _route_r(gw_project, up)
    rt = make_runtime(database_url)
    client = gw_client(rt)
    ok = client.post("/v1/chat/completions", json={"model": "r", "messages": [{"role": "user", "content": "a\x00b"}]})
    assert ok.status_code == 200, ok.text
    refused = client.post(
        "/v1/embeddings", content=b'{"model": "r", "a\\u0000b": 1}', headers={"Content-Type": "application/json"}
    )
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "invalid_json"
    recorded = rows(rt)
    assert [r.status for r in recorded] == ["ok", "refused"], recorded
    assert "\x00" not in str(recorded) and "a\ufffdb" in str(recorded[0].request)


def test_chat_requests_refused_before_routing_are_audited_once(gw_project, upstreams, make_runtime, gw_client) -> None:  # type: ignore[no-untyped-def]
    """A chat request refused for its body (not JSON, not an object, an unknown argument, a bad
    message) is recorded like a refused embeddings request: status ``refused``, the OpenAI error
    code, the model when it named one, its messages bounded; the upstream is never called."""
    up = upstreams("ok", answer="fine")
    _route_r(gw_project, up)
    rt = make_runtime()
    client = gw_client(rt)
    json_type = {"Content-Type": "application/json"}
    bad = [
        b'{"model": "r", "messages": [',  # not JSON
        b"[1, 2]",  # not an object
        b'{"model": "r", "messages": [{"role": "user", "content": "hi"}], "frobnicate": 1}',
        b'{"model": "r", "messages": [{"role": "wizard", "content": "hi"}]}',
        b'{"model": "r", "messages": [{"role": "user", "content": "' + b"x" * 50_000 + b'"}], "n": 3}',
    ]
    for body in bad:
        r = client.post("/v1/chat/completions", content=body, headers=json_type)
        assert r.status_code == 400 and r.json()["error"]["type"] == "invalid_request_error", r.text
    recorded = rows(rt)
    assert [r.status for r in recorded] == ["refused"] * len(bad), recorded
    assert "invalid_json" in recorded[0].error and recorded[1].route == ""
    assert "frobnicate" in recorded[2].error and recorded[2].route == "r"
    assert "wizard" in str(recorded[3].request)
    assert len(str(recorded[4].request)) < 10_000  # the 50,000-character message is kept bounded
    assert up.requests == []


def test_the_writer_sleeps_while_idle_and_the_next_call_wakes_it(gw_project, make_runtime) -> None:  # type: ignore[no-untyped-def]
    """Between calls the audit writer does not poll; the first record after a quiet spell is
    written at once (well before the idle sleep ends), without anyone flushing."""
    import time

    from charter.gateway.audit import IDLE_WAIT

    rt = make_runtime()
    gw = get_gateway(rt)

    def written(n: int, within: float) -> float:
        started = time.monotonic()
        while time.monotonic() - started < within:
            with rt.read() as conn:
                if conn.execute(sa.select(sa.func.count()).select_from(gateway_calls)).scalar_one() >= n:
                    return time.monotonic() - started
            time.sleep(0.01)
        raise AssertionError(f"{n} records not written within {within} s")

    asyncio.run(gw.complete("", [{"role": "user", "content": "one"}]))
    written(1, 2.0)
    started = time.monotonic()
    while not gw.audit._idle:  # one empty wake, then asleep
        assert time.monotonic() - started < 2.0, "the writer never went idle"
        time.sleep(0.01)
    asyncio.run(gw.complete("", [{"role": "user", "content": "two"}]))
    assert written(2, IDLE_WAIT / 2) < 1.0
    gw.audit.close()  # a sleeping writer stops at once too
    assert gw.audit._thread is None
