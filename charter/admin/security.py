"""Sessions, CSRF and sign-in for the admin.

- The session cookie (``charter_admin``; ``__Host-charter_admin`` over HTTPS) is HttpOnly,
  SameSite=Lax, Path=/ and Secure whenever the request came over HTTPS (``cookie_secure``).
- Every unsafe request must carry the session's CSRF token (form field ``csrf_token`` or header
  ``X-CSRF-Token``) and, when the browser sends one, an ``Origin`` of this site. The sign-in form,
  which has no session yet, uses a signed double-submit cookie instead.
- A request whose session is missing or over gets the sign-in page; what a form was submitting is
  carried through sign-in and offered back (nothing typed is lost).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlencode, urlsplit

from fastapi import Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from charter.admin.rendering import Ctx, LoginRequired, redirect, render
from charter.auth.sessions import SessionPolicy, load_session
from charter.auth.users import LoginPolicy
from charter.exceptions import Forbidden

LOGIN_CSRF_COOKIE = "charter_login_csrf"
MAX_FORM_FIELDS = 5000
#: Form fields that are plumbing, not content: never carried through sign-in.
PLUMBING = frozenset({"csrf_token"})


class CsrfFailed(Forbidden):
    type_slug = "csrf-failed"
    title = "Security check failed"


def admin_options(request: Request) -> dict[str, Any]:
    return dict(request.app.state.runtime.settings.admin)


def session_policy(request: Request) -> SessionPolicy:
    return SessionPolicy.from_settings(admin_options(request))


def login_policy(request: Request) -> LoginPolicy:
    return LoginPolicy.from_settings(admin_options(request))


def is_secure(request: Request) -> bool:
    setting = str(admin_options(request).get("cookie_secure", "auto")).lower()
    if setting in ("true", "1", "yes"):
        return True
    if setting in ("false", "0", "no"):
        return False
    return request.url.scheme == "https"


def cookie_name(request: Request) -> str:
    return "__Host-charter_admin" if is_secure(request) else "charter_admin"


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def context(request: Request) -> Ctx:
    """The request's admin context, with its session loaded (if the cookie names a live one)."""
    existing = getattr(request.state, "admin_ctx", None)
    if existing is not None:
        return existing
    rt = request.app.state.runtime
    token = request.cookies.get(cookie_name(request))
    lookup = await run_in_threadpool(load_session, rt, token, session_policy(request))
    ctx = Ctx(request=request, rt=rt, session=lookup.session, session_status=lookup.status if token else "none")
    request.state.admin_ctx = ctx
    return ctx


async def signed_in(request: Request) -> Ctx:
    """The context of a signed-in user; LoginRequired otherwise."""
    ctx = await context(request)
    if ctx.session is None:
        raise LoginRequired(expired=ctx.session_status == "expired")
    return ctx


def _same_origin(request: Request) -> bool:
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        fetch_site = request.headers.get("sec-fetch-site")
        return fetch_site in (None, "same-origin", "none")
    parts = urlsplit(origin)
    host = request.headers.get("host", "")
    return parts.netloc == host


async def read_form(request: Request) -> FormData:
    return await request.form(max_fields=MAX_FORM_FIELDS, max_files=0)


def check_csrf(ctx: Ctx, form: FormData | None) -> None:
    """CsrfFailed unless the request carries this session's token and comes from this site."""
    request = ctx.request
    if not _same_origin(request):
        raise CsrfFailed("this request came from another site and was refused")
    sent = request.headers.get("x-csrf-token") or (str(form.get("csrf_token") or "") if form is not None else "")
    if ctx.session is None or not sent or not hmac.compare_digest(sent, ctx.session.csrf_token):
        raise CsrfFailed(
            "the form's security token was missing or out of date (the page may have been open across a sign-in); "
            "nothing was saved"
        )


# --- the sign-in form's double-submit token ----------------------------------------------------


def _sign(request: Request, nonce: str) -> str:
    key = request.app.state.runtime.settings.secret_key.encode()
    return hmac.new(key, b"admin-login:" + nonce.encode(), hashlib.sha256).hexdigest()[:32]


def new_login_token(request: Request) -> str:
    nonce = secrets.token_urlsafe(18)
    return f"{nonce}.{_sign(request, nonce)}"


def login_token_ok(request: Request, sent: str) -> bool:
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not sent or not cookie or not hmac.compare_digest(sent, cookie):
        return False
    nonce, _, sig = sent.partition(".")
    return hmac.compare_digest(sig, _sign(request, nonce))


def set_login_cookie(request: Request, response: Response, token: str) -> None:
    response.set_cookie(
        LOGIN_CSRF_COOKIE, token, max_age=3600, path="/admin", secure=is_secure(request), httponly=True, samesite="lax"
    )


def safe_next(url: str | None) -> str:
    """Only paths inside the admin are followed after sign-in (no open redirects)."""
    if not url or not url.startswith("/admin") or url.startswith("//") or "\\" in url or "\n" in url:
        return "/admin"
    return url


def stash_fields(fields: Iterable[tuple[str, Any]]) -> str:
    return json.dumps([[k, str(v)] for k, v in fields if k not in PLUMBING and isinstance(v, str)])


def unstash(raw: str | None) -> list[tuple[str, str]]:
    if not raw:
        return []
    try:
        items = json.loads(raw)
    except ValueError:
        return []
    if not isinstance(items, list):
        return []
    return [(str(i[0]), str(i[1])) for i in items if isinstance(i, list) and len(i) == 2][:MAX_FORM_FIELDS]


def login_page(
    request: Request,
    *,
    status: int = 200,
    error: str = "",
    notice: str = "",
    username: str = "",
    next_url: str = "/admin",
    stash: str = "",
    headers: dict[str, str] | None = None,
) -> Response:
    ctx = getattr(request.state, "admin_ctx", None) or Ctx(request=request, rt=request.app.state.runtime)
    token = new_login_token(request)
    response = render(
        ctx,
        "login.html",
        status,
        headers,
        title="Sign in",
        error=error,
        notice=notice,
        username=username,
        next_url=safe_next(next_url),
        stash=stash,
        login_token=token,
    )
    set_login_cookie(request, response, token)
    return response


async def login_required_response(request: Request, exc: LoginRequired) -> Response:
    """GET: redirect to sign-in. A form post: the sign-in page, carrying what was submitted."""
    notice = "Your session has expired. Sign in again to continue." if exc.expired else "Sign in to continue."
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if request.method in ("GET", "HEAD"):
        query = {"next": target}
        if exc.expired:
            query["expired"] = "1"
        return redirect("/admin/login?" + urlencode(query))
    stash = ""
    try:
        stash = stash_fields((await read_form(request)).multi_items())
    except Exception:  # an unreadable body: nothing to carry, the sign-in page still helps
        stash = ""
    if stash != "[]" and stash:
        notice += " What you submitted has been kept and will be offered back after you sign in."
    headers = {"HX-Retarget": "#main", "HX-Reswap": "innerHTML"} if request.headers.get("hx-request") else None
    return login_page(request, status=401, notice=notice, next_url=target, stash=stash, headers=headers)
