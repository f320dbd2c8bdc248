"""The baseline gate: per-metric tolerances, directions, critical regressions, clear errors."""

from __future__ import annotations

from typing import Any

import pytest

from charter.evals.baseline import compare, parse_max_regression
from charter.evals.metrics.citations import Citations
from charter.evals.metrics.factuality import Factuality
from charter.evals.metrics.latency import Latency
from charter.exceptions import ConfigError

METRICS: dict[str, Any] = {"factuality": Factuality(), "citations": Citations(), "latency": Latency()}


def report(**summary: float | None) -> dict[str, Any]:
    return {"format": "charter.eval-report/1", "run_id": "r", "summary": summary}


def statuses(
    base: dict[str, Any], cur: dict[str, Any], spec: str = "", critical: list[str] | None = None
) -> dict[str, str]:
    c = compare(base, cur, parse_max_regression(spec, METRICS), critical)
    return {r.metric: r.status + ("!" if r.critical else "") for r in c.rows}


def test_named_tolerances_and_directions() -> None:
    base = report(factuality=0.90, citation_coverage=0.80, latency_p95_ms=100.0)
    assert statuses(
        base,
        report(factuality=0.89, citation_coverage=0.80, latency_p95_ms=105.0),
        "factuality=0.02,latency_p95_ms=10%",
    ) == {"factuality": "ok", "citation_coverage": "unchanged", "latency_p95_ms": "ok"}
    assert statuses(
        base, report(factuality=0.85, citation_coverage=0.9, latency_p95_ms=130.0), "factuality=0.02,latency_p95_ms=10%"
    ) == {"factuality": "regressed!", "citation_coverage": "improved", "latency_p95_ms": "regressed"}
    assert statuses(base, report(factuality=0.95, citation_coverage=0.8, latency_p95_ms=50.0), "factuality=0.02") == {
        "factuality": "improved",
        "citation_coverage": "unchanged",
        "latency_p95_ms": "improved",
    }


def test_a_metric_name_covers_every_figure_it_produces() -> None:
    tol = parse_max_regression("citations=0.1,latency=5%", METRICS)
    assert set(tol) == {"citation_coverage", "citation_correctness", "latency_p50_ms", "latency_p95_ms"}


def test_unnamed_quality_figures_still_gate_big_drops_but_latency_does_not() -> None:
    base = report(factuality=0.9, latency_p50_ms=10.0)
    assert statuses(base, report(factuality=0.5, latency_p50_ms=900.0)) == {
        "factuality": "regressed!",
        "latency_p50_ms": "ok",
    }
    assert statuses(base, report(factuality=0.88, latency_p50_ms=10.0)) == {
        "factuality": "ok",
        "latency_p50_ms": "unchanged",
    }


def test_missing_new_and_critical() -> None:
    base = report(factuality=0.9, citation_coverage=0.8)
    cur = report(citation_coverage=0.5, routing_accuracy=1.0)
    assert statuses(base, cur, "factuality=0.02", critical=["citation_coverage"]) == {
        "factuality": "regressed",
        "citation_coverage": "regressed!",
        "routing_accuracy": "new",
    }
    assert statuses(base, report(citation_coverage=0.8))["factuality"] == "missing"  # not gated: shown only


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        ("factuality", "not metric=amount"),
        ("factuality=lots", "not an amount"),
        ("speed=0.1", "not a metric of this run"),
    ],
)
def test_bad_specs(spec: str, fragment: str) -> None:
    with pytest.raises(ConfigError, match=fragment):
        parse_max_regression(spec, METRICS)
