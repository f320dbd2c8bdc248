"""Learnt raw routes (charter.rawroutes): after the router has sent a method and path to a raw
route, the same method and path go straight to it, with the same scope, middleware and
exception handling; everything else still goes through the router."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from fastapi.testclient import TestClient
from starlette.types import ASGIApp, Receive, Scope, Send

from charter.rawroutes import LearntRoutes, RawRoute, install


class Boom(Exception):
    pass


class App(FastAPI):
    def build_middleware_stack(self) -> ASGIApp:
        return install(super().build_middleware_stack(), self.router)


def make_app() -> tuple[App, list[Any]]:
    seen: list[Any] = []
    router = APIRouter(route_class=RawRoute)

    @router.post("/raw")
    async def raw(request: Request) -> Response:
        scope = request.scope
        if request.headers.get("x-boom"):
            raise Boom
        body = await request.body()
        return JSONResponse(
            {
                "route": scope["route"].path,
                "endpoint": scope["endpoint"].__name__,
                "path_params": scope["path_params"],
                "router": scope["router"] is request.app.router,
                "body": body.decode(),
            }
        )

    @router.get("/raw/{item}")
    async def item(request: Request, item: str) -> Response:
        return JSONResponse({"item": item})

    app = App()
    app.include_router(router)

    @app.exception_handler(Boom)
    async def boom(request: Request, exc: Boom) -> Response:
        return JSONResponse({"error": "boom"}, status_code=418)

    class Record:
        def __init__(self, app: ASGIApp) -> None:
            self.app = app

        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            await self.app(scope, receive, send)
            if scope["type"] == "http":
                seen.append(getattr(scope.get("route"), "path", None))

    app.add_middleware(Record)
    return app, seen


def learnt(app: FastAPI) -> LearntRoutes:
    layer: Any = app.middleware_stack
    while not isinstance(layer, LearntRoutes):
        layer = layer.app
    return layer


def test_a_raw_route_is_learnt_and_answers_the_same() -> None:
    app, seen = make_app()
    with TestClient(app) as client:
        first = client.post("/raw", content=b"one")
        assert list(learnt(app).targets) == [("POST", "", "/raw")]
        second = client.post("/raw", content=b"two")
    assert first.status_code == second.status_code == 200
    expected = {"route": "/raw", "endpoint": "raw", "path_params": {}, "router": True}
    assert first.json() == {**expected, "body": "one"}
    assert second.json() == {**expected, "body": "two"}
    assert seen == ["/raw", "/raw"]  # the middleware around the router saw the route both times


def test_exception_handlers_apply_to_learnt_routes() -> None:
    app, _ = make_app()
    with TestClient(app) as client:
        client.post("/raw")
        answers = [client.post("/raw", headers={"x-boom": "1"}) for _ in range(2)]
    assert [(r.status_code, r.json()) for r in answers] == [(418, {"error": "boom"})] * 2


def test_other_methods_paths_and_path_parameters_go_to_the_router() -> None:
    app, _ = make_app()
    with TestClient(app) as client:
        client.post("/raw")
        assert client.get("/raw").status_code == 405
        assert client.post("/raw/", follow_redirects=False).status_code == 307
        assert [client.get(f"/raw/{x}").json() for x in ("a", "b")] == [{"item": "a"}, {"item": "b"}]
        assert list(learnt(app).targets) == [("POST", "", "/raw")]
