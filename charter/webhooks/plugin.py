"""Default plugin: the webhook subscription API and the relay and delivery duties."""

from __future__ import annotations

from charter.hookspecs import Register, hookimpl


@hookimpl
def register_routes(register: Register) -> None:
    from charter.webhooks.api import router

    register("webhooks", router)


@hookimpl
def register_worker_duties(register: Register) -> None:
    from charter.webhooks.delivery import deliver_due
    from charter.webhooks.relay import relay_events

    register("webhooks.relay", relay_events)
    register("webhooks.deliver", deliver_due)


@hookimpl
def register_tables(register: Register) -> None:
    from charter.webhooks import tables

    register("webhooks", tables)
