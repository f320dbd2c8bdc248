"""Registered tools on the OpenAI-compatible API: offering (registered, drifted, not allowed,
malformed), the model's tool calls (validated, repaired once, refused naming the audit id), tool
results sent back, the audit record; driven by the official ``openai`` client where it can be."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import openai
import orjson
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from charter.gateway.mock_upstream import MockUpstream
from charter.gateway.tables import gateway_calls
from charter.gateway.tools import ToolRegistry
from charter.runtime import Runtime
from tests.gateway.conftest import LiveServer, flush, provider, write_model_yaml

LOOKUP = ToolRegistry.load(__import__("charter.config", fromlist=["DEMO_DIR"]).DEMO_DIR / "tools").tools["lookup_plan"]
LOOKUP_V11 = LOOKUP.versions["1.1.0"].definition()
LOOKUP_V10 = LOOKUP.versions["1.0.0"].definition()
TICKET = LOOKUP_V10 | {"function": {"name": "open_ticket", "parameters": {"type": "object"}}}
ASK = [{"role": "user", "content": "plan: team\nWhat does it cost?"}]


def rows(rt: Runtime) -> list[dict[str, Any]]:
    flush(rt)
    with rt.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(sa.select(gateway_calls).order_by(gateway_calls.c.at))]


def post(client: TestClient, **body: Any) -> Any:
    return client.post("/v1/chat/completions", json={"model": "default", "messages": ASK, **body})


def test_local_calls_a_named_registered_tool_with_valid_arguments(
    live_server: Callable[..., LiveServer], make_runtime: Callable[..., Runtime]
) -> None:
    rt = make_runtime()
    client = openai.OpenAI(base_url=live_server(rt).url + "/v1", api_key="sk-x", max_retries=0, timeout=10)
    r = client.chat.completions.create(
        model="default",
        messages=ASK,  # type: ignore[arg-type]
        tools=[LOOKUP_V11],  # type: ignore[list-item]
        tool_choice={"type": "function", "function": {"name": "lookup_plan"}},
    )
    choice = r.choices[0]
    assert choice.finish_reason == "tool_calls"
    call = choice.message.tool_calls[0]  # type: ignore[index]
    assert call.function.name == "lookup_plan"  # type: ignore[union-attr]
    assert orjson.loads(call.function.arguments) == {"plan": "team"}  # type: ignore[union-attr]
    row = rows(rt)[-1]
    assert row["tools"] == [{"name": "lookup_plan", "version": "1.1.0", "risk": "low"}]
    assert row["tool_calls"] == [{"id": call.id, "name": "lookup_plan", "arguments": call.function.arguments}]  # type: ignore[union-attr]
    assert row["risk"] == "low" and row["status"] == "ok"

    # The result goes back: validated against the result schema, audited; the model answers.
    history: list[Any] = [
        *ASK,
        {"role": "assistant", "content": None, "tool_calls": [call.model_dump()]},
        {"role": "tool", "tool_call_id": call.id, "content": '{"plan": "team", "price_eur_per_month": 49}'},
    ]
    answer = client.chat.completions.create(model="default", messages=history, tools=[LOOKUP_V11])  # type: ignore[list-item]
    assert answer.choices[0].finish_reason == "stop"
    assert rows(rt)[-1]["tool_results"] == [
        {"tool_call_id": call.id, "name": "lookup_plan", "content": '{"plan": "team", "price_eur_per_month": 49}'}
    ]


def test_streamed_tool_call_through_the_openai_client(live_server: Callable[..., LiveServer]) -> None:
    client = openai.OpenAI(base_url=live_server().url + "/v1", api_key="sk-x", max_retries=0, timeout=10)
    chunks = list(
        client.chat.completions.create(
            model="default",
            messages=ASK,  # type: ignore[arg-type]
            tools=[LOOKUP_V10],  # type: ignore[list-item]
            tool_choice="required",
            stream=True,
        )
    )
    deltas = [t for c in chunks if c.choices for t in (c.choices[0].delta.tool_calls or [])]
    assert len(deltas) == 1 and deltas[0].function.name == "lookup_plan"  # type: ignore[union-attr]
    assert orjson.loads(deltas[0].function.arguments) == {"plan": "team"}  # type: ignore[union-attr, arg-type]
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "tool_calls"


@pytest.mark.parametrize(
    ("body", "status", "param", "code"),
    [
        ({"tools": [{"type": "function"}]}, 400, "tools[0].function", None),
        ({"tools": []}, 400, "tools", None),
        ({"tools": [{"type": "function", "function": {"name": "bad name!"}}]}, 400, "tools[0].function.name", None),
        (
            {"tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "bogus"}}}]},
            400,
            "tools[0].function.parameters",
            None,
        ),
        ({"tools": [TICKET | {"function": {"name": "nope"}}]}, 400, "tools[0]", "unregistered_tool"),
        (
            {"tools": [{"type": "function", "function": {"name": "lookup_plan", "parameters": {"type": "object"}}}]},
            400,
            "tools[0].function.parameters",
            "tool_definition_mismatch",
        ),
        ({"tools": [LOOKUP_V10], "tool_choice": "sometimes"}, 400, "tool_choice", None),
        ({"tool_choice": "required"}, 400, "tool_choice", None),
        (
            {"tools": [LOOKUP_V10], "tool_choice": {"type": "function", "function": {"name": "open_ticket"}}},
            400,
            "tool_choice",
            None,
        ),
        (
            {"response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "bogus"}}}},
            400,
            "response_format.json_schema.schema",
            None,
        ),
        ({"response_format": {"type": "yaml"}}, 400, "response_format.type", None),
        ({"stop": [1]}, 400, "stop", None),
    ],
)
def test_bad_tool_parameters_get_openai_errors(
    gw_client: Callable[..., TestClient], body: dict[str, Any], status: int, param: str, code: str | None
) -> None:
    r = post(gw_client(), **body)
    assert r.status_code == status, r.text
    error = r.json()["error"]
    assert error["param"] == param and error["type"] == "invalid_request_error"
    if code:
        assert error["code"] == code


def test_tools_a_route_or_key_may_not_offer_are_refused_and_audited(
    gw_client: Callable[..., TestClient], make_runtime: Callable[..., Runtime]
) -> None:
    rt = make_runtime()
    client = gw_client(rt)
    ticket = {"type": "function", "function": {"name": "open_ticket", **_params("open_ticket")}}
    r = post(client, tools=[ticket])  # open_ticket is offered on the answer route only
    assert r.status_code == 403 and r.json()["error"]["code"] == "tool_not_allowed"
    assert post(client, model="answer", tools=[ticket]).status_code == 200
    refused = [row for row in rows(rt) if row["status"] == "refused"]
    assert len(refused) == 1 and "tool_not_allowed" in refused[0]["error"] and refused[0]["model"] is None


def _params(name: str) -> dict[str, Any]:
    from charter.config import DEMO_DIR

    return {"parameters": ToolRegistry.load(DEMO_DIR / "tools").tools[name].latest.arguments}


@pytest.mark.parametrize(
    ("history", "param", "code"),
    [
        (
            [{"role": "tool", "tool_call_id": "call_ghost", "content": "{}"}],
            "messages[1].tool_call_id",
            "unknown_tool_call_id",
        ),
        (
            [
                {
                    "role": "assistant",
                    "tool_calls": [
                        {
                            "id": "c1",
                            "type": "function",
                            "function": {"name": "lookup_plan", "arguments": '{"plan": "team"}'},
                        }
                    ],
                },
                {"role": "tool", "tool_call_id": "c1", "content": '{"plan": "team"}'},
            ],
            "messages[2].content",
            "invalid_tool_result",
        ),
        (
            [
                {
                    "role": "assistant",
                    "tool_calls": [
                        {"id": "c1", "type": "function", "function": {"name": "lookup_plan", "arguments": "{plan"}}
                    ],
                },
            ],
            "messages[1].tool_calls[0].function.arguments",
            "invalid_tool_arguments",
        ),
        (
            [
                {
                    "role": "assistant",
                    "tool_calls": [
                        {
                            "id": "c1",
                            "type": "function",
                            "function": {"name": "lookup_plan", "arguments": '{"plan": "gold"}'},
                        }
                    ],
                },
            ],
            "messages[1].tool_calls[0].function.arguments",
            "invalid_tool_arguments",
        ),
        (
            [
                {
                    "role": "assistant",
                    "tool_calls": [
                        {
                            "id": "c1",
                            "type": "function",
                            "function": {"name": "lookup_plan", "arguments": '{"plan": "' + "x" * 20000 + '"}'},
                        }
                    ],
                },
            ],
            "messages[1].tool_calls[0].function.arguments",
            "invalid_tool_arguments",
        ),
    ],
)
def test_bad_tool_traffic_in_the_conversation(
    gw_client: Callable[..., TestClient], history: list[dict[str, Any]], param: str, code: str
) -> None:
    r = post(gw_client(), messages=[*ASK, *history], tools=[LOOKUP_V10])
    assert r.status_code == 400, r.text
    assert (r.json()["error"]["param"], r.json()["error"]["code"]) == (param, code)


def _upstream_project(upstreams: Callable[..., MockUpstream], gw_project: Any, **mock: Any) -> MockUpstream:
    up = upstreams(**mock)
    write_model_yaml(
        gw_project,
        {"up": provider(up)},
        {"mock": {"provider": "up", "model": "m"}},
        {
            "answer": {"targets": ["mock"]},
            "tooly": {"targets": ["mock"]},
            "open": {"targets": ["mock"], "unregistered_tools": True},
        },
    )
    return up


def test_invalid_tool_call_is_repaired_once(
    upstreams: Callable[..., MockUpstream],
    gw_project: Any,
    gw_client: Callable[..., TestClient],
    make_runtime: Callable[..., Runtime],
) -> None:
    up = _upstream_project(
        upstreams,
        gw_project,
        tool_calls=[
            [{"name": "lookup_plan", "arguments": '{"plan": "gold"}'}],
            [{"name": "lookup_plan", "arguments": '{"plan": "team"}'}],
        ],
    )
    rt = make_runtime()
    r = post(gw_client(rt), model="answer", tools=[LOOKUP_V10])
    assert r.status_code == 200, r.text
    assert r.json()["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"] == '{"plan": "team"}'
    repair = up.requests[1]["messages"]
    assert repair[-1]["role"] == "tool" and "/plan" in repair[-1]["content"]
    row = rows(rt)[-1]
    assert row["validation"]["tool_calls"] == "repaired" and len(row["tool_calls"]) == 2


def test_tool_call_still_invalid_after_repair_names_the_audit_id(
    upstreams: Callable[..., MockUpstream],
    gw_project: Any,
    gw_client: Callable[..., TestClient],
    make_runtime: Callable[..., Runtime],
) -> None:
    _upstream_project(upstreams, gw_project, tool_call={"name": "lookup_plan", "arguments": "not json"})
    rt = make_runtime()
    r = post(gw_client(rt), model="answer", tools=[LOOKUP_V10])
    assert r.status_code == 502 and r.json()["error"]["code"] == "invalid_tool_call"
    row = rows(rt)[-1]
    assert row["id"] in r.json()["error"]["message"] and row["status"] == "error"
    assert row["tool_calls"][0]["arguments"] == "not json"


def test_streamed_invalid_tool_call_ends_with_an_error_event(
    upstreams: Callable[..., MockUpstream], gw_project: Any, live_server: Callable[..., LiveServer]
) -> None:
    _upstream_project(upstreams, gw_project, tool_call={"name": "lookup_plan", "arguments": '{"plan": 3}'})
    client = openai.OpenAI(base_url=live_server().url + "/v1", api_key="sk-x", max_retries=0, timeout=10)
    with pytest.raises(openai.APIError, match="audit id"):
        list(client.chat.completions.create(model="answer", messages=ASK, tools=[LOOKUP_V10], stream=True))  # type: ignore[arg-type, list-item]


def test_unregistered_tools_pass_on_a_route_that_allows_them(
    upstreams: Callable[..., MockUpstream], gw_project: Any, gw_client: Callable[..., TestClient]
) -> None:
    up = _upstream_project(upstreams, gw_project, tool_call={"name": "weather", "arguments": '{"city": "Oslo"}'})
    weather = {"type": "function", "function": {"name": "weather", "parameters": {"type": "object"}}}
    client = gw_client()
    assert post(client, model="tooly", tools=[weather]).json()["error"]["code"] == "unregistered_tool"
    r = post(client, model="open", tools=[weather])
    assert r.status_code == 200 and r.json()["choices"][0]["finish_reason"] == "tool_calls"
    assert up.requests[-1]["tools"] == [weather]


def test_local_provider_honours_max_tokens_stop_and_strict_schema(gw_client: Callable[..., TestClient]) -> None:
    client = gw_client()
    sources = "[S1] (source: e#0) The Team plan costs 49 EUR per month and includes SSO."
    msgs = [{"role": "system", "content": sources}, {"role": "user", "content": "What does the Team plan cost?"}]
    r = post(client, messages=msgs, max_tokens=3).json()
    assert r["choices"][0]["finish_reason"] == "length" and len(r["choices"][0]["message"]["content"].split()) == 3
    r = post(client, messages=msgs, stop=["49"]).json()
    assert r["choices"][0]["message"]["content"] == "The Team plan costs "
    schema = {
        "type": "object",
        "required": ["plan", "seats"],
        "properties": {"plan": {"type": "string"}, "seats": {"type": "integer", "minimum": 1}},
    }
    fmt = {"type": "json_schema", "json_schema": {"name": "plan", "schema": schema, "strict": True}}
    r = post(client, messages=[{"role": "user", "content": "plan: Team"}], response_format=fmt).json()
    assert orjson.loads(r["choices"][0]["message"]["content"]) == {"plan": "Team", "seats": 1}
