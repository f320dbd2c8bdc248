"""Governance: the schema registry (versions, changes, breaking changes) and the status of every
consumer contract. Reads only; each page calls the schemas and contracts libraries."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from charter import events as ev
from charter.admin.security import check_csrf, read_form, signed_in
from charter.admin.web import AdminRoute, Ctx, render
from charter.exceptions import CharterError

router = APIRouter(route_class=AdminRoute)


def _schemas(ctx: Ctx) -> dict[str, Any]:
    from charter.schemas.releases import registry_status

    types = registry_status(ctx.rt)
    with ctx.rt.read() as conn:
        released = ev.since(conn, 0, [ev.SCHEMA_RELEASED], limit=5000)
    history: dict[str, list[dict[str, Any]]] = {}
    for e in released:
        p = e.payload
        history.setdefault(str(p.get("content_type")), []).append({**p, "at": e.occurred_at})
    for items in history.values():
        items.reverse()  # newest first
    breaks = sum(1 for items in history.values() for p in items if p.get("required_bump") == "major")
    return {"types": types, "history": history, "breaks": breaks}


@router.get("/schemas")
async def schemas(request: Request) -> Response:
    ctx = await signed_in(request)
    values = await ctx.call(_schemas, ctx)
    return render(ctx, "governance/schemas.html", title="Schema registry", section="schemas", **values)


def _contracts(ctx: Ctx, live: bool = False) -> dict[str, Any]:
    from charter import egress
    from charter.contracts import check_contracts, load_contracts, verify_contracts

    folder = ctx.rt.settings.project_dir / "contracts"
    values: dict[str, Any] = {"folder": str(folder), "error": None, "consumers": [], "report": None, "live": live}
    if not folder.is_dir():
        return values
    try:
        contracts = load_contracts(folder)
        report = check_contracts(contracts, ctx.rt.registry)
        if live:
            base = str(ctx.request.base_url).rstrip("/")
            report = verify_contracts(
                contracts,
                base,
                registry=ctx.rt.registry,
                max_entries=50,
                timeout=5.0,
                policy=egress.policy_for(ctx.rt.settings),
            )
    except CharterError as exc:
        values["error"] = exc
        return values
    consumers = []
    for c in contracts:
        failures = [f for f in report.failures if f.consumer == c.consumer and f.file == c.file]
        consumers.append({"contract": c, "failures": failures, "ok": not failures})
    values.update(consumers=consumers, report=report)
    return values


@router.get("/contracts")
async def contracts(request: Request) -> Response:
    ctx = await signed_in(request)
    values = await ctx.call(_contracts, ctx)
    return render(ctx, "governance/contracts.html", title="Contracts", section="contracts", **values)


@router.post("/contracts/verify")
async def verify_live(request: Request) -> Response:
    """Verify every contract against this server's delivery API (published content, every locale)."""
    ctx = await signed_in(request)
    form = await read_form(request)
    check_csrf(ctx, form)
    values = await ctx.call(_contracts, ctx, True)
    return render(ctx, "governance/contracts.html", title="Contracts", section="contracts", **values)
