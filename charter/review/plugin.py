"""Default plugin: the review queue's API, tables, admin page and the worker duty that queues
audit records the review policy picks."""

from __future__ import annotations

from charter.hookspecs import Register, hookimpl


@hookimpl
def register_routes(register: Register) -> None:
    from charter.review.api import router

    register("review", router)


@hookimpl
def register_tables(register: Register) -> None:
    from charter.review import tables

    register("review", tables)


@hookimpl
def register_worker_duties(register: Register) -> None:
    from charter.review.collect import worker_duty

    register("review.sync", worker_duty)


@hookimpl
def register_admin_views(register: Register) -> None:
    from charter.admin.views import review

    register("review", review.router)
