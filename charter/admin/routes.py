"""The admin router mounted at ``/admin`` (listed in ``charter.app.ROUTERS``).

Views are plain modules with a ``router``; a domain's admin page is added to :data:`VIEWS` and
its navigation entry to :data:`charter.admin.pages.PAGES`. Admin routes stay out of the OpenAPI
document: they are HTML pages, not API."""

from __future__ import annotations

import importlib

from fastapi import APIRouter, Request
from fastapi.responses import Response

from charter.admin.web import AdminRoute, render_error
from charter.http.options import fallback

VIEWS: tuple[str, ...] = (
    "charter.admin.views.static",
    "charter.admin.views.auth",
    "charter.admin.views.home",
    "charter.admin.views.content",
    "charter.admin.views.drafts",
    "charter.admin.views.history",
    "charter.admin.views.releases",
    "charter.admin.views.prompts",
    "charter.admin.views.users",
    "charter.admin.views.governance",
    "charter.admin.views.dashboard",
    "charter.admin.views.tokens",
)


def build_router() -> APIRouter:
    from charter.admin.views.home import home

    router = APIRouter(prefix="/admin", include_in_schema=False, route_class=AdminRoute)
    router.add_api_route("", home, methods=["GET"])
    for module in VIEWS:
        router.include_router(importlib.import_module(module).router)

    @router.api_route("/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    @fallback
    async def not_found(request: Request, rest: str) -> Response:
        from charter.admin.security import context

        ctx = await context(request)
        return render_error(ctx, 404, "Page not found", f"there is no admin page at {request.url.path}")

    return router


router = build_router()
