"""Sign in, sign out, and the signed-in user's own account (password change)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from charter.admin.security import (
    check_csrf,
    client_address,
    context,
    cookie_name,
    is_secure,
    login_page,
    login_policy,
    login_token_ok,
    read_form,
    safe_next,
    session_policy,
    signed_in,
    unstash,
)
from charter.admin.web import AdminRoute, redirect, render
from charter.auth.sessions import end_session, start_session
from charter.auth.users import authenticate_user, set_password
from charter.exceptions import BadRequest, RateLimited, Unauthorized

router = APIRouter(route_class=AdminRoute)


@router.get("/login")
async def login_form(request: Request, next: str = "/admin", expired: str = "", signed_out: str = "") -> Response:
    ctx = await context(request)
    if ctx.session is not None:
        return redirect(safe_next(next))
    notice = ""
    if expired:
        notice = "Your session has expired. Sign in again to continue."
    elif signed_out:
        notice = "You have signed out."
    return login_page(request, notice=notice, next_url=next)


@router.post("/login")
async def login(request: Request) -> Response:
    await context(request)
    form = await read_form(request)
    username = str(form.get("username") or "")[:64]
    password = str(form.get("password") or "")
    next_url = safe_next(str(form.get("next") or "/admin"))
    stash = str(form.get("stash") or "")
    again: dict[str, Any] = {"username": username, "next_url": next_url, "stash": stash}
    if not login_token_ok(request, str(form.get("csrf_token") or "")):
        error = "The sign-in form had expired or was opened in another tab. Please sign in again."
        return login_page(request, status=403, error=error, **again)
    if not username or not password:
        return login_page(request, status=400, error="Enter your username and password.", **again)
    rt = request.app.state.runtime
    try:
        user = await run_in_threadpool(
            authenticate_user, rt, username, password, client_address(request), login_policy(request)
        )
    except RateLimited as exc:
        wait = str(exc.extra.get("retry_after", 60))
        return login_page(
            request, status=429, error=f"{str(exc)[:1].upper()}{str(exc)[1:]}.", headers={"Retry-After": wait}, **again
        )
    except Unauthorized:
        return login_page(request, status=401, error="Wrong username or password.", **again)
    token = await run_in_threadpool(
        lambda: start_session(
            rt,
            user,
            address=client_address(request),
            user_agent=request.headers.get("user-agent", ""),
            policy=session_policy(request),
        )
    )
    fields = unstash(stash)
    if fields:
        # Offer back what was being submitted when the session ran out: one click re-opens the form
        # with it (nothing is saved without the editor seeing it first).
        from charter.auth.sessions import load_session

        lookup = await run_in_threadpool(load_session, rt, token, session_policy(request))
        ctx = await context(request)
        ctx.session, ctx.session_status = lookup.session, lookup.status
        response = render(ctx, "restore.html", title="Restore your changes", fields=fields, target=next_url)
    else:
        response = redirect(next_url)
    policy = session_policy(request)
    response.set_cookie(
        cookie_name(request),
        token,
        max_age=int(policy.absolute.total_seconds()),
        path="/",
        secure=is_secure(request),
        httponly=True,
        samesite="lax",
    )
    response.delete_cookie("charter_login_csrf", path="/admin")
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    ctx = await signed_in(request)
    form = await read_form(request)
    check_csrf(ctx, form)
    await run_in_threadpool(end_session, ctx.rt, request.cookies.get(cookie_name(request)))
    response = redirect("/admin/login?signed_out=1")
    response.delete_cookie(cookie_name(request), path="/", secure=is_secure(request), httponly=True, samesite="lax")
    return response


@router.get("/account")
async def account(request: Request) -> Response:
    ctx = await signed_in(request)
    return render(
        ctx,
        "account.html",
        title="Your account",
        section="account",
        error="",
        done=request.query_params.get("done", ""),
    )


@router.post("/account/password")
async def change_password(request: Request) -> Response:
    ctx = await signed_in(request)
    form = await read_form(request)
    check_csrf(ctx, form)
    current, new, again = (str(form.get(k) or "") for k in ("current", "password", "confirm"))
    try:
        if new != again:
            raise BadRequest("the new password and its confirmation differ")
        await ctx.call(set_password, ctx.rt, ctx.actor, ctx.user.id, new, current=current)
    except (BadRequest, Unauthorized) as exc:
        message = str(exc)[:1].upper() + str(exc)[1:] + "."
        return render(ctx, "account.html", exc.status, title="Your account", section="account", error=message, done="")
    # Changing the password ends every session, this one included: sign in with the new one.
    response = redirect("/admin/login?" + "signed_out=1")
    response.delete_cookie(cookie_name(request), path="/")
    return response
