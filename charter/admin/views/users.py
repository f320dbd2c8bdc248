"""Users (admins only): create, change role, disable, reset a password; recent sign-in attempts.
Every change goes through :mod:`charter.auth.users`, the same functions as ``charter users``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from charter.admin.security import CsrfFailed, check_csrf, read_form, signed_in
from charter.admin.web import AdminRoute, Ctx, redirect, render
from charter.auth.roles import Permission, Role
from charter.auth.users import create_user, list_users, recent_attempts, set_password, update_user
from charter.exceptions import BadRequest, Conflict, Forbidden, NotFound

router = APIRouter(route_class=AdminRoute)

DONE = {"created": "User created.", "updated": "User updated.", "password": "Password set; their sessions ended."}


def _page(ctx: Ctx, status: int = 200, error: str = "", values: dict[str, str] | None = None) -> Response:
    users = list_users(ctx.rt)
    attempts = recent_attempts(ctx.rt, 20)
    done = [DONE[d] for d in ctx.request.query_params.getlist("done") if d in DONE]
    return render(
        ctx,
        "users/list.html",
        status,
        title="Users",
        section="users",
        users=users,
        attempts=attempts,
        roles=[r.value for r in Role],
        error=error,
        values=values or {},
        notices=done,
    )


async def _admin(request: Request) -> Ctx:
    ctx = await signed_in(request)
    if not ctx.can(Permission.ADMIN):
        raise Forbidden(f"role {ctx.user.role.value!r} may not manage users")
    return ctx


@router.get("/users")
async def users_page(request: Request) -> Response:
    ctx = await _admin(request)
    return await ctx.call(_page, ctx)


def _text(exc: Exception) -> str:
    t = str(exc)
    return t[:1].upper() + t[1:] + "."


@router.post("/users")
async def add_user(request: Request) -> Response:
    ctx = await _admin(request)
    form = await read_form(request)
    values: dict[str, Any] = {k: str(form.get(k) or "") for k in ("username", "display_name", "role")}
    if form.get("_restore"):
        return await ctx.call(_page, ctx, 200, "", values)
    try:
        check_csrf(ctx, form)
        await ctx.call(
            create_user,
            ctx.rt,
            ctx.actor,
            values["username"],
            str(form.get("password") or ""),
            values["role"],
            values["display_name"] or None,
        )
    except (BadRequest, Conflict, CsrfFailed, Forbidden) as exc:
        return await ctx.call(_page, ctx, exc.status, _text(exc), values)
    return redirect("/admin/users?done=created")


@router.post("/users/{user_id}")
async def change_user(request: Request, user_id: str) -> Response:
    ctx = await _admin(request)
    form = await read_form(request)
    if form.get("_restore"):
        return redirect("/admin/users")
    action = str(form.get("_action") or "")
    try:
        check_csrf(ctx, form)
        if action == "role":
            await ctx.call(update_user, ctx.rt, ctx.actor, user_id, role=str(form.get("role") or ""))
        elif action in ("disable", "enable"):
            await ctx.call(update_user, ctx.rt, ctx.actor, user_id, disabled=action == "disable")
        elif action == "password":
            await ctx.call(set_password, ctx.rt, ctx.actor, user_id, str(form.get("password") or ""))
            return redirect("/admin/users?done=password")
        else:
            raise BadRequest(f"unknown action {action!r}")
    except (BadRequest, CsrfFailed, Forbidden, NotFound) as exc:
        return await ctx.call(_page, ctx, exc.status, _text(exc))
    return redirect("/admin/users?done=updated")
