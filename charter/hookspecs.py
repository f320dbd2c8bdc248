"""Every Charter extension point, declared once (pluggy).

Each hook receives a ``register`` callable; a plugin calls it once per thing it provides, with a
name and a value. Built-ins are registered the same way, by the default plugins listed in
:data:`charter.plugins.DEFAULT_PLUGINS` (one ``plugin`` module per domain, plus the provider,
evaluator and token-format plugins); third-party plugins use
the ``charter`` entry-point group. :func:`charter.plugins.collect` calls a hook and returns what
was registered by name, in registration order (built-ins first); a later registration under a
name replaces an earlier one, so a plugin may replace a built-in.

A default plugin module imports what it registers inside its hook implementations, so building a
plugin manager (every CLI start, ``charter --help`` included) imports no domain code.

The lifecycle, in the order a server meets it:

1. :func:`register_runtime_services` when a :class:`~charter.runtime.Runtime` opens;
2. :func:`register_routes` and :func:`register_admin_views` when the app is built,
   :func:`register_openapi_amendments` when its OpenAPI document is first built;
3. :func:`register_startup` when the app starts (and their clean-ups when it stops);
4. :func:`register_worker_duties` on every tick of the in-process worker;
5. :func:`register_readiness_checks` on every ``GET /readyz``, :func:`register_metric_collectors`
   on every ``GET /metrics``;
6. :func:`register_ci_gates` when ``charter ci`` runs, :func:`register_cli_commands` when the
   ``charter`` command starts.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pluggy

hookspec = pluggy.HookspecMarker("charter")
hookimpl = pluggy.HookimplMarker("charter")

Register = Callable[[str, Any], None]


@hookspec
def register_content_sources(register: Register) -> None:
    """Register delivery content sources: ``register(name, factory(rt) -> ContentSource)``.

    ``CHARTER_SOURCE`` (``source`` in ``charter.toml``) names the one a runtime delivers from."""


@hookspec
def register_cache_backends(register: Register) -> None:
    """Register response caches: ``register(name, factory(settings) -> ResponseCache)``."""


@hookspec
def register_asset_stores(register: Register) -> None:
    """Register asset stores: ``register(name, factory(settings) -> AssetStore)``
    (:class:`charter.assets.storage.base.AssetStore`); ``[charter.assets] store`` names the one a
    runtime keeps original files in."""


@hookspec
def register_edge_purgers(register: Register) -> None:
    """Register caches in front of Charter that it purges by surrogate key (docs/edge.md):
    ``register(name, factory(rt) -> EdgePurger | None)``; a factory returns None when its cache is
    not configured. Every purger gets the keys of every publish, unpublish, delete, rollback,
    release and schema migration (:mod:`charter.edge.purge`)."""


@hookspec
def register_providers(register: Register) -> None:
    """Register LLM providers: ``register(kind, factory(config) -> Provider)``."""


@hookspec
def register_token_formats(register: Register) -> None:
    """Register design-token output formats: ``register(name, TokenFormat)``."""


@hookspec
def register_evaluators(register: Register) -> None:
    """Register evaluation metrics: ``register(name, Metric)``."""


@hookspec
def register_migration_operations(register: Register) -> None:
    """Register content-migration operations: ``register(op_name, factory)``."""


@hookspec
def register_tables(register: Register) -> None:
    """Register the modules that define a domain's tables on ``charter.db.tables.metadata``:
    ``register(name, module)``; :func:`charter.db.tables.load_all` imports them all (Alembic's
    autogenerate and the schema test compare the database against the complete metadata)."""


@hookspec
def register_routes(register: Register, rt: Any) -> None:
    """Register HTTP routes: ``register(name, fastapi.APIRouter)``, included on every app built
    on runtime ``rt`` (a :class:`charter.runtime.Runtime`; an implementation may leave ``rt`` out
    of its parameters). The hooks module imports nothing of Charter's, so every floor may use it."""


@hookspec
def register_openapi_amendments(register: Register) -> None:
    """Register amendments to the OpenAPI document: ``register(name, amend(document, rt))``, each
    called once, in order, when an app's document is first built, to declare what only the running
    project knows (the locales and intents of its retrieval contract, say). ``amend`` changes
    ``document`` in place."""


@hookspec
def register_admin_views(register: Register) -> None:
    """Register web admin pages: ``register(name, fastapi.APIRouter)``, mounted under ``/admin``
    with the admin's route class (sessions, CSRF, error pages)."""


@hookspec
def register_runtime_services(register: Register) -> None:
    """Register runtime services: ``register(name, install(rt) -> None)``, called once when a
    runtime opens (subscribe to its event bus, load state)."""


@hookspec
def register_startup(register: Register) -> None:
    """Register app start-up steps: ``register(name, async start(app, rt) -> stop | None)``; each
    ``start`` is awaited in order when the app starts, and the ``stop`` it returns (an async
    callable) is awaited, in reverse order, when the app stops."""


@hookspec
def register_worker_duties(register: Register) -> None:
    """Register worker duties: ``register(name, duty(rt) -> float | None)``. The in-process worker
    calls every duty once a tick in a worker thread; a duty returns the longest wait it can
    afford before the next tick (None: no wish). A failing duty is logged and retried next tick."""


@hookspec
def register_readiness_checks(register: Register) -> None:
    """Register readiness checks: ``register(name, async check(rt) -> str | None)``, reported by
    ``GET /readyz`` under ``name``: ``"ok"``, ``"error: ..."`` (the instance is not ready), or
    None when the check does not apply to this instance (left out)."""


@hookspec
def register_metric_collectors(register: Register) -> None:
    """Register Prometheus collectors: ``register(name, factory(rt) -> Collector)``, registered
    once on the runtime's registry and scraped by ``GET /metrics``."""


@hookspec
def register_ci_gates(register: Register) -> None:
    """Register ``charter ci`` gates: ``register(name, Gate)`` where a gate has a ``title`` and
    ``run(ctx: CIContext) -> GateResult`` (:mod:`charter.metrics.gates.base`); gates run in
    registration order."""


@hookspec
def register_cli_commands(register: Register) -> None:
    """Register ``charter`` commands: ``register(name, typer.Typer)`` adds a command group (its
    ``info.help`` is the group's help), ``register(name, function)`` a top-level command."""
