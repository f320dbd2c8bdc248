"""Default plugin: the content, release, preview and schema-evolution APIs, the release workflow's
event subscribers and the scheduled-publishing duty."""

from __future__ import annotations

from charter.hookspecs import Register, hookimpl


@hookimpl
def register_routes(register: Register) -> None:
    from charter.content.api import router as content
    from charter.content.preview_api import router as previews
    from charter.content.release_api import router as releases
    from charter.content.schema_api import router as schema_evolution

    register("content", content)
    register("releases", releases)
    register("previews", previews)
    register("schema_evolution", schema_evolution)


@hookimpl
def register_runtime_services(register: Register) -> None:
    from charter.content.workflow import install

    register("content.workflow", install)


@hookimpl
def register_worker_duties(register: Register) -> None:
    from charter.content.release_scheduler import publish_due

    register("releases.publish_due", publish_due)


@hookimpl
def register_tables(register: Register) -> None:
    from charter.content import releases
    from charter.schemas import tables as schema_tables

    register("content.releases", releases)
    register("schemas", schema_tables)


@hookimpl
def register_migration_operations(register: Register) -> None:
    from charter.schemas.migration_ops import BUILTIN

    for name, factory in BUILTIN.items():
        register(name, factory)
