"""Reading the gateway audit: ``GET /v1/manage/llm-calls`` (filters, cursor pages, admin only),
``charter audit llm``, and OpenAI error objects for unknown gateway URLs."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from charter.auth.roles import SYSTEM, Role
from charter.auth.tokens import create_token
from charter.cli.commands import audit as audit_cli
from charter.cli.errors import run_cli
from charter.gateway.tools import ToolRegistry
from charter.runtime import Runtime
from tests.gateway.conftest import flush

ASK = [{"role": "user", "content": "plan: team\nWhat does it cost? Mail me at jo@example.com"}]


def _calls(rt: Runtime, client: TestClient) -> dict[str, str]:
    """Four calls: plain, with a tool on default, a refused tool, an unknown tool; admin and viewer tokens."""
    lookup = ToolRegistry.load(rt.settings.project_dir / "tools").tools["lookup_plan"].latest.definition()
    ticket = ToolRegistry.load(rt.settings.project_dir / "tools").tools["open_ticket"].latest.definition()
    assert client.post("/v1/chat/completions", json={"model": "default", "messages": ASK}).status_code == 200
    choice = {"type": "function", "function": {"name": "lookup_plan"}}
    body = {"model": "answer", "messages": ASK, "tools": [lookup], "tool_choice": choice}
    assert client.post("/v1/chat/completions", json=body).status_code == 200
    body = {"model": "default", "messages": ASK, "tools": [ticket]}
    assert client.post("/v1/chat/completions", json=body).status_code == 403
    flush(rt)
    return {r: create_token(rt, SYSTEM, f"t-{r}", r)[0] for r in (Role.ADMIN.value, Role.VIEWER.value)}


def test_filters_pages_and_one_call_end_to_end(
    gw_client: Callable[..., TestClient], make_runtime: Callable[..., Runtime]
) -> None:
    rt = make_runtime()
    client = gw_client(rt)
    tokens = _calls(rt, client)
    auth = {"authorization": f"Bearer {tokens['admin']}"}
    page = client.get("/v1/manage/llm-calls", headers=auth).json()
    assert [c["status"] for c in page["data"]] == ["refused", "ok", "ok"] and page["next_cursor"] is None

    def ids(**query: Any) -> list[str]:
        r = client.get("/v1/manage/llm-calls", params=query, headers=auth)
        assert r.status_code == 200, r.text
        return [c["route"] + ":" + c["status"] for c in r.json()["data"]]

    assert ids(tool="lookup_plan") == ["answer:ok"]
    assert ids(tool="open_ticket") == ["default:refused"]
    assert ids(status="refused", route="default") == ["default:refused"]
    assert ids(risk="low") == ["answer:ok"]
    assert ids(model="local-extractive", route="default") == ["default:ok"]
    assert ids(key="nobody") == []
    assert ids(since="2100-01-01T00:00:00Z") == []

    first = client.get("/v1/manage/llm-calls", params={"limit": 2}, headers=auth).json()
    second = client.get("/v1/manage/llm-calls", params={"limit": 2, "cursor": first["next_cursor"]}, headers=auth)
    seen = [c["id"] for c in first["data"]] + [c["id"] for c in second.json()["data"]]
    assert len(set(seen)) == 3 and second.json()["next_cursor"] is None

    tooled = next(c for c in page["data"] if c["route"] == "answer")
    one = client.get(f"/v1/manage/llm-calls/{tooled['id']}", headers=auth).json()
    assert one["tools"] == [{"name": "lookup_plan", "version": "1.1.0", "risk": "low"}]
    assert json.loads(one["tool_calls"][0]["arguments"]) == {"plan": "team"}
    assert "[EMAIL]" in json.dumps(one["request"]) and "jo@example.com" not in json.dumps(one)
    assert one["model_version"] == "1" and one["cost"] == 0.0


@pytest.mark.parametrize(
    ("query", "token", "status"),
    [
        ({}, None, 401),
        ({}, "viewer", 403),
        ({"status": "maybe"}, "admin", 422),
        ({"cursor": "@@@"}, "admin", 422),
        ({"prompt_version": "1.0.0"}, "admin", 400),
        ({"limit": 0}, "admin", 422),
    ],
)
def test_bad_requests_and_roles(
    gw_client: Callable[..., TestClient],
    make_runtime: Callable[..., Runtime],
    query: dict[str, Any],
    token: str | None,
    status: int,
) -> None:
    rt = make_runtime()
    client = gw_client(rt)
    tokens = {r: create_token(rt, SYSTEM, f"t-{r}", r)[0] for r in ("admin", "viewer")}
    headers = {"authorization": f"Bearer {tokens[token]}"} if token else {}
    r = client.get("/v1/manage/llm-calls", params=query, headers=headers)
    assert r.status_code == status and r.headers["content-type"].startswith("application/problem+json")
    assert (
        client.get("/v1/manage/llm-calls/nope", headers={"authorization": f"Bearer {tokens['admin']}"}).status_code
        == 404
    )


def test_cli_lists_and_shows(
    gw_client: Callable[..., TestClient],
    make_runtime: Callable[..., Runtime],
    monkeypatch: pytest.MonkeyPatch,
    capsys: Any,
) -> None:
    rt = make_runtime()
    _calls(rt, gw_client(rt))
    monkeypatch.setenv("CHARTER_DATABASE_URL", str(rt.settings.database_url))

    def invoke(*args: str) -> tuple[int, str, str]:
        try:
            run_cli(audit_cli.app, [*args, "--project", str(rt.settings.project_dir)])
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
        out, err = capsys.readouterr()
        return code, out, err

    code, out, _ = invoke("llm", "list", "--tool", "lookup_plan", "--json")
    listed = json.loads(out)["data"]
    assert code == 0 and len(listed) == 1
    code, out, _ = invoke("llm", "show", listed[0]["id"])
    assert code == 0 and json.loads(out)["tools"][0]["name"] == "lookup_plan"
    code, _, err = invoke("llm", "show", "nope")
    assert code == 1 and "no LLM call 'nope'" in err
    code, _, err = invoke("llm", "list", "--status", "maybe")
    assert code == 1 and "status is one of" in err


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/v1/completions"),
        ("GET", "/v1/chat/completions"),
        ("POST", "/v1/responses/x"),
        ("GET", "/v1/embeddings"),
        ("POST", "/v1/foo"),
        ("GET", "/v1/foo/bar"),
        ("GET", "/v1"),
    ],
)
def test_unknown_gateway_urls_answer_openai_errors(
    gw_client: Callable[..., TestClient], method: str, path: str
) -> None:
    r = gw_client().request(method, path, json={})
    assert r.status_code == 404 and r.json()["error"]["type"] == "invalid_request_error"
    assert r.json()["error"]["message"] == f"Invalid URL ({method} {path})"


@pytest.mark.parametrize("path", ["/v1/manage/nope", "/v1/entries/x/y/z", "/v1/prompts/a/b/c/d", "/v2/foo", "/nope"])
def test_charter_api_families_keep_problem_json(gw_client: Callable[..., TestClient], path: str) -> None:
    r = gw_client().get(path)
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"


def test_a_body_over_the_limit_is_an_openai_error_on_gateway_paths(
    make_runtime: Callable[..., Runtime], gw_client: Callable[..., TestClient]
) -> None:
    client = gw_client(make_runtime(max_body_bytes=1000))
    big = {"model": "default", "messages": [{"role": "user", "content": "x" * 2000}]}
    for path in ("/v1/chat/completions", "/v1/embeddings"):
        r = client.post(path, json=big)
        assert r.status_code == 413 and r.json()["error"]["code"] == "request_too_large", path
    r = client.post("/v1/manage/entries", json=big)
    assert r.status_code == 413 and r.headers["content-type"] == "application/problem+json"


class _Broken:
    """A provider with a bug: it raises something that is not a ProviderError."""

    name = "broken"

    def __init__(self, config: Any) -> None:
        self.name = config.name

    async def complete(self, request: Any, timeout: float | None = None) -> Any:
        raise RuntimeError("a bug in a provider plugin")

    async def stream(self, request: Any, timeout: float | None = None) -> Any:
        raise RuntimeError("a bug in a provider plugin")
        yield

    async def aclose(self) -> None:
        return None


class _BrokenPlugin:
    from charter.hookspecs import hookimpl

    @hookimpl
    def register_providers(self, register: Any) -> None:
        register("broken", _Broken)


def test_a_bug_on_a_gateway_route_is_an_openai_error(
    gw_project: Any, make_runtime: Callable[..., Runtime], gw_client: Callable[..., TestClient]
) -> None:
    from tests.gateway.conftest import write_model_yaml

    write_model_yaml(gw_project, {"bad": {"kind": "broken"}}, {"b": {"provider": "bad", "model": "b"}}, {})
    rt = make_runtime()
    rt.plugins.register(_BrokenPlugin())
    r = gw_client(rt).post("/v1/chat/completions", json={"model": "b", "messages": [{"role": "user", "content": "x"}]})
    assert r.status_code == 500 and r.headers["content-type"] == "application/json"
    assert r.json()["error"] == {
        "message": "an unexpected error occurred; it has been logged",
        "type": "api_error",
        "param": None,
        "code": "internal_error",
    }
