"""``OPTIONS`` on any route answers ``204`` with ``Allow`` (RFC 9110 §9.3.7, §10.2.1): the methods
the routes matching the path accept, plus ``OPTIONS``; a path no route matches goes on to the router
(a 404 problem).

The route table is flattened once, on the first ``OPTIONS`` request, from the app's routes
(included routers with their prefixes). A catch-all endpoint marked :func:`fallback` (the admin's
"no such page") answers every method only to say "not found", so its methods are not listed.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

from starlette.routing import compile_path
from starlette.types import ASGIApp, Receive, Scope, Send

F = TypeVar("F", bound=Callable[..., Any])
#: The order methods are listed in ``Allow``.
ORDER = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def fallback(endpoint: F) -> F:
    """Mark ``endpoint`` as a catch-all whose methods ``Allow`` does not list (see the module)."""
    endpoint.charter_fallback = True  # type: ignore[attr-defined]
    return endpoint


def _flatten(routes: list[Any], prefix: str, out: list[tuple[re.Pattern[str], frozenset[str]]]) -> None:
    for route in routes:
        original = getattr(route, "original_router", None)
        if original is not None:  # FastAPI keeps included routers nested, with their prefix
            _flatten(list(original.routes), prefix + route.include_context.prefix, out)
            continue
        methods = getattr(route, "methods", None)
        path = getattr(route, "path", None)
        if not methods or path is None or getattr(getattr(route, "endpoint", None), "charter_fallback", False):
            continue
        regex, _, _ = compile_path(prefix + path)
        out.append((regex, frozenset(methods)))


class OptionsAnswer:
    """``await answer(scope, receive, send)``: ``OPTIONS`` answered here, anything else to ``app``."""

    def __init__(self, app: ASGIApp, routes: Callable[[], list[Any]]) -> None:
        self.app = app
        self.routes = routes
        self._table: list[tuple[re.Pattern[str], frozenset[str]]] | None = None

    def allowed(self, path: str) -> list[str]:
        """The methods some route accepts for ``path``, in :data:`ORDER`; empty if none matches."""
        if self._table is None:
            table: list[tuple[re.Pattern[str], frozenset[str]]] = []
            _flatten(self.routes(), "", table)
            self._table = table
        found: set[str] = set()
        for regex, methods in self._table:
            if regex.match(path):
                found |= methods
        if not found:
            return []
        found.add("OPTIONS")
        return [m for m in ORDER if m in found] + sorted(found - set(ORDER))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "OPTIONS":
            allowed = self.allowed(scope["path"])
            if allowed:
                await send(
                    {
                        "type": "http.response.start",
                        "status": 204,
                        "headers": [(b"allow", ", ".join(allowed).encode("latin-1"))],
                    }
                )
                await send({"type": "http.response.body", "body": b""})
                return
        await self.app(scope, receive, send)
