"""Every API route of an app, through included routers (FastAPI 0.163 keeps them nested:
``app.routes`` holds ``_IncludedRouter`` wrappers, not the routes)."""

from __future__ import annotations

from typing import Any

from fastapi.routing import APIRoute


def api_routes(app: Any) -> list[tuple[str, APIRoute]]:
    """``(full path, route)`` for every APIRoute, include prefixes applied."""
    found: list[tuple[str, APIRoute]] = []

    def walk(routes: list[Any], prefix: str) -> None:
        for route in routes:
            if isinstance(route, APIRoute):
                found.append((prefix + route.path, route))
            elif hasattr(route, "original_router"):
                walk(route.original_router.routes, prefix + route.include_context.prefix)

    walk(list(app.routes), "")
    return found
