"""Default plugin: the health, readiness and metrics routes, and the database and cache readiness checks."""

from __future__ import annotations

from typing import TYPE_CHECKING

from charter.hookspecs import Register, hookimpl

if TYPE_CHECKING:
    from charter.runtime import Runtime


@hookimpl
def register_routes(register: Register) -> None:
    from charter.observability.api import router

    register("observability", router)


async def database_ready(rt: Runtime) -> str:
    """The database answers ``SELECT 1``."""
    import sqlalchemy as sa
    from starlette.concurrency import run_in_threadpool

    def check() -> None:
        with rt.read() as conn:
            conn.execute(sa.text("SELECT 1"))

    try:
        await run_in_threadpool(check)
    except Exception as exc:  # readiness reports, it does not raise
        return f"error: {type(exc).__name__}"
    return "ok"


async def cache_ready(rt: Runtime) -> str:
    """The response cache answers (Redis: a PING)."""
    from starlette.concurrency import run_in_threadpool

    def check() -> None:
        rt.cache.generation()
        if hasattr(rt.cache, "redis"):
            rt.cache.redis.ping()

    try:
        await run_in_threadpool(check)
    except Exception as exc:
        return f"error: {type(exc).__name__}"
    return "ok"


@hookimpl
def register_readiness_checks(register: Register) -> None:
    register("database", database_ready)
    register("cache", cache_ready)


@hookimpl
def register_metric_collectors(register: Register) -> None:
    from charter.observability.operations import collector

    register("charter.operations", collector)
