"""Default plugin: the metrics API, the built-in ``charter ci`` gates and the Prometheus collector
of the maintainability and DORA metrics."""

from __future__ import annotations

from charter.hookspecs import Register, hookimpl


@hookimpl
def register_routes(register: Register) -> None:
    from charter.metrics.api import router

    register("metrics", router)


@hookimpl
def register_ci_gates(register: Register) -> None:
    from charter.metrics.gates import budgets, contracts, divergence, evals, schema, tokens
    from charter.metrics.gates.base import Gate

    for gate in (schema, contracts, tokens, divergence, evals, budgets):
        register(gate.NAME, Gate(gate.TITLE, gate.run))


@hookimpl
def register_metric_collectors(register: Register) -> None:
    from charter.metrics.prometheus import collector

    register("charter.metrics", collector)


@hookimpl
def register_tables(register: Register) -> None:
    from charter.metrics import tables

    register("metrics", tables)
