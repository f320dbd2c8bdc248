"""A project plugin as a user writes one (loaded with CHARTER_PLUGINS=tests.plugin_example): a
content source of its own and a ``charter ci`` gate whose domain is not built yet."""

from __future__ import annotations

from typing import Any

from charter.hookspecs import Register, hookimpl
from charter.metrics.gates.base import CIContext, Gate, GateResult, domain


@hookimpl
def register_content_sources(register: Register) -> None:
    def shelf(rt: Any) -> Any:
        from charter.delivery.sources.embedded import EmbeddedSource

        return EmbeddedSource(rt)  # the project's own source would read elsewhere

    register("shelf", shelf)


def run_future(ctx: CIContext) -> GateResult:
    with domain("charter.not_built_yet"):
        from charter.not_built_yet import check  # type: ignore[import-not-found]
    check(ctx.project)
    return GateResult("future", "Future domain", "passed", "never reached")


@hookimpl
def register_ci_gates(register: Register) -> None:
    register("future", Gate("Future domain", run_future))
