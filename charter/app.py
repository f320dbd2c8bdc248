"""``create_app(settings) -> ASGI app``: one FastAPI app with every router registered on the
``register_routes`` hook (each domain's plugin registers its own; :mod:`charter.hookspecs`), the
start-up steps of ``register_startup`` and the in-process worker (``Settings.worker``)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Collection
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from charter import __version__
from charter.config import Settings, load_settings
from charter.plugins import collect
from charter.runtime import Runtime


class CharterApp(FastAPI):
    """FastAPI with a front door: ``front``, when set, gets every HTTP request first and answers
    it or hands it on to :meth:`call_stack` (the middleware stack and the routes). The delivery
    fast path (:mod:`charter.delivery.fastpath`) is the front door of every Charter app."""

    front: Callable[[Scope, Receive, Send], Awaitable[None]] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.front is not None and scope["type"] == "http":
            await self.front(scope, receive, send)
        else:
            await super().__call__(scope, receive, send)

    def openapi(self) -> dict[str, Any]:
        """FastAPI's document, with the strict JSON gate declared on every request body, every
        error answer declared as problem+json, and the plugins' amendments
        (``register_openapi_amendments``)."""
        if self.openapi_schema is None:
            from charter.http.openapi import declare_problems, declare_strict_json

            document = declare_problems(declare_strict_json(super().openapi()))
            rt = self.state.runtime
            for amend in collect(rt.plugins, "register_openapi_amendments").values():
                amend(document, rt)
            self.openapi_schema = document
        return self.openapi_schema

    async def call_stack(self, scope: Scope, receive: Receive, send: Send) -> None:
        await super().__call__(scope, receive, send)

    def build_middleware_stack(self) -> ASGIApp:
        """FastAPI's stack, with :class:`charter.rawroutes.LearntRoutes` in front of the router and
        :class:`charter.http.options.OptionsAnswer` in front of that (``OPTIONS`` with ``Allow``)."""
        from charter.http.options import OptionsAnswer
        from charter.rawroutes import install

        return install(
            super().build_middleware_stack(), self.router, lambda inner: OptionsAnswer(inner, lambda: self.routes)
        )


def create_app(
    settings: Settings | None = None, runtime: Runtime | None = None, *, startup: Collection[str] | None = None
) -> CharterApp:
    """Build the ASGI app. Pass ``runtime`` to share one across apps (tests); else one is opened.

    ``startup`` names the ``register_startup`` steps the app runs when it starts (in their
    registration order); None, the default and what ``charter serve`` uses, runs them all. The
    gateway and the retrieval indexes are also built on first use, so leaving their steps out gives
    up the warm-up, the fail-fast check of a bad model.yaml and, without the in-process worker
    (``settings.worker``), retrieval's own event poller; a test harness starts only what a test
    asks for (docs/architecture.md, "Testing"). Naming a step no plugin registers is an error."""
    from charter.delivery.fastpath import install as install_fastpath
    from charter.http.cors import install as install_cors
    from charter.observability.errors import install_error_handlers
    from charter.observability.logging import ensure_logging
    from charter.observability.middleware import install_middleware

    settings = settings or (runtime.settings if runtime else load_settings())
    ensure_logging(settings.log_level, settings.log_json)
    rt = runtime or Runtime.open(settings)
    starts = collect(rt.plugins, "register_startup")
    if startup is not None:
        unknown = sorted(set(startup) - starts.keys())
        if unknown:
            if runtime is None:
                rt.close()
            raise ValueError(f"no start-up step named {', '.join(unknown)} (registered: {', '.join(starts)})")
        starts = {name: start for name, start in starts.items() if name in startup}

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        from charter.worker import Worker

        worker = Worker(rt) if settings.worker else None
        cleanups = []
        for start in starts.values():
            cleanup = await start(app, rt)
            if cleanup is not None:
                cleanups.append(cleanup)
        if worker:
            await worker.start()
        try:
            yield
        finally:
            if worker:
                await worker.stop()
            for cleanup in reversed(cleanups):
                await cleanup()
            if runtime is None:
                rt.close()

    app = CharterApp(
        title="Charter",
        version=__version__,
        summary="Contract-first content and AI platform",
        lifespan=lifespan,
        docs_url=None,  # /docs and /redoc: charter.http.apidocs, from vendored assets (no CDN)
        redoc_url=None,
        # Charter traces and counts per app instance (charter.observability); FastAPI's native
        # telemetry would look up global OpenTelemetry providers on every request.
        telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False},
    )
    app.state.runtime = rt
    install_error_handlers(app)
    for router in collect(rt.plugins, "register_routes", rt=rt).values():
        app.include_router(router)
    from charter.gateway.api import install_unknown_urls

    install_unknown_urls(app)  # last: OpenAI-shaped 404s for gateway paths no route serves
    from charter.delivery.openapi_types import install as install_content_schemas

    install_content_schemas(app, rt.registry)  # a schema per content type in the OpenAPI document
    install_middleware(app, rt)
    install_fastpath(app, rt)  # in front of everything: hits are traced and counted by the fast path itself
    from charter.assets.fastpath import install as install_asset_fastpath

    install_asset_fastpath(app, rt)  # behind it: cached versioned image transforms, from the disk cache
    install_cors(app, settings.cors)  # in front of the fast path: cached hits get their CORS headers too
    return app
