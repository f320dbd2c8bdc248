"""Default plugin: the edge purge (Varnish, ``[charter.edge]``) and ``charter edge``."""

from __future__ import annotations

from charter.hookspecs import Register, hookimpl


@hookimpl
def register_runtime_services(register: Register) -> None:
    from charter.edge.purge import install

    register("edge.purge", install)


@hookimpl
def register_worker_duties(register: Register) -> None:
    from charter.edge.purge import EdgeTail

    register("edge.tail", EdgeTail())  # one per worker: it keeps its place in the event log


@hookimpl
def register_edge_purgers(register: Register) -> None:
    from charter.edge.purge import varnish_purger

    register("varnish", varnish_purger)


@hookimpl
def register_cli_commands(register: Register) -> None:
    from charter.cli.commands import edge

    edge.app.info.help = "Caches in front of Charter: write a Varnish VCL (charter edge varnish)."
    register("edge", edge.app)
