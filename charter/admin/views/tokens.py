"""Design tokens: colour swatches per theme with their contrast results, from
:func:`charter.tokens.check.check_tokens` (the same checks as ``charter tokens validate``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from charter.admin.security import signed_in
from charter.admin.web import AdminRoute, Ctx, render

router = APIRouter(route_class=AdminRoute)


def _load(ctx: Ctx) -> dict[str, Any]:
    from charter.tokens.check import check_tokens

    folder = ctx.rt.settings.project_dir / "tokens"
    if not folder.exists():
        return {"folder": str(folder), "result": None}
    return {"folder": str(folder), "result": check_tokens([folder])}


@router.get("/tokens")
async def tokens_page(request: Request) -> Response:
    ctx = await signed_in(request)
    values = await ctx.call(_load, ctx)
    return render(ctx, "tokens.html", title="Design tokens", section="tokens", **values)
