"""Every metric's value over a generated history whose answers are known, and the edge cases."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import pytest

from charter.metrics.report import build_report
from charter.runtime import Runtime
from tests.conftest import BACKENDS
from tests.metrics.history import BEFORE, EXPECTED, EXPECTED_STATUS, WEEK1, WEEK2, WEEK3, GitRepo
from tests.services import temporary_postgres_database

WINDOWS = [WEEK1, WEEK2, WEEK3, BEFORE, "2025-Q1", "2025"]


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The known history on SQLite and on PostgreSQL (JSON payloads, timestamps, ordering)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'charter.db'}"
    else:
        with temporary_postgres_database() as url:
            yield url


@pytest.fixture
def report(runtime: Runtime, history: GitRepo):  # type: ignore[no-untyped-def]
    with runtime.read() as conn:
        return build_report(conn, windows=WINDOWS, repo=history.path)


def test_every_expected_value(report) -> None:  # type: ignore[no-untyped-def]
    for (metric, window), expected in EXPECTED.items():
        got = report.result(metric, window).value
        if expected is None:
            assert got is None, (metric, window, got)
        else:
            assert got is not None and math.isclose(got, expected, rel_tol=1e-9), (metric, window, got, expected)


def test_statuses(report) -> None:  # type: ignore[no-untyped-def]
    for (metric, window), status in EXPECTED_STATUS.items():
        assert report.result(metric, window).status == status, (metric, window)


def test_details_explain_the_figures(report) -> None:  # type: ignore[no-untyped-def]
    cfr = report.result("change_fail_rate", WEEK1).detail
    assert cfr["deployments"] == 5 and cfr["failed"] == 2
    assert set(cfr["failed_deployments"]) == {"d2", "d4"}
    assert cfr["failed_deployments"]["d4"] == ["status"]
    assert "remediated by d3" in cfr["failed_deployments"]["d2"]
    rec = report.result("failed_deployment_recovery_time", WEEK1).detail
    assert rec["recovery_seconds"] == {"d2": 22 * 3600.0, "d4": 3600.0}
    lead = report.result("change_lead_time", WEEK1)
    assert lead.samples == 6 and lead.detail["deployments_measured"] == 4
    skew = report.result("change_lead_time", WEEK2)
    assert skew.detail["clock_skew_commits"] == 1
    assert any("clock skew" in n for n in skew.notes)
    schema = report.result("schema_break_rate", WEEK1).detail
    assert schema["worst_domain"] == "marketing"
    assert schema["domains"]["marketing"]["breaking_changes"] == 1
    assert schema["domains"]["legal"]["breaking_changes"] == 0
    assert schema["domains"]["marketing"]["changes"] == ["page.v2 1.1.0 → 2.0.0"]
    evals = report.result("llm_eval_regression_rate", WEEK1)
    assert evals.detail["releases_with_critical"] == ["r2", "support-answer@1.4.0"]
    assert evals.samples == 4 and evals.detail["releases"]["support-answer@1.3.0"]["regressions"] == 1
    assert evals.detail["releases"]["r1"]["critical"] == 0
    assert any("without a release" in n for n in evals.notes)
    tokens = report.result("token_divergence", WEEK1).detail
    assert tokens["apps"]["web"]["ratio"] == 0.04 and tokens["apps_over_target"] == ["shop"]
    rag = report.result("rag_freshness_lag", WEEK1).detail
    assert rag["indexes"]["docs"]["updates"] == 10 and rag["max_seconds"] == 20.0
    freq = report.result("deployment_frequency", WEEK1).detail
    assert freq["deployments"] == 5 and freq["services"] == {"web": 5}
    assert report.result("deployment_frequency", BEFORE).status == "no_data"


def test_staging_is_its_own_scope(runtime: Runtime, history: GitRepo) -> None:
    with runtime.read() as conn:
        rep = build_report(conn, metrics=["dora"], windows=[WEEK1], repo=history.path, environment="staging")
    assert rep.result("deployment_frequency", WEEK1).detail["deployments"] == 1
    # the first staging deployment: its own commit only (c1 at 08:00, deployed 01-07 10:00)
    assert rep.result("change_lead_time", WEEK1).value == 26 * 3600.0


def test_service_filter(runtime: Runtime, history: GitRepo) -> None:
    with runtime.read() as conn:
        rep = build_report(conn, metrics=["deployment_frequency"], windows=[WEEK1], services=("api",))
    assert rep.result("deployment_frequency", WEEK1).value is None


def test_without_git_lead_time_has_no_data_and_says_why(runtime: Runtime, history: GitRepo) -> None:
    with runtime.read() as conn:
        rep = build_report(conn, metrics=["change_lead_time"], windows=[WEEK1])
    result = rep.result("change_lead_time", WEEK1)
    assert result.value is None and result.status == "no_data"
    assert any("--repo" in n for n in result.notes)


def test_no_deployments_at_all(runtime: Runtime) -> None:
    with runtime.read() as conn:
        rep = build_report(conn, metrics=["dora", "build_to_deploy_lead_time"], windows=["30d"])
    for r in rep.results:
        assert r.value is None and r.status == "no_data", r.name
        assert r.notes, r.name


def test_markdown_and_json(report) -> None:  # type: ignore[no-untyped-def]
    md = report.to_markdown()
    assert "| Schema break rate | 13.04/quarter | < 1.00/quarter | ❌ breach | 1 |" in md
    assert "| Change fail rate | 40.0 % | — | ℹ️ info | 5 |" in md
    data = report.to_dict()
    assert data["format"] == "charter.metrics-report/1"
    assert len(data["results"]) == 13 * len(WINDOWS)  # 5 maintainability, 5 DORA, 3 review
    assert data["breaches"] == len(report.breaches) > 0
