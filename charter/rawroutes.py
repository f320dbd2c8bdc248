"""Raw routes: handlers that take the request and return a response, reached without route matching
once the router has picked them.

:class:`RawRoute` is an ``APIRoute`` (documented in OpenAPI like any other) whose handler is the
endpoint itself, ``endpoint(request) -> Response``: no dependency solving, no body handling. The
OpenAI-compatible gateway routes use it; they parse their bodies themselves.

:class:`LearntRoutes` sits where the router sits in the middleware stack (every middleware still
runs, in the same order). Matching a request against every route of the app costs more than some
whole handlers (FastAPI tries each route in turn), so when the router has sent a request to a
raw route without path parameters, that route tells :class:`LearntRoutes` which method and path
reached it, and the next request with the same method and path (and root path) goes straight to
its handler, with the scope keys the router would have set (``route``, ``endpoint``,
``path_params``, ``router``) and the app's exception handlers around it. Routing depends on the
method and the path only, so the shortcut sends a request exactly where the router would have.
Anything else (another path, another method, a route with path parameters) goes to the router.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi.routing import APIRoute
from starlette._exception_handler import wrap_app_handling_exceptions
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

#: The scope key under which a request going through the router carries its :class:`LearntRoutes`.
SCOPE_KEY = "charter.learnt_routes"

Handler = Callable[[Request], Coroutine[Any, Any, Response]]


class RawRoute(APIRoute):
    """An APIRoute whose handler is ``endpoint(request) -> Response`` (see the module docstring)."""

    def get_route_handler(self) -> Handler:
        endpoint = self.endpoint
        params = self.dependant.path_params

        if params:

            async def with_params(request: Request) -> Response:
                return await endpoint(request, **request.path_params)

            return with_params

        async def handler(request: Request) -> Response:
            scope = request.scope
            learnt: LearntRoutes | None = scope.get(SCOPE_KEY)
            if learnt is not None:
                learnt.learn(scope, handler)
            return await endpoint(request)

        return handler


class LearntRoutes:
    """``await learnt(scope, receive, send)``: a learnt raw route's handler, else the router."""

    def __init__(self, router: ASGIApp, max_targets: int = 256) -> None:
        self.router = router
        self.max_targets = max_targets
        #: (method, root path, path) -> (route, handler), as the raw routes reported them.
        self.targets: dict[tuple[str, str, str], tuple[Any, Handler]] = {}

    def learn(self, scope: Scope, handler: Handler) -> None:
        route = scope.get("route")
        if route is None or len(self.targets) >= self.max_targets:
            return
        self.targets[(scope["method"], scope.get("root_path", ""), scope["path"])] = (route, handler)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            hit = self.targets.get((scope["method"], scope.get("root_path", ""), scope["path"]))
            if hit is not None:
                route, handler = hit
                if "router" not in scope:
                    scope["router"] = self.router
                scope["endpoint"] = route.endpoint
                scope["path_params"] = {}
                scope["route"] = route
                request = Request(scope, receive, send)

                async def app(scope: Scope, receive: Receive, send: Send) -> None:
                    response = await handler(request)
                    await response(scope, receive, send)

                await wrap_app_handling_exceptions(app, request)(scope, receive, send)
                return
            scope[SCOPE_KEY] = self
        await self.router(scope, receive, send)


def install(stack: ASGIApp, router: ASGIApp, around: Callable[[ASGIApp], ASGIApp] = lambda app: app) -> ASGIApp:
    """Put :class:`LearntRoutes` (wrapped by ``around``) in place of ``router`` inside the middleware
    ``stack`` (each layer holds the next as ``.app``); the stack unchanged when ``router`` is not
    found in it."""
    layer: Any = stack
    while getattr(layer, "app", None) is not None:
        if layer.app is router:
            layer.app = around(LearntRoutes(router))
            break
        layer = layer.app
    return stack
