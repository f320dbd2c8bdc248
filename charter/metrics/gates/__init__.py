"""``charter ci``: every quality gate in one run, one summary (JSON + Markdown for a PR comment).

Gates are registered on the ``register_ci_gates`` hook and run in registration order (the
built-in ones, modules here, by :mod:`charter.metrics.plugin`; see :mod:`charter.metrics.gates.base`).
The run fails when any gate is ``failed``, ``unavailable`` or ``error``; ``--skip NAME`` is the
only way to leave a gate out, and the summary says it was skipped.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from charter.exceptions import BadRequest
from charter.metrics.gates.base import FAILING, CIContext, Gate, GateResult, timed

if TYPE_CHECKING:
    import pluggy

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


def ci_gates(pm: pluggy.PluginManager) -> dict[str, Gate]:
    """Every gate registered on ``pm`` (built-ins first), by name, in the order they run."""
    from charter.plugins import collect

    return collect(pm, "register_ci_gates")


def check_gate_names(names: list[str] | tuple[str, ...], gates: Mapping[str, Gate]) -> list[str]:
    unknown = [n for n in names if n not in gates]
    if unknown:
        raise UnknownGate(f"unknown gate(s) {', '.join(map(repr, unknown))}; gates: {', '.join(gates)}")
    return list(names)


def run_ci(
    ctx: CIContext,
    gates: Mapping[str, Gate],
    *,
    skip: list[str] | tuple[str, ...] = (),
    only: list[str] | tuple[str, ...] = (),
) -> CISummary:
    """Run every gate (or ``only`` these), skipping ``skip``; never raises for a gate's outcome."""
    skipped = set(check_gate_names(skip, gates))
    chosen = set(check_gate_names(only, gates)) if only else set(gates)
    started = datetime.now(UTC)
    results = []
    for name, gate in gates.items():
        if name in skipped or name not in chosen:
            why = "skipped with --skip" if name in skipped else "not selected with --only"
            results.append(GateResult(name, gate.title, "skipped", why))
            continue
        results.append(timed(name, gate.title, lambda g=gate: g.run(ctx)))  # type: ignore[misc]
    return CISummary(started, results)
