"""Default plugin: retrieval's API, index loading at start-up, the event subscriber that keeps
indexes fresh, the worker duty that follows other instances and the ``/readyz`` check."""

from __future__ import annotations

from charter.hookspecs import Register, hookimpl


@hookimpl
def register_routes(register: Register) -> None:
    from charter.retrieval.api import router

    register("retrieval", router)


@hookimpl
def register_runtime_services(register: Register) -> None:
    from charter.retrieval.lifecycle import install

    register("retrieval", install)


@hookimpl
def register_startup(register: Register) -> None:
    from charter.retrieval.lifecycle import startup

    register("retrieval", startup)


@hookimpl
def register_worker_duties(register: Register) -> None:
    from charter.retrieval.lifecycle import worker_duty

    register("retrieval.sync", worker_duty)


@hookimpl
def register_readiness_checks(register: Register) -> None:
    from charter.retrieval.lifecycle import readiness

    register("retrieval", readiness)


@hookimpl
def register_tables(register: Register) -> None:
    from charter.retrieval import tables

    register("retrieval", tables)


@hookimpl
def register_openapi_amendments(register: Register) -> None:
    from charter.retrieval.api import declare_ask

    register("retrieval", declare_ask)
