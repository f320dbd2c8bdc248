"""Gate ``contracts``: every consumer-driven contract in ``contracts/`` holds against the content
types (static verification: no server needed).

Domain functions: ``charter.contracts:load_contracts``, ``charter.contracts:check_contracts`` and
``charter.schemas.registry:Registry``.
"""

from __future__ import annotations

from charter.exceptions import CharterError
from charter.metrics.gates.base import CIContext, GateResult, domain

NAME = "contracts"
TITLE = "Contract checks"


def run(ctx: CIContext) -> GateResult:
    folder = ctx.project / "contracts"
    if not folder.is_dir():
        return GateResult(NAME, TITLE, "not_applicable", "no contracts/ folder in the project")
    with domain("charter.contracts"):
        from charter.contracts import check_contracts, load_contracts
        from charter.schemas.registry import Registry
    try:
        registry = Registry.load(ctx.settings.content_types_dir, tuple(ctx.settings.intents))
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
