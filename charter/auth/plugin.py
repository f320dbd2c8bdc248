"""Default plugin: the tokens, users and sessions API."""

from __future__ import annotations

from charter.hookspecs import Register, hookimpl


@hookimpl
def register_routes(register: Register) -> None:
    from charter.auth.api import router

    register("auth", router)


@hookimpl
def register_tables(register: Register) -> None:
    from charter.auth import preview_register, sessions, users

    register("auth.users", users)
    register("auth.sessions", sessions)
    register("auth.preview_register", preview_register)
