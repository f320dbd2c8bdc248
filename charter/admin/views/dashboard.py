"""The metrics dashboard: the seed's maintainability metrics and DORA, now and over time.

One call to :func:`charter.metrics.series.dashboard` gives the current report and every metric's
series; the page draws them with uPlot (vendored from npm) and shows the same numbers as tables,
so nothing depends on seeing a chart."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from charter.admin.security import signed_in
from charter.admin.web import AdminRoute, Ctx, render

router = APIRouter(route_class=AdminRoute)

BUCKETS = {"day": 30, "week": 12, "month": 12}


def _load(ctx: Ctx, bucket: str) -> dict[str, Any]:
    from charter.metrics.series import dashboard

    data = dashboard(ctx.rt, bucket=bucket, points=BUCKETS[bucket])
    results = data["report"]["results"]
    return {
        "report": data["report"],
        "results": results,
        "series": data["series"],
        "chart_data": _json_for_script({"series": data["series"]}),
    }


def _json_for_script(value: Any) -> str:
    """JSON safe inside <script type="application/json">: "<" never appears raw (no "</script>")."""
    return (
        json.dumps(value, separators=(",", ":")).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    )


@router.get("/dashboard")
async def dashboard_page(
    request: Request, bucket: Annotated[str, Query(pattern="^(day|week|month)$")] = "week"
) -> Response:
    ctx = await signed_in(request)
    values = await ctx.call(_load, ctx, bucket)
    return render(
        ctx, "dashboard.html", title="Metrics", section="dashboard", bucket=bucket, buckets=list(BUCKETS), **values
    )
