"""``GET /v1/manage/llm-calls``: the gateway's audit records, for admins (docs/gateway.md#reading-the-audit)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from charter.auth.deps import require
from charter.auth.roles import Actor, Permission
from charter.gateway import calls
from charter.observability.errors import problem_responses

router = APIRouter(prefix="/v1/manage/llm-calls", tags=["gateway audit"])
ADMIN = Depends(require(Permission.ADMIN))


class LLMCallSummary(BaseModel):
    id: str
    at: str
    endpoint: str
    key_name: str
    route: str
    model: str | None
    prompt: str | None
    prompt_version: str | None
    status: str = Field(description="ok | error | refused (refused before routing)")
    risk: str | None
    latency_ms: float
    cost: float
    tools: list[dict[str, Any]] | None = Field(
        description="offered: name, registered version (null: unregistered), risk"
    )
    tool_calls: list[dict[str, Any]]


class LLMCallPage(BaseModel):
    data: list[LLMCallSummary]
    next_cursor: str | None = Field(description="pass as cursor for the next (older) page; null on the last")


class LLMCall(LLMCallSummary):
    user_hash: str | None
    model_version: str | None
    provider: str | None
    fallback_chain: list[dict[str, Any]]
    retrieval_sources: list[Any]
    tool_results: list[dict[str, Any]] | None
    validation: dict[str, Any] | None
    error: str | None
    prompt_tokens: int
    completion_tokens: int
    request: Any = Field(description="the redacted messages (null with privacy.log_content: false)")
    response: str | None
    trace_id: str | None = Field(
        default=None, description="the call's trace (32 hex digits; null when it was not traced), docs/observability.md"
    )
    trace_url: str | None = Field(
        default=None, description="the trace in the operator's tracing backend ([charter.telemetry] trace_url), or null"
    )


@router.get(
    "",
    operation_id="listLLMCalls",
    summary="Audit records of LLM calls, newest first, filtered",
    response_model=LLMCallPage,
    responses=problem_responses(400, 401, 403),
)
async def list_llm_calls(
    request: Request,
    actor: Annotated[Actor, ADMIN],
    since: Annotated[datetime | None, Query(description="at or after (ISO 8601)")] = None,
    until: Annotated[datetime | None, Query(description="before (ISO 8601)")] = None,
    key: Annotated[str | None, Query(max_length=200)] = None,
    route: Annotated[str | None, Query(max_length=200)] = None,
    model: Annotated[str | None, Query(max_length=200)] = None,
    prompt: Annotated[str | None, Query(max_length=200)] = None,
    prompt_version: Annotated[str | None, Query(max_length=40)] = None,
    tool: Annotated[str | None, Query(max_length=64)] = None,
    status: Annotated[str | None, Query(pattern="^(ok|error|refused)$")] = None,
    risk: Annotated[str | None, Query(pattern="^(low|medium|high)$")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[
        str | None, Query(pattern=calls.CURSOR_PATTERN, description="next_cursor of the previous page")
    ] = None,
) -> dict[str, Any]:
    where = calls.CallFilter(since, until, key, route, model, prompt, prompt_version, tool, status, risk)
    rt = request.app.state.runtime

    def run() -> dict[str, Any]:
        with rt.read() as conn:
            return calls.list_calls(conn, where, limit=limit, cursor=cursor)

    return await run_in_threadpool(run)


@router.get(
    "/{call_id}",
    operation_id="getLLMCall",
    summary="One LLM call end to end: messages, offered tools, tool calls and results, sources, cost",
    response_model=LLMCall,
    responses=problem_responses(401, 403, 404),
)
async def get_llm_call(request: Request, call_id: str, actor: Annotated[Actor, ADMIN]) -> dict[str, Any]:
    rt = request.app.state.runtime

    def run() -> dict[str, Any]:
        with rt.read() as conn:
            call = calls.get_call(conn, call_id)
        call["trace_url"] = rt.telemetry.options.trace_link(call.get("trace_id")) or None
        return call

    return await run_in_threadpool(run)
