"""Gate ``contracts``: every consumer-driven contract in ``contracts/`` holds against the content
types (static verification: no server needed).

Domain functions: ``charter.contracts:load_contracts``, ``charter.contracts:check_contracts`` and
``charter.schemas.registry:Registry``.
"""

from __future__ import annotations

from typing import Any

from charter.exceptions import CharterError
from charter.metrics.gates.base import CIContext, GateResult, domain_function

NAME = "contracts"
TITLE = "Contract checks"


def run(ctx: CIContext) -> GateResult:
    folder = ctx.project / "contracts"
    if not folder.is_dir():
        return GateResult(NAME, TITLE, "not_applicable", "no contracts/ folder in the project")
    load_contracts = domain_function("charter.contracts:load_contracts")
    check_contracts = domain_function("charter.contracts:check_contracts")
    registry_cls: Any = domain_function("charter.schemas.registry:Registry")
    try:
        registry = registry_cls.load(ctx.settings.content_types_dir, tuple(ctx.settings.intents))
        contracts = load_contracts(folder)
        report = check_contracts(contracts, registry)
    except CharterError as exc:
        details = [f"{e.file + '#' if e.file else ''}{e.pointer or '/'}: {e.message}" for e in exc.errors]
        return GateResult(NAME, TITLE, "failed", str(exc), details)
    failures = [f.describe() for f in report.failures]
    summary = (
        f"{len(contracts)} contract(s), {report.checked} expectation(s) hold"
        if report.ok
        else f"{len(failures)} failure(s) in {len(report.consumers_failing)} consumer(s)"
    )
    return GateResult(NAME, TITLE, "passed" if report.ok else "failed", summary, failures, report.to_dict())
