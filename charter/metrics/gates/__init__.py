"""``charter ci``: every quality gate in one run, one summary (JSON + Markdown for a PR comment).

Gates run in :data:`GATES` order; each is a module here (see :mod:`charter.metrics.gates.base`).
The run fails when any gate is ``failed``, ``unavailable`` or ``error``; ``--skip NAME`` is the
only way to leave a gate out, and the summary says it was skipped.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from charter.exceptions import BadRequest
from charter.metrics.gates.base import FAILING, CIContext, GateResult, timed

#: Gate name -> module, in the order they run.
GATES: dict[str, str] = {
    "schema": "charter.metrics.gates.schema",
    "contracts": "charter.metrics.gates.contracts",
    "tokens": "charter.metrics.gates.tokens",
    "divergence": "charter.metrics.gates.divergence",
    "evals": "charter.metrics.gates.evals",
    "budgets": "charter.metrics.gates.budgets",
}
MARK = {
    "passed": "✅ passed",
    "failed": "❌ failed",
    "unavailable": "⚠️ unavailable",
    "error": "❌ error",
    "skipped": "⏭️ skipped",
    "not_applicable": "➖ not applicable",
}


class UnknownGate(BadRequest):
    type_slug = "unknown-gate"
    title = "Unknown gate"


@dataclass
class CISummary:
    started_at: datetime
    results: list[GateResult]

    @property
    def passed(self) -> bool:
        return not any(r.status in FAILING for r in self.results)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": "charter.ci-summary/1",
            "started_at": self.started_at.isoformat().replace("+00:00", "Z"),
            "passed": self.passed,
            "gates": [r.to_dict() for r in self.results],
        }

    def to_markdown(self) -> str:
        verdict = "✅ **All gates passed**" if self.passed else "❌ **Some gates failed**"
        failing = [r.name for r in self.results if r.status in FAILING]
        lines = [
            "<!-- charter-ci-summary -->",
            "## Charter CI",
            "",
            verdict + (f": {', '.join(failing)}" if failing else ""),
            "",
            "| Gate | Status | Summary | Time |",
            "| --- | --- | --- | ---: |",
        ]
        for r in self.results:
            summary = r.summary.replace("|", "\\|").replace("\n", " ")
            lines.append(f"| {r.title} (`{r.name}`) | {MARK[r.status]} | {summary} | {r.seconds:.1f} s |")
        for r in self.results:
            if r.details or (r.name == "budgets" and r.data.get("markdown")):
                lines += ["", f"<details><summary>{r.title}: {MARK[r.status]}</summary>", ""]
                lines += [f"- {d}" for d in r.details[:50]]
                if len(r.details) > 50:
                    lines.append(f"- … {len(r.details) - 50} more")
                if r.name == "budgets" and r.data.get("markdown"):
                    lines += ["", r.data["markdown"]]
                lines += ["", "</details>"]
        return "\n".join(lines) + "\n"


def check_gate_names(names: list[str] | tuple[str, ...]) -> list[str]:
    unknown = [n for n in names if n not in GATES]
    if unknown:
        raise UnknownGate(f"unknown gate(s) {', '.join(map(repr, unknown))}; gates: {', '.join(GATES)}")
    return list(names)


def run_ci(
    ctx: CIContext, *, skip: list[str] | tuple[str, ...] = (), only: list[str] | tuple[str, ...] = ()
) -> CISummary:
    """Run every gate (or ``only`` these), skipping ``skip``; never raises for a gate's outcome."""
    skipped = set(check_gate_names(skip))
    chosen = set(check_gate_names(only)) if only else set(GATES)
    started = datetime.now(UTC)
    results = []
    for name, module_name in GATES.items():
        module = importlib.import_module(module_name)
        if name in skipped or name not in chosen:
            why = "skipped with --skip" if name in skipped else "not selected with --only"
            results.append(GateResult(name, module.TITLE, "skipped", why))
            continue
        results.append(timed(name, module.TITLE, lambda m=module: m.run(ctx)))  # type: ignore[misc]
    return CISummary(started, results)
