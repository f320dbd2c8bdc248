"""Health, readiness and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from charter import __version__
from charter.http.routes import CharterRoute
from charter.runtime import Runtime

router = APIRouter(tags=["operations"], route_class=CharterRoute)


class Index(BaseModel):
    name: str
    version: str
    demo: bool
    links: dict[str, str]


@router.get(
    "/",
    operation_id="index",
    response_model=Index,
    summary="What this server offers, with links",
    responses={307: {"description": "Browsers (Accept: text/html) go to the admin, or to the API docs"}},
)
async def index(request: Request) -> Response:
    rt: Runtime = request.app.state.runtime
    paths = _paths(request.app.routes)
    if "text/html" in request.headers.get("accept", ""):
        return RedirectResponse("/admin" if "/admin" in paths else "/docs", status_code=307)
    links = {
        "api_docs": "/docs",
        "openapi": "/openapi.json",
        "health": "/healthz",
        "readiness": "/readyz",
        "metrics": "/metrics",
        "pages": "/v1/pages/{slug}",
        "entries": "/v1/entries/{type}",
        "manage": "/v1/manage/entries",
    }
    if "/admin" in paths:
        links["admin"] = "/admin"
    if rt.settings.demo:
        links["example"] = "/v1/pages/home?locale=de-AT"
    body = Index(name="Charter", version=__version__, demo=rt.settings.demo, links=links)
    return Response(body.model_dump_json(), media_type="application/json")


def _paths(routes: list[object]) -> set[str]:
    """Every route path, through included routers (FastAPI keeps them nested)."""
    found: set[str] = set()
    for route in routes:
        if hasattr(route, "original_router"):
            prefix = getattr(getattr(route, "include_context", None), "prefix", "")
            found |= {prefix + p for p in _paths(route.original_router.routes)}
        else:
            found.add(getattr(route, "path", ""))
    return found


class Health(BaseModel):
    status: str
    version: str


class Ready(BaseModel):
    status: str
    checks: dict[str, str]


@router.get("/healthz", operation_id="healthz", response_model=Health, summary="Liveness")
async def healthz() -> Health:
    return Health(status="ok", version=__version__)


@router.get(
    "/readyz",
    operation_id="readyz",
    response_model=Ready,
    summary="Readiness: database, cache and the gateway's shared limits store reachable",
    responses={503: {"description": "Not ready", "model": Ready}},
)
async def readyz(request: Request) -> Response:
    # Every check on the register_readiness_checks hook (database, cache, the gateway's shared
    # limits store...), by name; not ready when any reports an error. (No docstring: OpenAPI.)
    from charter.plugins import collect

    rt: Runtime = request.app.state.runtime
    checks: dict[str, str] = {}
    for name, check in collect(rt.plugins, "register_readiness_checks").items():
        outcome = await check(rt)
        if outcome is not None:
            checks[name] = outcome
    ok = all(v == "ok" for v in checks.values())
    body = Ready(status="ok" if ok else "unavailable", checks=checks)
    return Response(body.model_dump_json(), status_code=200 if ok else 503, media_type="application/json")


@router.get(
    "/metrics",
    operation_id="metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}}},
)
async def metrics(request: Request) -> Response:
    rt: Runtime = request.app.state.runtime

    def render() -> bytes:
        from charter.observability.collectors import install

        install(rt)
        return generate_latest(rt.telemetry.registry)

    # Collectors (charter.observability.collectors) may read the database: off the event loop.
    return Response(await run_in_threadpool(render), media_type=CONTENT_TYPE_LATEST)
