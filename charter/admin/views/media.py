"""The media library: upload (a file input that takes a dropped file), browse and search, edit
alt text per locale, caption, credit, licence and focal point, delete. Every change goes through
:mod:`charter.assets.actions`, the same functions as the ``/v1/manage/assets`` API."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from charter.admin.security import CsrfFailed, check_csrf, signed_in
from charter.admin.web import AdminRoute, Ctx, redirect, render
from charter.assets import actions
from charter.assets.settings import asset_settings
from charter.auth.roles import Permission
from charter.exceptions import CharterError, Forbidden

router = APIRouter(route_class=AdminRoute)

DONE = {"uploaded": "Uploaded.", "existing": "That file was already in the library: here it is.", "saved": "Saved.",
        "deleted": "Deleted."}  # fmt: skip
#: The multipart upload's form fields besides the file.
MAX_FIELDS = 20


def _text(exc: CharterError) -> str:
    detail = str(exc)
    if exc.errors:
        detail += ": " + "; ".join(f"{e.pointer} {e.message}" for e in exc.errors)
    return detail[:1].upper() + detail[1:]


def _list(ctx: Ctx, status: int = 200, error: str = "", values: dict[str, str] | None = None) -> Response:
    q = (ctx.request.query_params.get("q") or "")[:100].replace("\x00", "")
    with ctx.rt.read() as conn:
        found = actions.list_assets(conn, q=q or None, limit=100)
    config = asset_settings(ctx.rt.settings)
    return render(
        ctx,
        "media/list.html",
        status,
        title="Media",
        section="media",
        assets=found,
        q=q,
        error=error,
        values=values or {},
        accept=",".join(config.media_types),
        notices=[DONE[d] for d in ctx.request.query_params.getlist("done") if d in DONE],
    )


@router.get("/media")
async def media_page(request: Request) -> Response:
    ctx = await signed_in(request)
    return await ctx.call(_list, ctx)


@router.post("/media")
async def upload(request: Request) -> Response:
    ctx = await signed_in(request)
    try:
        form = await request.form(max_files=1, max_fields=MAX_FIELDS, max_part_size=64 * 1024)
    except CharterError:
        raise
    except Exception as exc:  # a malformed multipart body
        return await ctx.call(_list, ctx, 400, f"The upload could not be read: {getattr(exc, 'detail', exc)}")
    values = {k: str(form.get(k) or "") for k in ("alt", "locale")}
    try:
        check_csrf(ctx, form)
        file = form.get("file")
        if file is None or isinstance(file, str) or not file.filename:
            return await ctx.call(_list, ctx, 422, "Choose a file to upload.", values)
        data = await file.read()
        meta: dict[str, Any] = {"decorative": bool(form.get("decorative"))}
        if values["alt"].strip():
            meta["alt"] = {values["locale"] or "en": values["alt"].strip()}
        asset, created = await ctx.call(actions.upload_asset, ctx.rt, ctx.actor, data, file.filename, meta)
    except (CharterError, CsrfFailed) as exc:
        status = exc.status if isinstance(exc, CharterError) else 403
        return await ctx.call(_list, ctx, status, _text(exc) if isinstance(exc, CharterError) else str(exc), values)
    finally:
        await form.close()
    return redirect(f"/admin/media/{asset.id}?done={'uploaded' if created else 'existing'}")


def _edit(ctx: Ctx, asset_id: str, status: int = 200, error: str = "") -> Response:
    with ctx.rt.read() as conn:
        asset = actions.get_asset(conn, asset_id)
        users = actions.entries_using(conn, asset_id)
    locales = sorted({*asset.meta.get("alt", {}), *asset.meta.get("caption", {}), "en"})
    return render(
        ctx,
        "media/edit.html",
        status,
        title=f"Media: {asset.filename}",
        section="media",
        asset=asset,
        locales=locales,
        used_by=users,
        error=error,
        notices=[DONE[d] for d in ctx.request.query_params.getlist("done") if d in DONE],
    )


@router.get("/media/{asset_id}")
async def edit_page(request: Request, asset_id: str) -> Response:
    ctx = await signed_in(request)
    return await ctx.call(_edit, ctx, asset_id)


def _float(value: Any) -> float | None:
    try:
        return float(str(value)) if str(value or "").strip() else None
    except ValueError:
        return -1.0  # out of range: the action's validation names it


@router.post("/media/{asset_id}")
async def change(request: Request, asset_id: str) -> Response:
    ctx = await signed_in(request)
    form = await request.form(max_files=0, max_fields=MAX_FIELDS * 4)
    try:
        check_csrf(ctx, form)
        if not ctx.can(Permission.WRITE):
            raise Forbidden(f"role {ctx.user.role.value!r} may not change media")
        if form.get("_action") == "delete":
            await ctx.call(actions.delete_asset, ctx.rt, ctx.actor, asset_id)
            return redirect("/admin/media?done=deleted")
        locales = [str(v) for v in form.getlist("locale")][:20]
        alts = [str(v) for v in form.getlist("alt")][:20]
        captions = [str(v) for v in form.getlist("caption")][:20]
        alt = {loc.strip(): text.strip() for loc, text in zip(locales, alts, strict=False) if loc.strip()}
        caption = {loc.strip(): text.strip() for loc, text in zip(locales, captions, strict=False) if loc.strip()}
        x, y = _float(form.get("focal_x")), _float(form.get("focal_y"))
        meta: dict[str, Any] = {
            "alt": {k: v for k, v in alt.items() if v} or None,
            "caption": {k: v for k, v in caption.items() if v} or None,
            "decorative": bool(form.get("decorative")),
            "credit": str(form.get("credit") or "").strip() or None,
            "licence": str(form.get("licence") or "").strip() or None,
            "focal_point": {"x": x, "y": y} if x is not None and y is not None else None,
        }
        # A full replacement of these keys: a JSON merge patch where an empty field removes its key.
        await ctx.call(actions.update_asset, ctx.rt, ctx.actor, asset_id, {"metadata": meta})
    except CsrfFailed as exc:
        return await ctx.call(_edit, ctx, asset_id, 403, str(exc))
    except CharterError as exc:
        if exc.status == 404:
            raise
        return await ctx.call(_edit, ctx, asset_id, exc.status, _text(exc))
    return redirect(f"/admin/media/{asset_id}?done=saved")
