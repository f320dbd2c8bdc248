"""The admin's rendering: templates, static files, the request context (:class:`Ctx`) and the
responses built from them. Below :mod:`charter.admin.security` (sign-in, CSRF) and
:mod:`charter.admin.web` (the route class), which both use it."""

from __future__ import annotations

import gzip
import hashlib
import json
import mimetypes
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import structlog
from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.concurrency import run_in_threadpool

from charter.auth.roles import Actor, Permission
from charter.auth.sessions import Session
from charter.runtime import Runtime

log = structlog.get_logger("charter.admin")


class LoginRequired(Exception):
    """No signed-in user where one is needed: the route class answers with the sign-in page."""

    def __init__(self, expired: bool = False) -> None:
        super().__init__("sign-in required")
        self.expired = expired


HERE = Path(__file__).parent
STATIC = HERE / "static"
TEMPLATES = HERE / "templates"

#: Sent with every admin page. No inline script or style is ever needed (CSP Level 3).
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


@dataclass(frozen=True)
class StaticFile:
    body: bytes
    gzipped: bytes | None
    media_type: str
    etag: str


@cache
def static_files() -> dict[str, StaticFile]:
    """Every file under ``static/`` (read once per process: they are part of the package)."""
    files: dict[str, StaticFile] = {}
    for path in sorted(STATIC.rglob("*")):
        if not path.is_file() or path.suffix not in (".js", ".css", ".svg", ".png", ".ico", ".txt", ".json"):
            continue
        body = path.read_bytes()
        media = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        if media.startswith("text/") or media in ("application/javascript", "image/svg+xml", "application/json"):
            media += "; charset=utf-8"
        packed = gzip.compress(body, 9, mtime=0) if len(body) > 1024 else None
        files[path.relative_to(STATIC).as_posix()] = StaticFile(
            body, packed, media, '"' + hashlib.sha256(body).hexdigest()[:20] + '"'
        )
    return files


def static_url(name: str) -> str:
    """``/admin/static/<name>?v=<hash>``: the hash lets browsers cache the file for a year."""
    f = static_files()[name]
    return f"/admin/static/{name}?v={f.etag.strip(chr(34))[:12]}"


def _format_dt(value: Any, with_seconds: bool = False) -> str:
    if not value:
        return ""
    if isinstance(value, str):
        from datetime import datetime

        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
    return str(value.strftime("%Y-%m-%d %H:%M:%S UTC" if with_seconds else "%Y-%m-%d %H:%M UTC"))


def _json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False, default=str)


@cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(("html",), default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["static"] = static_url
    env.filters["dt"] = _format_dt
    env.filters["tojson_pretty"] = _json
    env.filters["urlquote"] = lambda v: quote(str(v), safe="")
    return env


@dataclass
class Ctx:
    """One admin request: the runtime, the signed-in session (if any) and page-level state."""

    request: Request
    rt: Runtime
    session: Session | None = None
    session_status: str = "unknown"
    notices: list[str] = field(default_factory=list)

    @property
    def user(self) -> Any:
        return self.session.user if self.session else None

    @property
    def actor(self) -> Actor:
        if self.session is None:
            raise LoginRequired(expired=self.session_status == "expired")
        return self.session.user.actor

    def can(self, permission: str | Permission) -> bool:
        return self.session is not None and self.session.user.actor.can(Permission(permission))

    @property
    def csrf_token(self) -> str:
        return self.session.csrf_token if self.session else ""

    @property
    def htmx(self) -> bool:
        return self.request.headers.get("hx-request") == "true"

    def url(self, path: str, **query: Any) -> str:
        q = {k: v for k, v in query.items() if v not in (None, "")}
        return path + ("?" + urlencode(q, doseq=True) if q else "")

    async def call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run a (blocking) library function in the thread pool."""
        return await run_in_threadpool(lambda: fn(*args, **kwargs))


def nav_items(ctx: Ctx) -> list[tuple[str, str, str]]:
    """(href, label, section) of the main navigation, limited to what the user may see."""
    from charter.admin.pages import PAGES

    return [(href, label, section) for href, label, section, permission in PAGES if ctx.can(permission)]


def render(
    ctx: Ctx, template: str, status: int = 200, headers: dict[str, str] | None = None, **values: Any
) -> Response:
    """Render ``template`` as a full page (or only its ``content`` block for an htmx partial request
    when the template defines ``partial``)."""
    env = environment()
    page = env.get_template(template)
    values.setdefault("section", "")
    values.setdefault("title", "Charter")
    body = page.render(ctx=ctx, nav=nav_items(ctx) if ctx.session else [], **values)
    return HTMLResponse(body, status_code=status, headers={**SECURITY_HEADERS, **(headers or {})})


def render_error(ctx: Ctx, status: int, title: str, detail: str, headers: dict[str, str] | None = None) -> Response:
    return render(ctx, "error.html", status, headers, title=title, heading=title, detail=detail)


def redirect(url: str, status: int = 303, headers: dict[str, str] | None = None) -> Response:
    if not url.startswith("/admin"):
        url = "/admin"
    return RedirectResponse(url, status_code=status, headers={**SECURITY_HEADERS, **(headers or {})})
