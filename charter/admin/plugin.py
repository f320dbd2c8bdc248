"""Default plugin: the web admin, mounted at ``/admin`` from every page registered on the
``register_admin_views`` hook, and the built-in pages."""

from __future__ import annotations

from typing import TYPE_CHECKING

from charter.hookspecs import Register, hookimpl

if TYPE_CHECKING:
    from charter.runtime import Runtime


@hookimpl
def register_routes(register: Register, rt: Runtime) -> None:
    from charter.admin.routes import build_router
    from charter.plugins import collect

    register("admin", build_router(collect(rt.plugins, "register_admin_views").values()))


@hookimpl
def register_admin_views(register: Register) -> None:
    from charter.admin.views import (
        auth,
        content,
        dashboard,
        drafts,
        governance,
        history,
        home,
        llm_calls,
        prompts,
        releases,
        static,
        tokens,
        users,
    )

    # In this order: the first view whose route matches answers.
    for name, view in (
        ("static", static),
        ("auth", auth),
        ("home", home),
        ("content", content),
        ("drafts", drafts),
        ("history", history),
        ("releases", releases),
        ("prompts", prompts),
        ("llm_calls", llm_calls),
        ("users", users),
        ("governance", governance),
        ("dashboard", dashboard),
        ("tokens", tokens),
    ):
        register(name, view.router)
