"""POST /v1/events/deploy|incident and GET /v1/metrics through the real app."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from charter.db.tables import events
from charter.runtime import Runtime
from tests.conftest import auth

SHA = "a" * 40


def _count(runtime: Runtime) -> int:
    with runtime.read() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(events)).scalar_one())


def _post(client: TestClient, token: str, path: str, body: dict[str, Any]):  # type: ignore[no-untyped-def]
    return client.post(path, json=body, headers=auth(token))


def test_record_deploy_retry_and_conflict(client: TestClient, tokens: dict[str, str], runtime: Runtime) -> None:
    body = {"deploy_id": "web-1", "service": "web", "commit": SHA, "deployed_at": "2026-11-30T10:00:00+01:00"}
    r = _post(client, tokens["publisher"], "/v1/events/deploy", body)
    assert r.status_code == 201, r.text
    out = r.json()
    assert out["created"] is True and out["payload"]["deployed_at"] == "2026-11-30T09:00:00Z"
    assert out["payload"]["environment"] == "production" and out["payload"]["kind"] == "planned"
    before = _count(runtime)
    again = _post(client, tokens["publisher"], "/v1/events/deploy", body)
    assert again.status_code == 200 and again.json()["created"] is False
    assert again.json()["event_id"] == out["event_id"]
    clash = _post(client, tokens["publisher"], "/v1/events/deploy", {**body, "commit": "b" * 40})
    assert clash.status_code == 409
    assert clash.headers["content-type"] == "application/problem+json"
    assert _count(runtime) == before


def test_default_id_and_time(client: TestClient, tokens: dict[str, str]) -> None:
    r = _post(client, tokens["admin"], "/v1/events/deploy", {"commit": SHA})
    assert r.status_code == 201
    assert len(r.json()["deploy_id"]) == 36 and r.json()["payload"]["deployed_at"].endswith("Z")


@pytest.mark.parametrize(
    ("body", "pointer", "fragment"),
    [
        ({"commit": SHA, "deployed_at": "2026-11-30T10:00:00"}, "/deployed_at", "no UTC offset"),
        ({"commit": SHA, "deployed_at": "yesterday"}, "/deployed_at", "not an RFC 3339"),
        ({"commit": SHA, "deployed_at": "2099-01-01T00:00:00Z"}, "/deployed_at", "in the future"),
        ({"commit": SHA, "deployed_at": "2026-11-30"}, "/deployed_at", "a date, not a timestamp"),
        ({"commit": "not-a-sha"}, "/commit", "hex commit id"),
        ({"commit": SHA, "kind": "yolo"}, "/kind", ""),
        ({"commit": SHA, "surprise": 1}, "/surprise", ""),
        (
            {"commit": SHA, "built_at": "2026-11-30T11:00:00Z", "deployed_at": "2026-11-30T10:00:00Z"},
            "",
            "built_at is after deployed_at",
        ),
        ({"commit": SHA, "remediates": ["nope"]}, "/remediates/0", "no deployment 'nope'"),
        ({"commit": SHA, "changes": [{"sha": SHA, "committed_at": "soon"}]}, "/changes/0/committed_at", "RFC 3339"),
    ],
)
def test_bad_deploys_record_nothing(
    client: TestClient, tokens: dict[str, str], runtime: Runtime, body: dict[str, Any], pointer: str, fragment: str
) -> None:
    before = _count(runtime)
    r = _post(client, tokens["publisher"], "/v1/events/deploy", body)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    problem = r.json()
    assert any(e["pointer"].startswith(pointer) and fragment in e["message"] for e in problem["errors"]), problem
    assert _count(runtime) == before


def test_permissions(client: TestClient, tokens: dict[str, str]) -> None:
    assert client.post("/v1/events/deploy", json={"commit": SHA}).status_code == 401
    assert _post(client, tokens["editor"], "/v1/events/deploy", {"commit": SHA}).status_code == 403
    assert _post(client, tokens["viewer"], "/v1/events/incident", {}).status_code == 403
    assert client.get("/v1/metrics").status_code == 401
    assert client.get("/v1/metrics", headers=auth(tokens["viewer"])).status_code == 200


def test_not_json(client: TestClient, tokens: dict[str, str]) -> None:
    r = client.post(
        "/v1/events/deploy", content=b"commit=1", headers={**auth(tokens["admin"]), "Content-Type": "text/plain"}
    )
    assert r.status_code == 415
    r = client.post(
        "/v1/events/deploy", content=b"{", headers={**auth(tokens["admin"]), "Content-Type": "application/json"}
    )
    assert r.status_code == 400 and r.headers["content-type"] == "application/problem+json"


def test_incident_lifecycle_makes_the_deploy_failed(client: TestClient, tokens: dict[str, str]) -> None:
    token = tokens["publisher"]
    _post(
        client,
        token,
        "/v1/events/deploy",
        {"deploy_id": "d1", "service": "web", "commit": SHA, "deployed_at": "2026-11-30T10:00:00Z"},
    )
    r = _post(
        client,
        token,
        "/v1/events/incident",
        {"incident_id": "inc-1", "deploy_id": "d1", "started_at": "2026-11-30T10:30:00Z", "severity": "sev1"},
    )
    assert r.status_code == 201 and r.json()["payload"]["service"] == "web"
    bad = _post(client, token, "/v1/events/incident", {"incident_id": "inc-1", "resolved_at": "2026-11-30T09:00:00Z"})
    assert bad.status_code == 422 and "before started_at" in bad.text
    r = _post(client, token, "/v1/events/incident", {"incident_id": "inc-1", "resolved_at": "2026-11-30T12:00:00Z"})
    assert r.status_code == 200 and r.json()["updates"] == 2
    assert r.json()["payload"]["deploy_id"] == "d1" and r.json()["payload"]["severity"] == "sev1"
    window = "2026-11-30T00:00:00Z..2026-12-01T00:00:00Z"
    rep = client.get("/v1/metrics", params={"metric": "dora", "window": window}, headers=auth(token))
    assert rep.status_code == 200, rep.text
    results = {x["metric"]: x for x in rep.json()["results"]}
    assert results["change_fail_rate"]["value"] == 1.0
    assert results["failed_deployment_recovery_time"]["value"] == 2 * 3600
    assert results["deployment_frequency"]["value"] == 1.0
    unknown = _post(client, token, "/v1/events/incident", {"deploy_id": "ghost"})
    assert unknown.status_code == 422 and "ghost" in unknown.text


@pytest.mark.parametrize(
    ("params", "slug"),
    [
        ({"window": "fortnight"}, "unknown-window"),
        ({"window": ["7d", "7d"]}, "unknown-window"),
        ({"window": "2026-13"}, "unknown-window"),
        ({"metric": "happiness"}, "unknown-metric"),
    ],
)
def test_bad_report_queries(client: TestClient, tokens: dict[str, str], params: dict[str, Any], slug: str) -> None:
    r = client.get("/v1/metrics", params=params, headers=auth(tokens["viewer"]))
    assert r.status_code == 400, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["type"].endswith(slug)


def test_series(client: TestClient, tokens: dict[str, str]) -> None:
    token = tokens["publisher"]
    for i, day in enumerate(["2026-11-02", "2026-11-03", "2026-11-10"]):
        _post(
            client, token, "/v1/events/deploy", {"deploy_id": f"s{i}", "commit": SHA, "deployed_at": f"{day}T10:00:00Z"}
        )
    r = client.get(
        "/v1/metrics/series",
        params={
            "metric": "deployment_frequency",
            "bucket": "week",
            "since": "2026-11-02T00:00:00Z",
            "until": "2026-11-23T00:00:00Z",
        },
        headers=auth(token),
    )
    assert r.status_code == 200, r.text
    (s,) = r.json()
    assert [p["label"] for p in s["points"]] == ["2026-W45", "2026-W46", "2026-W47"]
    assert [p["samples"] for p in s["points"]] == [2, 1, 0]
    assert s["points"][2]["value"] == 0.0
    bad = client.get("/v1/metrics/series", params={"since": "last week"}, headers=auth(token))
    assert bad.status_code == 400 and "since" in bad.json()["detail"]
