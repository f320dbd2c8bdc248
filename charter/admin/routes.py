"""The admin router mounted at ``/admin``: every page registered on the ``register_admin_views``
hook (:mod:`charter.admin.plugin` registers the built-in ones), behind the admin's route class.

A domain's admin page is a module with a ``router``, registered by its plugin, and its navigation
entry in :data:`charter.admin.pages.PAGES`. Admin routes stay out of the OpenAPI document: they
are HTML pages, not API."""

from __future__ import annotations

from collections.abc import Iterable

from fastapi import APIRouter, Request
from fastapi.responses import Response

from charter.admin.web import AdminRoute, render_error
from charter.http.options import fallback


def build_router(views: Iterable[APIRouter]) -> APIRouter:
    from charter.admin.views.home import home

    router = APIRouter(prefix="/admin", include_in_schema=False, route_class=AdminRoute)
    router.add_api_route("", home, methods=["GET"])
    for view in views:
        router.include_router(view)

    @router.api_route("/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    @fallback
    async def not_found(request: Request, rest: str) -> Response:
        from charter.admin.security import context

        ctx = await context(request)
        return render_error(ctx, 404, "Page not found", f"there is no admin page at {request.url.path}")

    return router
