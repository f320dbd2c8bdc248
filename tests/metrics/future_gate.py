"""A gate whose domain is not built yet: what every adapter does before its domain lands."""

from __future__ import annotations

from charter.metrics.gates.base import CIContext, GateResult, domain_function

NAME = "future"
TITLE = "Future domain"


def run(ctx: CIContext) -> GateResult:
    check = domain_function("charter.not_built_yet:check")
    check(ctx.project)
    return GateResult(NAME, TITLE, "passed", "never reached")
