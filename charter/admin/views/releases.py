"""Releases and the review workflow: create, add changes, submit, approve or reject with a comment,
schedule, publish, roll back, and preview everything as it will publish. Each button calls one
action of :mod:`charter.content.actions` (release, approve, schedule, release_publish, rollback),
the same functions as the API and ``charter releases``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from charter.admin.diffs import diff_rows
from charter.admin.queries import display_title
from charter.admin.security import check_csrf, read_form, signed_in
from charter.admin.views.content import who
from charter.admin.web import AdminRoute, Ctx, redirect, render
from charter.content import store
from charter.content.releases import STATUSES
from charter.exceptions import BadRequest, CharterError, NotFound

router = APIRouter(route_class=AdminRoute)

DONE = {
    "created": "Release created. Add the changes it should publish.",
    "added": "Change added.",
    "removed": "Change removed.",
    "submit": "Submitted for review.",
    "withdraw": "Withdrawn to draft: it can be changed again.",
    "approve": "Approved.",
    "reject": "Rejected with your comment; the authors can change it and submit again.",
    "schedule": "Scheduled.",
    "unschedule": "Schedule cancelled; the release stays approved.",
    "publish": "Published: every change in the release is live.",
    "rollback": "Rolled back: what was live before the release is live again.",
    "deleted": "Release deleted.",
    "revoked": "Preview link revoked: the delivery API refuses it from now on.",
}
TIMEZONES = (
    "UTC",
    "Europe/Berlin",
    "Europe/Vienna",
    "Europe/London",
    "America/New_York",
    "America/Los_Angeles",
    "Asia/Tokyo",
    "Australia/Sydney",
)


def _text(exc: Exception) -> str:
    t = str(exc)
    return t[:1].upper() + t[1:] + ("" if t.endswith(".") else ".")


def _list(ctx: Ctx, status: str | None) -> list[Any]:
    from charter.content.releases import list_releases

    with ctx.rt.read() as conn:
        return list_releases(conn, status)


@router.get("/releases")
async def releases_page(request: Request, status: Annotated[str, Query(max_length=20)] = "") -> Response:
    ctx = await signed_in(request)
    if status and status not in STATUSES:
        raise BadRequest(f"there is no release status {status!r}")
    rows = await ctx.call(_list, ctx, status or None)
    notices = [DONE[d] for d in request.query_params.getlist("done") if d in DONE]
    return render(
        ctx,
        "releases/list.html",
        title="Releases",
        section="releases",
        releases=rows,
        status_filter=status,
        statuses=STATUSES,
        notices=notices,
        error="",
        values={},
    )


@router.post("/releases")
async def create_release(request: Request) -> Response:
    from charter.content.actions.release import create_release as create

    ctx = await signed_in(request)
    form = await read_form(request)
    values = {k: str(form.get(k) or "") for k in ("name", "description")}
    try:
        if form.get("_restore"):
            raise BadRequest("your session had expired; review the release and create it again")
        check_csrf(ctx, form)
        rel = await ctx.call(create, ctx.rt, ctx.actor, values["name"], description=values["description"] or None)
    except CharterError as exc:
        rows = await ctx.call(_list, ctx, None)
        return render(
            ctx,
            "releases/list.html",
            exc.status,
            title="Releases",
            section="releases",
            releases=rows,
            status_filter="",
            statuses=STATUSES,
            notices=[],
            error=_text(exc),
            values=values,
        )
    return redirect(f"/admin/releases/{rel.id}?done=created")


def _detail(ctx: Ctx, release_id: str) -> dict[str, Any]:
    from charter.content.ai_risk import policy_for
    from charter.content.releases import get_release

    with ctx.rt.read() as conn:
        rel = get_release(conn, release_id)
        items = []
        for item in rel.items:
            try:
                entry = store.get_entry(conn, item.entry_id, include_deleted=True)
            except NotFound:
                entry = None
            live = (
                store.get_revision(conn, item.entry_id, entry.published_revision).data
                if entry is not None and entry.published_revision
                else {}
            )
            if item.data is not None:
                new = item.data
            elif item.action == "unpublish":
                new = {}
            elif entry is not None:
                new = store.get_revision(conn, item.entry_id, item.revision or entry.current_revision).data
            else:
                new = {}
            title = display_title(ctx.rt.registry, item.type, new or live, entry.slug if entry else None)
            items.append({"item": item, "entry": entry, "title": title, "rows": diff_rows(live, new)})
        candidates = [
            (e.id, f"{e.type}: {e.slug or e.id[:8]} ({e.status}, revision {e.current_revision})")
            for e in store.list_entries(conn)
            if e.id not in {i.entry_id for i in rel.items}
        ]
        policy = policy_for(ctx.rt.settings, conn, rel) if rel.types else None
    return {"rel": rel, "items": items, "candidates": candidates, "policy": policy}


def _detail_page(
    ctx: Ctx, release_id: str, status: int = 200, error: str = "", notices: list[str] | None = None
) -> Response:
    from charter.content.actions.release_verbs import VERBS, may

    values = _detail(ctx, release_id)
    rel = values["rel"]
    actor = ctx.session.user.actor if ctx.session is not None else None
    return render(
        ctx,
        "releases/detail.html",
        status,
        title=f"Release {rel.name}",
        section="releases",
        who=who,
        error=error,
        notices=notices or [],
        timezones=TIMEZONES,
        may=lambda verb: may(actor, rel, verb),
        verbs=VERBS,
        **values,
    )


@router.get("/releases/{release_id}")
async def release_page(request: Request, release_id: str) -> Response:
    ctx = await signed_in(request)
    notices = [DONE[d] for d in request.query_params.getlist("done") if d in DONE]
    return await ctx.call(_detail_page, ctx, release_id, 200, "", notices)


#: Admin form fields that carry a verb's option under another name.
_FORM_FIELD = {"message": "comment"}


def _run_verb(ctx: Ctx, release_id: str, name: str, form: FormData) -> None:
    """Run the release verb a form posted (charter.content.actions.release_verbs), its options
    read from the form fields of the same name."""
    from charter.content.actions.release_verbs import run, verb

    options: dict[str, Any] = {}
    for option in verb(name).options:
        raw = str(form.get(_FORM_FIELD.get(option, option)) or "")
        if option == "force":
            options[option] = raw == "1"
        elif option == "timezone":
            options[option] = raw or "UTC"
        elif option in ("comment", "message"):
            options[option] = raw.strip() or None
        else:
            options[option] = raw
    run(ctx.rt, ctx.actor, release_id, name, **options)


@router.post("/releases/{release_id}/items")
async def add_item(request: Request, release_id: str) -> Response:
    from charter.content.actions.release import ItemSpec
    from charter.content.actions.release import add_item as add

    ctx = await signed_in(request)
    form = await read_form(request)
    if form.get("_restore"):
        return redirect(f"/admin/releases/{release_id}")
    try:
        check_csrf(ctx, form)
        entry_id = str(form.get("entry_id") or "")
        action = str(form.get("action") or "update")
        if not entry_id:
            raise BadRequest("choose the entry to add")
        with ctx.rt.read() as conn:
            entry = store.get_entry(conn, entry_id)
        spec = ItemSpec(
            action=action,
            entry_id=entry_id,
            type=entry.type,
            revision=entry.current_revision if action == "update" else None,
        )
        await ctx.call(add, ctx.rt, ctx.actor, release_id, spec)
    except CharterError as exc:
        return await ctx.call(_detail_page, ctx, release_id, exc.status, _text(exc))
    return redirect(f"/admin/releases/{release_id}?done=added")


@router.post("/releases/{release_id}/items/{item_id}/remove")
async def remove_item(request: Request, release_id: str, item_id: str) -> Response:
    from charter.content.actions.release import remove_item as remove

    ctx = await signed_in(request)
    form = await read_form(request)
    if form.get("_restore"):
        return redirect(f"/admin/releases/{release_id}")
    try:
        check_csrf(ctx, form)
        await ctx.call(remove, ctx.rt, ctx.actor, release_id, item_id)
    except CharterError as exc:
        return await ctx.call(_detail_page, ctx, release_id, exc.status, _text(exc))
    return redirect(f"/admin/releases/{release_id}?done=removed")


@router.post("/releases/{release_id}/{verb}")
async def release_action(request: Request, release_id: str, verb: str) -> Response:
    ctx = await signed_in(request)
    form = await read_form(request)
    if form.get("_restore"):
        return redirect(f"/admin/releases/{release_id}")
    try:
        check_csrf(ctx, form)
        await ctx.call(_run_verb, ctx, release_id, verb, form)
    except CharterError as exc:
        return await ctx.call(_detail_page, ctx, release_id, exc.status, _text(exc))
    if verb == "delete":
        return redirect("/admin/releases?done=deleted")
    return redirect(f"/admin/releases/{release_id}?done={verb}")


# --- previews: the delivery API's own rendering, through a preview token ------------------------------


def _preview(ctx: Ctx, scope: str, target: str, locale: str | None) -> dict[str, Any]:
    """What the preview page shows. Users who may write get a share link (a recorded token, the
    same one again while it has half its hour left) and the live links for this target, each
    revocable; viewers see the rendering only, with no token to pass on."""
    from charter.auth.preview import new_token
    from charter.auth.preview_register import list_records
    from charter.content.actions.preview import issue_preview
    from charter.content.preview_overlay import build_overlay
    from charter.delivery.sources.preview import PreviewSource

    raw: str | None = None
    if ctx.can("write"):
        issued = issue_preview(ctx.rt, ctx.actor, scope, target, 3600, reuse=True)
        raw, token = issued.token, issued.claims
    else:
        token = new_token(ctx.actor, scope, target, 3600)  # rendered here, never signed nor handed out
    source = PreviewSource(ctx.rt, token, check_register=raw is not None)
    shown = []
    with ctx.rt.read() as conn:
        overlay = build_overlay(ctx.rt, conn, token)
        links = list_records(conn, scope=scope, target_id=target, status="active") if raw else []
    for o in overlay.values():
        ct = ctx.rt.registry.get(o.entry.type)
        loc = locale if locale in ct.locales.supported else ct.locales.default
        rendered = source.entry(o.entry.type, o.entry.id, loc) if o.revision is not None else None
        urls = []
        if raw is not None:
            urls = [f"/v1/entries/{o.entry.type}/{o.entry.id}?locale={loc}&preview={raw}"]
            if o.entry.type == "page" and o.entry.slug:
                urls.insert(0, f"/v1/pages/{o.entry.slug}?locale={loc}&preview={raw}")
        shown.append(
            {
                "entry": o.entry,
                "envelope": rendered.body if rendered else None,
                "urls": urls,
                "locales": ct.locales.supported,
                "locale": loc,
            }
        )
    return {"shown": shown, "expires": token.expires, "token": raw, "token_id": token.jti, "links": links}


def _preview_page(scope: str, target: str) -> str:
    return f"/admin/releases/{target}/preview" if scope == "release" else f"/admin/content/{target}/preview"


@router.post("/previews/{token_id}/revoke")
async def revoke_preview_link(request: Request, token_id: Annotated[str, Path(max_length=64)]) -> Response:
    """Revoke one preview link; back to the preview page it was listed on."""
    from charter.content.actions.preview import revoke_preview

    ctx = await signed_in(request)
    form = await read_form(request)
    if form.get("_restore"):  # signed in again after the session expired: show the page, revoke nothing
        from charter.auth.preview_register import get_record

        def find() -> Any:
            with ctx.rt.read() as conn:
                return get_record(conn, token_id)

        found = await ctx.call(find)
        return redirect(_preview_page(found.scope, found.target_id) if found else "/admin/releases")
    check_csrf(ctx, form)
    record = await ctx.call(revoke_preview, ctx.rt, ctx.actor, token_id)
    return redirect(_preview_page(record.scope, record.target_id) + "?done=revoked")


@router.get("/releases/{release_id}/preview")
async def preview_release(
    request: Request, release_id: str, locale: Annotated[str, Query(max_length=35)] = ""
) -> Response:
    ctx = await signed_in(request)

    def load() -> dict[str, Any]:
        from charter.content.releases import get_release

        with ctx.rt.read() as conn:
            rel = get_release(conn, release_id)
        return {"rel": rel, **_preview(ctx, "release", release_id, locale or None)}

    values = await ctx.call(load)
    return render(
        ctx,
        "releases/preview.html",
        title=f"Preview of {values['rel'].name}",
        section="releases",
        back=f"/admin/releases/{release_id}",
        heading=f"Release “{values['rel'].name}” as it will publish",
        locale=locale,
        notices=[DONE[d] for d in request.query_params.getlist("done") if d in DONE],
        who=who,
        **values,
    )


@router.get("/content/{entry_id}/preview")
async def preview_entry(request: Request, entry_id: str, locale: Annotated[str, Query(max_length=35)] = "") -> Response:
    ctx = await signed_in(request)

    def load() -> dict[str, Any]:
        with ctx.rt.read() as conn:
            entry = store.get_entry(conn, entry_id)
        return {"entry": entry, **_preview(ctx, "entry", entry_id, locale or None)}

    values = await ctx.call(load)
    return render(
        ctx,
        "releases/preview.html",
        title="Preview",
        section="content",
        back=f"/admin/content/{entry_id}",
        heading="Draft preview: as it will publish",
        locale=locale,
        rel=None,
        notices=[DONE[d] for d in request.query_params.getlist("done") if d in DONE],
        who=who,
        **values,
    )


@router.post("/content/{entry_id}/submit")
async def submit_entry(request: Request, entry_id: str) -> Response:
    """Put the entry's current revision in a new release and submit it for review."""
    from charter.content.actions.release import ItemSpec, create_release, submit_release

    ctx = await signed_in(request)
    form = await read_form(request)
    if form.get("_restore"):
        return redirect(f"/admin/content/{entry_id}")
    check_csrf(ctx, form)

    def run() -> str:
        with ctx.rt.read() as conn:
            entry = store.get_entry(conn, entry_id)
            data = store.get_revision(conn, entry_id, entry.current_revision).data
        name = str(form.get("name") or "").strip() or (
            f"{display_title(ctx.rt.registry, entry.type, data, entry.slug)} (revision {entry.current_revision})"
        )
        spec = ItemSpec(action="update", entry_id=entry_id, type=entry.type, revision=entry.current_revision)
        rel = create_release(ctx.rt, ctx.actor, name[:200], items=[spec])
        submit_release(ctx.rt, ctx.actor, rel.id)
        return str(rel.id)

    release_id = await ctx.call(run)
    return redirect(f"/admin/releases/{release_id}?done=submit")


@router.post("/content/{entry_id}/rollback")
async def rollback_entry(request: Request, entry_id: str) -> Response:
    from charter.content.actions.rollback import rollback_entry as rollback

    ctx = await signed_in(request)
    form = await read_form(request)
    if form.get("_restore"):
        return redirect(f"/admin/content/{entry_id}/history")
    check_csrf(ctx, form)
    try:
        revision = int(str(form.get("revision") or ""))
    except ValueError:
        raise BadRequest("choose the revision to roll back to")
    message = str(form.get("message") or "").strip() or f"rolled back to revision {revision}"
    await ctx.call(rollback, ctx.rt, ctx.actor, entry_id, revision, message=message)
    return redirect(f"/admin/content/{entry_id}?done=rolled_back")
