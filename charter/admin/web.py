"""The admin's route class: every library error becomes an HTML page with the right status (the
API keeps problem+json), a missing session the sign-in page. The rendering helpers the views use
(:class:`Ctx`, :func:`render`, :func:`redirect` …) live in :mod:`charter.admin.rendering` and are
re-exported here, where the views import them from."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

import structlog
from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from charter.admin.rendering import (
    STATIC,
    TEMPLATES,
    Ctx,
    LoginRequired,
    redirect,
    render,
    render_error,
    static_files,
    static_url,
)
from charter.admin.security import login_required_response
from charter.exceptions import CharterError, RateLimited
from charter.http.routes import CharterRoute

__all__ = [
    "STATIC",
    "TEMPLATES",
    "AdminRoute",
    "Ctx",
    "LoginRequired",
    "redirect",
    "render",
    "render_error",
    "static_files",
    "static_url",
]

log = structlog.get_logger("charter.admin")


class AdminRoute(CharterRoute):
    """Admin routes answer in HTML: a CharterError becomes a page with its status, a missing or
    expired session becomes the sign-in page, and anything unexpected a 500 page (logged)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def admin_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except LoginRequired as exc:
                return await login_required_response(request, exc)
            except CharterError as exc:
                ctx = request.state.admin_ctx if hasattr(request.state, "admin_ctx") else _bare_ctx(request)
                headers = {}
                if isinstance(exc, RateLimited) and "retry_after" in exc.extra:
                    headers["Retry-After"] = str(exc.extra["retry_after"])
                return render_error(ctx, exc.status, exc.title, str(exc), headers)
            except RequestValidationError as exc:
                ctx = _bare_ctx(request)
                bad = "; ".join(f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg')}" for e in exc.errors())
                return render_error(ctx, 400, "Bad request", f"The address has invalid parameters ({bad}).")
            except StarletteHTTPException as exc:
                return render_error(_bare_ctx(request), exc.status_code, "Error", str(exc.detail))
            except Exception:
                log.exception("admin_unhandled_error", path=request.url.path)
                detail = "Something went wrong on the server; it has been logged. Nothing was saved."
                return render_error(_bare_ctx(request), 500, "Server error", detail)

        return admin_handler


def _bare_ctx(request: Request) -> Ctx:
    existing = getattr(request.state, "admin_ctx", None)
    if existing is not None:
        return existing
    return Ctx(request=request, rt=request.app.state.runtime)
