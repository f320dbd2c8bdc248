"""LLM calls (admins only): the gateway's audit records, a filtered list and one call end to end
(request, offered tools and versions, tool calls with arguments and results, prompt and version,
model and provider, retrieval sources, cost, the trace link). Both pages read through
:mod:`charter.gateway.calls`, the same action as ``GET /v1/manage/llm-calls`` and ``charter audit llm``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response

from charter.admin.security import signed_in
from charter.admin.web import AdminRoute, Ctx, render
from charter.auth.roles import Permission
from charter.exceptions import BadRequest, CharterError, Forbidden

router = APIRouter(route_class=AdminRoute)

CallId = Annotated[str, Path(pattern=r"^[0-9a-f-]{1,36}$")]
#: The list's filters, in the order the form shows them (``since``/``until`` are ISO date-times).
FILTERS = ("key", "route", "model", "prompt", "prompt_version", "tool", "status", "risk", "since", "until")
PAGE_SIZE = 50


async def _admin(request: Request) -> Ctx:
    ctx = await signed_in(request)
    if not ctx.can(Permission.ADMIN):
        raise Forbidden(f"role {ctx.user.role.value!r} may not read the LLM call audit")
    return ctx


def _when(name: str, value: str) -> datetime:
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise BadRequest(f"{name} is a date and time such as 2026-12-07T10:00, not {value!r}") from None


@router.get("/llm-calls")
async def llm_calls_page(request: Request) -> Response:
    from charter.gateway import calls

    ctx = await _admin(request)
    query = request.query_params
    filters = {name: (query.get(name) or "").strip()[:200] for name in FILTERS}
    cursor = query.get("cursor") or None
    page: dict[str, Any] = {"data": [], "next_cursor": None}
    error = ""
    try:
        where = calls.CallFilter(
            **{k: v or None for k, v in filters.items() if k not in ("since", "until")},
            since=_when("since", filters["since"]) if filters["since"] else None,
            until=_when("until", filters["until"]) if filters["until"] else None,
        )

        def read() -> dict[str, Any]:
            with ctx.rt.read() as conn:
                return calls.list_calls(conn, where, limit=PAGE_SIZE, cursor=cursor)

        page = await ctx.call(read)
    except CharterError as exc:
        error = str(exc)
    more = {k: v for k, v in filters.items() if v}
    return render(
        ctx,
        "llm_calls/list.html",
        400 if error else 200,
        title="LLM calls",
        section="llm-calls",
        filters=filters,
        statuses=calls.STATUSES,
        risks=calls.RISKS,
        rows=page["data"],
        next_cursor=page["next_cursor"],
        next_query={**more, "cursor": page["next_cursor"]} if page["next_cursor"] else None,
        error=error,
    )


@router.get("/llm-calls/{call_id}")
async def llm_call_page(request: Request, call_id: CallId) -> Response:
    from charter.gateway import calls

    ctx = await _admin(request)

    def read() -> dict[str, Any]:
        with ctx.rt.read() as conn:
            return calls.get_call(conn, call_id)

    call = await ctx.call(read)
    trace_url = ctx.rt.telemetry.options.trace_link(call.get("trace_id"))
    sources = []
    for source in call.get("retrieval_sources") or []:
        entry, _, chunk = str(source).partition("#")
        sources.append({"id": source, "entry": entry, "chunk": chunk})
    return render(
        ctx,
        "llm_calls/detail.html",
        title=f"LLM call {call_id[:8]}",
        section="llm-calls",
        call=call,
        trace_url=trace_url,
        sources=sources,
    )
