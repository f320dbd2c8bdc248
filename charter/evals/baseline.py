"""The baseline gate: compare a run's summary with a baseline report's, metric by metric.

``--max-regression factuality=0.02,latency_p95_ms=10%`` allows each named summary figure to get
worse by at most that much: an absolute amount, or a percentage of the baseline value. A metric
name that produces several figures (``citations``, ``refusal``, ``latency``, ``retrieval``)
applies to each of them. "Worse" follows the figure's direction: lower for most, higher for
latency and toxicity (:data:`~charter.evals.metrics.LOWER_IS_BETTER`).

Figures not named are compared and shown but not gated, except that a quality figure (not a
latency) that gets worse by more than :data:`DEFAULT_TOLERANCE` is still a regression: silence
must not let factuality halve. A regression is *critical* when its figure is in ``critical``
(default :data:`CRITICAL`); ``charter ci`` and the metrics domain read that flag.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

from charter.evals.metrics import LOWER_IS_BETTER, Metric
from charter.exceptions import ConfigError, ErrorDetail

#: Quality figures not named in --max-regression may still drop by this much before it counts.
DEFAULT_TOLERANCE = 0.05
#: Figures whose regression is critical unless --critical says otherwise.
CRITICAL = frozenset({"factuality", "citation_correctness", "refusal_recall", "toxicity_rate"})
_UNGATED_BY_DEFAULT = frozenset({"latency_p50_ms", "latency_p95_ms"})
_AMOUNT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(%?)\s*$")


@dataclass(frozen=True)
class Tolerance:
    amount: float
    relative: bool = False

    def allowed(self, baseline: float) -> float:
        return abs(baseline) * self.amount / 100.0 if self.relative else self.amount

    def __str__(self) -> str:
        return f"{self.amount:g}%" if self.relative else f"{self.amount:g}"


def parse_max_regression(
    spec: dict[str, str] | str | None, metrics: dict[str, Metric] | None = None
) -> dict[str, Tolerance]:
    """``"factuality=0.02,latency_p95_ms=10%"`` (or a dict) -> summary figure -> tolerance.

    Keys are summary figures or metric names (expanded to the figures they produce); an unknown
    key or a bad amount is a :class:`ConfigError` naming it."""
    if spec is None:
        return {}
    if isinstance(spec, str):
        pairs: dict[str, str] = {}
        for part in (p for p in spec.split(",") if p.strip()):
            key, sep, value = part.partition("=")
            if not sep:
                raise ConfigError(
                    f"--max-regression: {part.strip()!r} is not metric=amount "
                    "(e.g. factuality=0.02 or latency_p95_ms=10%)"
                )
            pairs[key.strip()] = value
        spec = pairs
    figures: dict[str, tuple[str, ...]] = {}
    for name, metric in (metrics or {}).items():
        figures[name] = tuple(metric.produces)
        for figure in metric.produces:
            figures.setdefault(figure, (figure,))
    out: dict[str, Tolerance] = {}
    errors = []
    for key, value in spec.items():
        match = _AMOUNT.match(str(value))
        if not match:
            errors.append(ErrorDetail(f"/max_regression/{key}", f"{value!r} is not an amount like 0.02 or 10%"))
            continue
        tol = Tolerance(float(match.group(1)), bool(match.group(2)))
        if metrics is not None and key not in figures:
            known = ", ".join(sorted(figures))
            errors.append(
                ErrorDetail(f"/max_regression/{key}", f"{key!r} is not a metric of this run (known: {known})")
            )
            continue
        for figure in figures.get(key, (key,)):
            out[figure] = tol
    if errors:
        raise ConfigError("--max-regression is invalid: " + "; ".join(e.message for e in errors), errors=errors)
    return out


@dataclass
class Row:
    """One line of the diff table."""

    metric: str
    baseline: float | None
    current: float | None
    delta: float | None  # current - baseline
    worse_by: float | None  # >0: worse, in the figure's own direction
    allowed: float | None  # None: not gated
    status: str  # ok | improved | regressed | new | missing | unchanged
    critical: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Comparison:
    rows: list[Row]
    baseline_run_id: str | None = None
    tolerances: dict[str, str] = field(default_factory=dict)

    @property
    def regressions(self) -> list[Row]:
        return [r for r in self.rows if r.status == "regressed"]

    @property
    def regressed(self) -> bool:
        return bool(self.regressions)

    def to_dict(self, path: str | None = None) -> dict[str, Any]:
        return {
            "path": path,
            "run_id": self.baseline_run_id,
            "max_regression": self.tolerances,
            "regressed": self.regressed,
            "regressions": [r.metric for r in self.regressions],
            "critical_regressions": [r.metric for r in self.regressions if r.critical],
            "rows": [r.to_dict() for r in self.rows],
        }


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def compare(
    baseline: dict[str, Any],
    current: dict[str, Any],
    tolerances: dict[str, Tolerance],
    critical: list[str] | None = None,
) -> Comparison:
    """Compare two ``charter.eval-report/1`` reports' summaries."""
    critical_set = frozenset(critical) if critical is not None else CRITICAL
    base_summary: dict[str, Any] = baseline.get("summary") or {}
    cur_summary: dict[str, Any] = current.get("summary") or {}
    rows: list[Row] = []
    for metric in list(dict.fromkeys([*cur_summary, *base_summary])):
        b, c = _number(base_summary.get(metric)), _number(cur_summary.get(metric))
        tol = tolerances.get(metric)
        gated = tol is not None or metric not in _UNGATED_BY_DEFAULT
        if tol is None and gated:
            tol = Tolerance(DEFAULT_TOLERANCE)
        is_critical = metric in critical_set
        if b is None and c is None:
            continue
        if b is None:
            rows.append(Row(metric, None, c, None, None, None, "new"))
            continue
        if c is None:
            status = "regressed" if tolerances.get(metric) is not None else "missing"
            rows.append(Row(metric, b, None, None, None, None, status, is_critical and status == "regressed"))
            continue
        delta = c - b
        worse_by = delta if metric in LOWER_IS_BETTER else -delta
        allowed = tol.allowed(b) if (gated and tol is not None) else None
        if allowed is not None and worse_by > allowed + 1e-12:
            status = "regressed"
        elif abs(delta) < 1e-12:
            status = "unchanged"
        elif worse_by < 0:
            status = "improved"
        else:
            status = "ok"
        rows.append(Row(metric, b, c, delta, worse_by, allowed, status, is_critical and status == "regressed"))
    return Comparison(rows, baseline.get("run_id"), {k: str(v) for k, v in tolerances.items()})


def render_table(comparison: Comparison) -> Any:
    """A Rich table of the comparison (the CLI prints it)."""
    from rich.table import Table

    table = Table(title="Baseline comparison", show_lines=False)
    for col in ("metric", "baseline", "current", "delta", "allowed", "status"):
        table.add_column(col, justify="right" if col in ("baseline", "current", "delta", "allowed") else "left")

    def fmt(value: float | None, signed: bool = False) -> str:
        if value is None:
            return "—"
        return f"{value:+.4f}" if signed else f"{value:.4f}"

    styles = {"regressed": "bold red", "improved": "green", "missing": "yellow", "new": "cyan"}
    for r in comparison.rows:
        status = r.status + (" (critical)" if r.critical else "")
        table.add_row(
            r.metric,
            fmt(r.baseline),
            fmt(r.current),
            fmt(r.delta, signed=True),
            fmt(r.allowed) if r.allowed is not None else "not gated",
            f"[{styles[r.status]}]{status}[/]" if r.status in styles else status,
        )
    return table
