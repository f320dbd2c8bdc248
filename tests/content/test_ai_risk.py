"""Risk is enforced: an AI draft marked medium or high risk publishes only through a release
approved by someone other than its author, identically from the API, the admin and the CLI
(charter.content.ai_risk)."""

from __future__ import annotations

import getpass
import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from charter.config import Settings
from charter.content.workflow import release_policy
from charter.runtime import Runtime
from tests.conftest import auth
from tests.content.releasing import new_release, post, second_publisher

CLAIM = {
    "version": "1.0.0",
    "variables": {
        "slug": "quick-setup",
        "claim": "Set up in ten minutes",
        "evidence": "Onboarding study",
        "approved_by": "ana@lumen.example",
    },
}


def _draft(client: TestClient, token: str) -> str:
    r = client.post("/v1/prompts/claim-draft/run", json=CLAIM, headers=auth(token))
    assert r.status_code == 200, r.text
    draft = r.json()["draft"]
    assert draft["status"] == "needs_review" and draft["risk"] in ("medium", "high")
    return str(draft["entry_id"])


def _draft_status(runtime: Runtime, entry_id: str) -> str:
    from charter.gateway.prompts import catalog

    return str(next(d["status"] for d in catalog.list_drafts(runtime) if d["entry_id"] == entry_id))


def test_a_risky_draft_needs_a_release_approved_by_someone_else(
    client: TestClient, tokens: dict[str, str], runtime: Runtime
) -> None:
    author = tokens["publisher"]
    entry_id = _draft(client, author)

    # A direct publish is refused for everyone (the type itself needs no approvals).
    for who in (author, tokens["admin"]):
        r = client.post(f"/v1/manage/entries/{entry_id}/publish", headers=auth(who))
        assert r.status_code == 403, r.text
        assert r.headers["content-type"] == "application/problem+json"
        body = r.json()
        assert body["type"].endswith("approval-required") and "AI draft" in body["detail"]
        assert body["risk"] in ("medium", "high")

    rel = new_release(client, tokens["editor"], [{"action": "update", "entry_id": entry_id}])
    assert rel["policy"]["approvals"] >= 1 and "AI draft" in rel["policy"]["description"]
    assert post(client, f"/v1/manage/releases/{rel['id']}/submit", tokens["editor"]).status_code == 200
    # The draft's author may not approve it, though it did not create the release.
    r = post(client, f"/v1/manage/releases/{rel['id']}/approve", author)
    assert r.status_code == 403 and "authored part of release" in r.json()["detail"], r.text
    r = post(client, f"/v1/manage/releases/{rel['id']}/approve", second_publisher(runtime))
    assert r.status_code == 200 and r.json()["status"] == "approved", r.text
    r = post(client, f"/v1/manage/releases/{rel['id']}/publish", tokens["admin"])
    assert r.status_code == 200 and r.json()["status"] == "published", r.text
    entry = client.get(f"/v1/manage/entries/{entry_id}", headers=auth(tokens["viewer"])).json()
    assert entry["published_revision"] == 1
    assert _draft_status(runtime, entry_id) == "published"


def test_a_low_risk_draft_keeps_the_types_own_policy(client: TestClient, tokens: dict[str, str]) -> None:
    body = {**CLAIM, "variables": {**CLAIM["variables"], "claim": "Reports in plain words"}}
    r = client.post("/v1/prompts/claim-draft/run", json=body, headers=auth(tokens["editor"]))
    draft = r.json()["draft"]
    if draft["risk"] != "low":  # the type itself is a claim: medium at least
        r = client.post(f"/v1/manage/entries/{draft['entry_id']}/publish", headers=auth(tokens["publisher"]))
        assert r.status_code == 403
        return
    r = client.post(f"/v1/manage/entries/{draft['entry_id']}/publish", headers=auth(tokens["publisher"]))
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("approvals", [0, 1, 2])
def test_release_policy_counts_a_risky_draft(project_dir: Path, approvals: int) -> None:
    settings = Settings(project_dir=project_dir, workflow={"release_approvals": approvals, "self_approval": True})
    plain = release_policy(settings, ["page"])
    risky = release_policy(settings, ["page"], ai_draft=True)
    assert (plain.approvals, plain.self_approval) == (approvals, True)
    assert (risky.approvals, risky.self_approval) == (max(approvals, 1), False)
    assert "AI draft" in risky.describe() and "none by an author" in risky.describe()


def test_the_cli_goes_through_the_same_rule(
    runtime: Runtime, project_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.content.test_preview_revocation import charter

    monkeypatch.setenv("CHARTER_DATABASE_URL", runtime.settings.resolved_database_url())
    p = ("--project", str(project_dir))
    code, out, err = charter(
        monkeypatch,
        capsys,
        "prompts",
        "run",
        "claim-draft",
        "--version",
        "1.0.0",
        "--vars",
        json.dumps(CLAIM["variables"]),
        *p,
    )
    assert code == 0, err
    entry_id = json.loads(out)["draft"]["entry_id"]
    code, out, err = charter(
        monkeypatch, capsys, "releases", "create", "Claim", "--publish", entry_id, "--as", "bob", *p
    )
    assert code == 0, err
    release_id = out.strip().splitlines()[0]
    assert charter(monkeypatch, capsys, "releases", "submit", release_id, "--as", "bob", *p)[0] == 0
    code, _, err = charter(monkeypatch, capsys, "releases", "approve", release_id, "--as", getpass.getuser(), *p)
    assert code == 1 and "authored part of release" in err
    assert charter(monkeypatch, capsys, "releases", "approve", release_id, "--as", "carol", *p)[0] == 0
    code, _, err = charter(monkeypatch, capsys, "releases", "publish", release_id, "--as", "bob", *p)
    assert code == 0, err
    assert _draft_status(runtime, entry_id) == "published"
