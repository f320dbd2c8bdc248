"""The metrics dashboard: the seed's five maintainability metrics and DORA, now and over time,
drawn from charter.metrics (deployments recorded through its library)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

from charter.auth.roles import SYSTEM
from charter.metrics.deploys import DeployIn, record_deploy
from charter.runtime import Runtime

SEED_AND_DORA = ["Schema break rate", "LLM eval regression rate", "Build-to-deploy lead time", "Token divergence",
                 "RAG freshness lag", "Deployment frequency", "Change lead time", "Change fail rate"]  # fmt: skip


def test_dashboard_shows_every_metric_now_and_over_time(runtime: Runtime, as_role) -> None:  # type: ignore[no-untyped-def]
    now = datetime.now(UTC)
    for days, status in ((1, "succeeded"), (3, "failed"), (9, "succeeded")):
        at = (now - timedelta(days=days)).isoformat()
        built = (now - timedelta(days=days, hours=2)).isoformat()
        record_deploy(runtime, SYSTEM, DeployIn(commit="a" * 40, deployed_at=at, built_at=built, status=status))
    client, _ = as_role("viewer")
    page = client.get("/admin/dashboard")
    assert page.status_code == 200
    for title in SEED_AND_DORA:
        assert title in page.text, title
    block = re.search(r'<script type="application/json" id="chart-data">(.*?)</script>', page.text, re.S)
    assert block is not None
    data = json.loads(block.group(1))
    series = {s["title"]: s for s in data["series"]}
    assert set(SEED_AND_DORA) <= set(series)
    deploys = series["Deployment frequency"]
    assert len(deploys["points"]) == 12 and any(p["value"] for p in deploys["points"])
    assert 'src="/admin/static/vendor/uPlot.iife.min.js' in page.text and "htmx.min.js" not in page.text
    assert 'role="img"' in page.text  # every chart has a text alternative, and a table of its values
    assert client.get("/admin/dashboard?bucket=day").status_code == 200
    assert client.get("/admin/dashboard?bucket=year").status_code == 400
