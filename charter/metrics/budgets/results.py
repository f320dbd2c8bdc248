"""The outcome of a budgets check: one :class:`BudgetResult` per measured figure, and the report."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Status = Literal["ok", "over", "error", "skipped"]


@dataclass
class BudgetResult:
    kind: str  # bundle | image | api | llm | page | asset
    name: str
    unit: str  # bytes | ms | score (CLS) | ratio (image oversize)
    budget: float
    measured: float | None
    status: Status
    detail: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def margin(self) -> float | None:
        """Headroom: budget − measured (negative when over)."""
        return None if self.measured is None else self.budget - self.measured

    @property
    def margin_percent(self) -> float | None:
        return None if self.margin is None else self.margin / self.budget * 100

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "unit": self.unit,
            "budget": self.budget,
            "measured": self.measured,
            "margin": self.margin,
            "margin_percent": None if self.margin_percent is None else round(self.margin_percent, 2),
            "status": self.status,
            "detail": self.detail,
            **({"extra": self.extra} if self.extra else {}),
        }

    def display(self, value: float | None) -> str:
        if value is None:
            return "—"
        if self.unit == "bytes":
            return format_bytes(value)
        if self.unit == "score":  # CLS: unitless
            return f"{value:.3f}"
        if self.unit == "ratio":
            return f"{value:.2f}x"
        return f"{value:.1f} ms"


@dataclass
class BudgetReport:
    source: str
    results: list[BudgetResult]

    @property
    def failed(self) -> list[BudgetResult]:
        return [r for r in self.results if r.status in ("over", "error")]

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": "charter.budgets-report/1",
            "source": self.source,
            "passed": not self.failed,
            "results": [r.to_dict() for r in self.results],
        }

    def to_markdown(self) -> str:
        lines = ["| Budget | Kind | Budget | Measured | Margin | Status |", "| --- | --- | ---: | ---: | ---: | --- |"]
        for r in self.results:
            margin = "—" if r.margin is None else f"{r.display(r.margin)} ({r.margin_percent:+.1f} %)"
            mark = {"ok": "✅ ok", "over": "❌ over", "error": "❌ error", "skipped": "⏭ skipped"}[r.status]
            detail = f" {r.detail}" if r.detail and r.status != "ok" else ""
            lines.append(
                f"| {r.name} | {r.kind} | {r.display(r.budget)} | {r.display(r.measured)} | {margin} | {mark}{detail} |"
            )
        return "\n".join(lines)


def format_bytes(n: float) -> str:
    sign = "-" if n < 0 else ""
    n = abs(n)
    if n < 1024:
        return f"{sign}{n:.0f} B"
    if n < 1024**2:
        return f"{sign}{n / 1024:.1f} KiB"
    return f"{sign}{n / 1024**2:.2f} MiB"
