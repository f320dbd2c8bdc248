"""/metrics carries the metrics report as gauges, per window, with targets and status."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from charter import events as ev
from charter.runtime import Runtime
from tests.conftest import auth


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def test_metrics_endpoint(client: TestClient, tokens: dict[str, str], runtime: Runtime) -> None:
    now = datetime.now(UTC)
    for i, status in enumerate(["succeeded", "failed", "succeeded", "succeeded"]):
        when = (now - timedelta(days=3 - i)).isoformat()
        r = client.post(
            "/v1/events/deploy",
            json={"deploy_id": f"p{i}", "commit": "c" * 40, "deployed_at": when, "status": status},
            headers=auth(tokens["publisher"]),
        )
        assert r.status_code == 201, r.text
    with runtime.write() as (conn, pending):
        pending.append(
            ev.record(conn, ev.Event(ev.TOKENS_DIVERGENCE, {"apps": [{"name": "web", "percent": 7.5}]}, "tokens"))
        )
    r = client.get("/metrics")
    assert r.status_code == 200
    samples = _samples(r.text)
    assert samples[("charter_dora_change_fail_ratio", (("window", "30d"),))] == 0.25
    assert samples[("charter_dora_deployments_per_day", (("window", "30d"),))] == 4 / 30
    assert samples[("charter_token_divergence_ratio", (("window", "quarter"),))] == 0.075
    assert samples[("charter_metric_target", (("metric", "token_divergence"), ("op", "<")))] == 0.05
    assert samples[("charter_metric_ok", (("metric", "token_divergence"), ("window", "30d")))] == 0.0
    # no eval runs: neither a value nor a status, rather than a made-up zero
    assert not any(name == "charter_eval_critical_regressions_per_release" for name, _ in samples)
    assert ("charter_metric_ok", (("metric", "llm_eval_regression_rate"), ("window", "30d"))) not in samples
    # the foundation's own metrics are still there
    assert "charter_http_requests_total" in r.text


def test_dashboard_data(runtime: Runtime, client: TestClient, tokens: dict[str, str]) -> None:
    """What the admin dashboard draws: the report and a weekly series of every metric."""
    from charter.metrics import dashboard

    now = datetime.now(UTC)
    for i in range(3):
        client.post(
            "/v1/events/deploy",
            json={"deploy_id": f"w{i}", "commit": "d" * 40, "deployed_at": (now - timedelta(weeks=i)).isoformat()},
            headers=auth(tokens["publisher"]),
        )
    data = dashboard(runtime, bucket="week", points=4)
    assert {s["metric"] for s in data["series"]} == {r["metric"] for r in data["report"]["results"]}
    freq = next(s for s in data["series"] if s["metric"] == "deployment_frequency")
    assert len(freq["points"]) in (4, 5)  # whole ISO weeks covering the last 4 weeks
    assert sum(p["samples"] for p in freq["points"]) == 3
    assert data["report"]["format"] == "charter.metrics-report/1"
