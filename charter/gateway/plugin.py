"""Default plugin: the LLM gateway's API, its start-up (a bad model.yaml stops the server) and the
readiness of its shared limits store."""

from __future__ import annotations

from charter.hookspecs import Register, hookimpl


@hookimpl
def register_routes(register: Register) -> None:
    from charter.gateway.api import router

    register("gateway", router)


@hookimpl
def register_startup(register: Register) -> None:
    from charter.gateway.api import startup

    register("gateway", startup)


@hookimpl
def register_readiness_checks(register: Register) -> None:
    from charter.gateway.api import limits_ready

    register("limits", limits_ready)


@hookimpl
def register_tables(register: Register) -> None:
    from charter.gateway import tables

    register("gateway", tables)
