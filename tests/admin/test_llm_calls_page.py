"""The LLM calls pages (admins only): the filtered list with older pages, and one call end to end
(request, offered tools and versions, tool calls with arguments, tool results, prompt and
version, model and provider, retrieval sources, cost, trace), read from the gateway's audit."""

from __future__ import annotations

import html
from typing import Any

import pytest

from charter.config import DEMO_DIR
from charter.gateway import get_gateway
from charter.gateway.tools import ToolRegistry
from charter.runtime import Runtime

LOOKUP = ToolRegistry.load(DEMO_DIR / "tools").tools["lookup_plan"].versions["1.1.0"].definition()
ASK = [{"role": "user", "content": "plan: team\nWhat does it cost?"}]


def _calls(client: Any, runtime: Runtime) -> tuple[str, str]:
    """A tool call and the answer to its result, through the real gateway; their audit ids."""
    first = client.post(
        "/v1/chat/completions",
        json={
            "model": "default",
            "messages": ASK,
            "tools": [LOOKUP],
            "tool_choice": {"type": "function", "function": {"name": "lookup_plan"}},
        },
    ).json()
    call = first["choices"][0]["message"]["tool_calls"][0]
    history = [
        *ASK,
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": call["id"], "content": '{"plan": "team", "price_eur_per_month": 49}'},
    ]
    second = client.post("/v1/chat/completions", json={"model": "default", "messages": history, "tools": [LOOKUP]})
    assert second.status_code == 200, second.text
    get_gateway(runtime).audit.flush()
    return first["id"].removeprefix("chatcmpl-"), second.json()["id"].removeprefix("chatcmpl-")


def _uuid(compact: str) -> str:
    return f"{compact[:8]}-{compact[8:12]}-{compact[12:16]}-{compact[16:20]}-{compact[20:]}"


def test_an_admin_reads_the_list_and_one_call_end_to_end(runtime: Runtime, as_role) -> None:  # type: ignore[no-untyped-def]
    admin, _ = as_role("admin")
    tool_call, answer = (_uuid(x) for x in _calls(admin, runtime))
    page = admin.get("/admin/llm-calls")
    assert page.status_code == 200
    assert 'href="/admin/llm-calls" aria-current="page"' in page.text
    assert f'href="/admin/llm-calls/{tool_call}"' in page.text and f'href="/admin/llm-calls/{answer}"' in page.text
    assert "lookup_plan" in page.text and "default → local-extractive" in html.unescape(page.text)

    detail = admin.get(f"/admin/llm-calls/{tool_call}")
    text = html.unescape(detail.text)
    assert detail.status_code == 200
    assert "<td>lookup_plan</td><td>1.1.0</td><td>low</td>" in detail.text  # offered, with its version
    assert '{"plan":"team"}' in text.replace(" ", "")  # the tool call's arguments
    assert "plan: team" in text  # the request
    assert "local-extractive" in text and "local" in text and "USD" in text
    result = html.unescape(admin.get(f"/admin/llm-calls/{answer}").text)
    assert "Tool results sent back" in result and '"price_eur_per_month": 49' in result


def test_filters_and_bad_filters(runtime: Runtime, as_role) -> None:  # type: ignore[no-untyped-def]
    admin, _ = as_role("admin")
    tool_call, answer = (_uuid(x) for x in _calls(admin, runtime))
    refused = admin.get("/admin/llm-calls?status=refused")
    assert refused.status_code == 200 and tool_call not in refused.text and "No LLM calls match." in refused.text
    by_tool = admin.get("/admin/llm-calls?tool=lookup_plan&model=local-extractive")
    assert tool_call in by_tool.text and answer in by_tool.text
    assert admin.get("/admin/llm-calls?tool=open_ticket").text.count("/admin/llm-calls/") == 0
    for query, message in [
        ("status=maybe", "status is one of ok, error, refused"),
        ("since=yesterday", "since is a date and time such as 2026-12-07T10:00, not &#39;yesterday&#39;"),
        ("prompt_version=1.0.0", "prompt_version needs prompt"),
        ("cursor=zzz", "is not one this API gives out"),
    ]:
        r = admin.get(f"/admin/llm-calls?{query}")
        assert r.status_code == 400 and message in r.text, query


def test_older_calls_are_on_the_next_page(runtime: Runtime, as_role) -> None:  # type: ignore[no-untyped-def]
    from charter.admin.views import llm_calls

    admin, _ = as_role("admin")
    for _ in range(llm_calls.PAGE_SIZE // 2 + 1):
        _calls(admin, runtime)
    first = admin.get("/admin/llm-calls?tool=lookup_plan")
    assert first.text.count('<a href="/admin/llm-calls/') == llm_calls.PAGE_SIZE
    assert 'rel="next"' in first.text and "tool=lookup_plan" in first.text.split('rel="next"')[0].rsplit("href=", 1)[1]


@pytest.mark.parametrize("role", ["viewer", "editor", "publisher"])
def test_only_admins_read_llm_calls(runtime: Runtime, as_role, role: str) -> None:  # type: ignore[no-untyped-def]
    client, _ = as_role(role)
    assert client.get("/admin/llm-calls").status_code == 403
    assert client.get("/admin/llm-calls/00000000-0000-4000-8000-000000000000").status_code == 403
    assert 'href="/admin/llm-calls"' not in client.get("/admin").text


def test_an_unknown_call_is_404(as_role) -> None:  # type: ignore[no-untyped-def]
    admin, _ = as_role("admin")
    assert admin.get("/admin/llm-calls/00000000-0000-4000-8000-000000000000").status_code == 404
    assert admin.get("/admin/llm-calls/not!an!id").status_code in (400, 404, 422)
