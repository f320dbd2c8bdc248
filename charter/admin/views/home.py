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
from charter.db.tables import entries, revisions

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
        _name_subjects(conn, ctx, activity)
    return {"counts": counts, "activity": activity}


def _name_subjects(conn: sa.Connection, ctx: Ctx, activity: list[dict[str, Any]]) -> None:
    """Give each change a ``label`` (an entry's title and type, a release's name) and an ``href``,
    so the overview names what changed instead of showing ids."""
    from charter.admin.queries import display_title
    from charter.content.releases import releases

    ids = {a["subject_id"] for a in activity if a["subject_type"] == "entry"}
    titles: dict[str, tuple[str, str]] = {}
    if ids:
        rows = conn.execute(
            sa.select(entries.c.id, entries.c.type, entries.c.slug, revisions.c.data)
            .join(
                revisions,
                sa.and_(revisions.c.entry_id == entries.c.id, revisions.c.number == entries.c.current_revision),
            )
            .where(entries.c.id.in_(ids))
        )
        titles = {r.id: (display_title(ctx.rt.registry, r.type, r.data, r.slug), r.type) for r in rows}
    rel_ids = {a["subject_id"] for a in activity if a["subject_type"] == "release"}
    names = (
        dict(conn.execute(sa.select(releases.c.id, releases.c.name).where(releases.c.id.in_(rel_ids))).all())
        if rel_ids
        else {}
    )
    for a in activity:
        kind, subject = a["subject_type"], a["subject_id"]
        if kind == "entry" and subject in titles:
            title, type_name = titles[subject]
            a["label"], a["href"] = f"{type_name} “{title}”", f"/admin/content/{subject}"
        elif kind == "entry":
            a["label"], a["href"] = f"entry {subject[:8]}", f"/admin/content/{subject}"
        elif kind == "release" and subject in names:
            a["label"], a["href"] = f"release “{names[subject]}”", f"/admin/releases/{subject}"
        else:
            a["label"], a["href"] = f"{kind} {subject[:36]}", None


@router.get("/")
async def home(request: Request) -> Response:
    ctx = await signed_in(request)
    values = await ctx.call(_overview, ctx)
    return render(ctx, "home.html", title="Overview", section="home", who=who, panels=HOME_PANELS, **values)
