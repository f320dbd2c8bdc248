"""The review queue in the admin: the backlog oldest first, one item with everything its audit
record says, and the claim and label forms. Every page and button calls :mod:`charter.review.queue`,
the same functions as ``/v1/manage/review`` and ``charter review`` (docs/review.md)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from charter.admin.security import check_csrf, read_form, signed_in
from charter.admin.web import AdminRoute, Ctx, redirect, render
from charter.exceptions import BadRequest, CharterError

router = APIRouter(route_class=AdminRoute)

ItemId = Annotated[str, Path(pattern=r"^[0-9a-f-]{36}$")]
DONE = {
    "claimed": "This item is yours for the lease: label it, or let it go.",
    "released": "You let go of this item; another reviewer may take it.",
    "labelled": "Labelled: the label is final and will be exported as an eval case.",
}
LABEL_TEXT = {
    "correct": "Correct",
    "incorrect": "Incorrect",
    "should_have_refused": "Should have refused",
    "citation_wrong": "Citation wrong",
    "unsafe": "Unsafe",
}


def _text(exc: Exception) -> str:
    t = str(exc)
    return t[:1].upper() + t[1:] + ("" if t.endswith(".") else ".")


def age(seconds: float | None) -> str:
    """``3 min``, ``2.5 h``, ``4.0 days`` (as the queue shows an item's age)."""
    if seconds is None:
        return "—"
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


@router.get("/review")
async def review_page(
    request: Request,
    status: Annotated[str, Query(pattern="^(pending|reviewed)$")] = "pending",
) -> Response:
    from charter.review import queue

    ctx = await signed_in(request)
    error = ""

    def load() -> tuple[list[dict[str, Any]], dict[str, Any]]:
        return queue.list_items(ctx.rt, ctx.actor, queue.ItemFilter(status=status), 200), queue.stats(ctx.rt)

    try:
        items, stats = await ctx.call(load)
    except CharterError as exc:  # a broken review.yaml: say which
        items, stats, error = [], {}, _text(exc)
    return render(
        ctx,
        "review/list.html",
        title="Review",
        section="review",
        items=items,
        stats=stats,
        showing=status,
        error=error,
        age=age,
        labels=LABEL_TEXT,
    )


def _item(ctx: Ctx, item_id: str, status: int = 200, **state: Any) -> Response:
    from charter.review import queue

    item = queue.get_item(ctx.rt, ctx.actor, item_id)
    mine = item["claimed_by"] == queue.reviewer(ctx.actor)
    return render(
        ctx,
        "review/item.html",
        status,
        title=f"Review item {item_id[:8]}",
        section="review",
        item=item,
        mine=mine,
        age=age,
        labels=LABEL_TEXT,
        notices=state.pop("notices", []),
        error=state.pop("error", ""),
        values=state.pop("values", {}),
    )


@router.get("/review/{item_id}")
async def item_page(request: Request, item_id: ItemId) -> Response:
    ctx = await signed_in(request)
    notices = [DONE[d] for d in request.query_params.getlist("done") if d in DONE]
    return await ctx.call(_item, ctx, item_id, notices=notices)


async def _act(request: Request, item_id: str, verb: str) -> Response:
    from charter.review import queue

    ctx = await signed_in(request)
    form = await read_form(request)
    values = {k: str(form.get(k) or "") for k in ("label", "comment", "facts", "version")}
    try:
        check_csrf(ctx, form)
        if verb == "claim":
            await ctx.call(queue.claim, ctx.rt, ctx.actor, item_id)
            return redirect(f"/admin/review/{item_id}?done=claimed")
        if verb == "unclaim":
            await ctx.call(queue.unclaim, ctx.rt, ctx.actor, item_id)
            return redirect(f"/admin/review/{item_id}?done=released")
        if not values["label"]:
            raise BadRequest("choose a verdict before you save the label")
        facts = [line.strip() for line in values["facts"].splitlines() if line.strip()] or None
        version = int(values["version"]) if values["version"].isdigit() else None
        await ctx.call(
            lambda: queue.label(
                ctx.rt, ctx.actor, item_id, values["label"], comment=values["comment"], facts=facts, version=version
            )
        )
    except CharterError as exc:
        return await ctx.call(_item, ctx, item_id, exc.status, error=_text(exc), values=values)
    return redirect(f"/admin/review/{item_id}?done=labelled")


@router.post("/review/{item_id}/claim")
async def claim(request: Request, item_id: ItemId) -> Response:
    return await _act(request, item_id, "claim")


@router.post("/review/{item_id}/unclaim")
async def unclaim(request: Request, item_id: ItemId) -> Response:
    return await _act(request, item_id, "unclaim")


@router.post("/review/{item_id}/label")
async def label(request: Request, item_id: ItemId) -> Response:
    return await _act(request, item_id, "label")
