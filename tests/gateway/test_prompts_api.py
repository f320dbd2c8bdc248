"""``/v1/prompts`` over HTTP with Charter API tokens, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import auth

REPORT = {
    "format": "charter.eval-report/1",
    "subject": {"prompt": "support-answer", "prompt_version": "1.0.0"},
    "summary": {"factuality": 0.9, "citation_coverage": 0.9, "latency_p95_ms": 100},
}
QUESTION = {
    "variables": {"question": "How long do refunds take?", "sources": [{"id": "e#1", "text": "Refunds take 5 days."}]}
}
CLAIM = {
    "version": "1.0.0",
    "variables": {
        "slug": "quick-setup",
        "claim": "Set up in ten minutes",
        "evidence": "Onboarding study",
        "approved_by": "ana@lumen.example",
    },
}


def test_prompt_lifecycle_over_http(client: TestClient, tokens: dict[str, str]) -> None:
    viewer, editor, publisher = auth(tokens["viewer"]), auth(tokens["editor"]), auth(tokens["publisher"])
    assert client.get("/v1/prompts").status_code == 401
    listed = client.get("/v1/prompts", headers=viewer).json()
    assert [p["name"] for p in listed] == ["answer", "claim-draft", "support-answer"]

    r = client.post("/v1/prompts/support-answer/run", json=QUESTION, headers=viewer)
    assert r.status_code == 409 and "no production version yet" in r.json()["detail"]
    assert r.headers["content-type"] == "application/problem+json"

    body = {"version": "1.0.0", "reason": "first release", "report": REPORT}
    assert client.post("/v1/prompts/support-answer/promote", json=body, headers=editor).status_code == 403
    bad = {**body, "report": {**REPORT, "summary": {"factuality": 0.1}}}
    r = client.post("/v1/prompts/support-answer/promote", json=bad, headers=publisher)
    assert r.status_code == 422
    assert {e["pointer"] for e in r.json()["errors"]} == {
        "/summary/factuality",
        "/summary/citation_coverage",
        "/summary/latency_p95_ms",
    }
    r = client.post("/v1/prompts/support-answer/promote", json=body, headers=publisher)
    assert r.status_code == 200, r.text
    assert r.json()["to_version"] == "1.0.0" and r.json()["actor"].endswith("test-publisher")

    r = client.post("/v1/prompts/support-answer/run", json=QUESTION, headers=viewer)
    assert r.status_code == 200, r.text
    run = r.json()
    assert run["version"] == "1.0.0" and run["selected_by"] == "label:production"
    assert run["output"] == "Refunds take 5 days. [S1]" and run["citations"] == ["e#1"]

    shown = client.get("/v1/prompts/support-answer", headers=viewer).json()
    assert shown["labels"] == {"production": "1.0.0"}
    assert [m["action"] for m in shown["history"]] == ["promote"]
    assert [e["passed"] for e in shown["evals"]] == [True, False]

    r = client.post("/v1/prompts/support-answer/rollback", json={"reason": "x"}, headers=publisher)
    assert r.status_code == 409


def test_drafts_over_http_need_write(client: TestClient, tokens: dict[str, str]) -> None:
    r = client.post("/v1/prompts/claim-draft/run", json=CLAIM, headers=auth(tokens["viewer"]))
    assert r.status_code == 403 and "may not write" in r.json()["detail"]
    r = client.post("/v1/prompts/claim-draft/run", json=CLAIM, headers=auth(tokens["editor"]))
    assert r.status_code == 200, r.text
    draft = r.json()["draft"]
    assert draft["saved"] and draft["status"] == "needs_review" and draft["risk"] == "medium"
    entry = client.get(f"/v1/manage/entries/{draft['entry_id']}", headers=auth(tokens["viewer"])).json()
    assert entry["status"] != "published"


def test_bad_run_requests(client: TestClient, tokens: dict[str, str]) -> None:
    headers = auth(tokens["viewer"])
    cases: list[tuple[str, Any, int]] = [
        ("/v1/prompts/nope/run", {}, 404),
        ("/v1/prompts/Bad%20Name/run", {}, 422),
        ("/v1/prompts/support-answer/run", {"bogus": 1}, 422),
        ("/v1/prompts/support-answer/run", {"version": "1.0.0", "variables": {"question": 5}}, 422),
        ("/v1/prompts/support-answer/run", {"version": "7.0.0"}, 404),
        ("/v1/prompts/support-answer/run", {"label": "staging"}, 404),
    ]
    for path, body, status in cases:
        r = client.post(path, json=body, headers=headers)
        assert r.status_code == status, (path, body, r.text)
        assert r.headers["content-type"] == "application/problem+json"
