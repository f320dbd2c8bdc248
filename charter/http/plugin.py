"""Default plugin: the API documentation pages (``/docs``, ``/redoc``) from vendored assets."""

from __future__ import annotations

from charter.hookspecs import Register, hookimpl


@hookimpl
def register_routes(register: Register) -> None:
    from charter.http.apidocs import router

    register("apidocs", router)
