"""An entry's history: every revision, and the difference between any two of them."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from charter.admin.diffs import diff_rows
from charter.admin.queries import display_title
from charter.admin.security import signed_in
from charter.admin.views.content import who
from charter.admin.web import AdminRoute, Ctx, render
from charter.content import store
from charter.exceptions import BadRequest

router = APIRouter(route_class=AdminRoute)

#: Templates other domains add under the revision list (e.g. rollback), and per-revision actions.
HISTORY_PANELS: list[str] = ["content/_history_rollback.html"]


def _history(ctx: Ctx, entry_id: str) -> dict[str, Any]:
    with ctx.rt.read() as conn:
        entry = store.get_entry(conn, entry_id, include_deleted=True)
        revisions = store.list_revisions(conn, entry_id)
        data = store.get_revision(conn, entry_id, entry.current_revision).data
    return {
        "entry": entry,
        "revisions": list(reversed(revisions)),
        "title_text": display_title(ctx.rt.registry, entry.type, data, entry.slug),
    }


@router.get("/content/{entry_id}/history")
async def history(request: Request, entry_id: str) -> Response:
    ctx = await signed_in(request)
    values = await ctx.call(_history, ctx, entry_id)
    entry = values["entry"]
    return render(
        ctx,
        "content/history.html",
        title=f"History of {values['title_text']}",
        section="content",
        who=who,
        a=max(1, entry.current_revision - 1),
        b=entry.current_revision,
        panels=HISTORY_PANELS,
        notices=[],
        **values,
    )


@router.get("/content/{entry_id}/diff")
async def compare(
    request: Request,
    entry_id: str,
    a: Annotated[int, Query(ge=1)] = 1,
    b: Annotated[int, Query(ge=1)] = 1,
) -> Response:
    ctx = await signed_in(request)

    def load() -> dict[str, Any]:
        values = _history(ctx, entry_id)
        entry = values["entry"]
        for n in (a, b):
            if n > entry.current_revision:
                raise BadRequest(f"entry {entry_id} has no revision {n} (it has {entry.current_revision})")
        with ctx.rt.read() as conn:
            old, new = store.get_revision(conn, entry_id, a), store.get_revision(conn, entry_id, b)
        values.update(old=old, new=new, rows=diff_rows(old.data, new.data))
        return values

    values = await ctx.call(load)
    return render(
        ctx,
        "content/diff.html",
        title=f"Revision {a} and {b} of {values['title_text']}",
        section="content",
        who=who,
        a=a,
        b=b,
        **values,
    )
