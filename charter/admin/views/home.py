"""The overview: what needs attention, and the latest changes from the audit log."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Request
from fastapi.responses import Response

from charter.admin.security import signed_in
from charter.admin.views.content import who
from charter.admin.web import AdminRoute, Ctx, render
from charter.audit import list_audit
from charter.content import store
from charter.db.tables import entries

router = APIRouter(route_class=AdminRoute)

#: Templates other domains add to the overview (``home/_*.html``), each given ``ctx``.
HOME_PANELS: list[str] = []


def _overview(ctx: Ctx) -> dict[str, Any]:
    with ctx.rt.read() as conn:
        counts = {
            status: conn.execute(
                sa.select(sa.func.count()).select_from(entries).where(store._status_clause(status))
            ).scalar_one()
            for status in ("draft", "changed", "published")
        }
        activity = list_audit(conn, limit=15)
    return {"counts": counts, "activity": activity}


@router.get("/")
async def home(request: Request) -> Response:
    ctx = await signed_in(request)
    values = await ctx.call(_overview, ctx)
    return render(ctx, "home.html", title="Overview", section="home", who=who, panels=HOME_PANELS, **values)
