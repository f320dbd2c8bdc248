"""The HTTP door to the schema registry, the schema check and migrations (``/v1/manage/schemas``,
``/v1/manage/migrations``): a dry run, an apply, a rollback through the API, and bad input as
problem+json with nothing written."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from charter.app import create_app
from charter.auth.roles import SYSTEM
from charter.auth.tokens import create_token
from charter.config import DEMO_DIR, Settings
from charter.runtime import Runtime
from charter.schemas.releases import sync
from tests.conftest import BACKENDS, auth
from tests.content.test_migrate import snapshot
from tests.templates import DemoTemplate

EXAMPLE = DEMO_DIR / "examples" / "page-v2"


@pytest.fixture(scope="module", params=BACKENDS)
def demo_template(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoTemplate]:
    with DemoTemplate.build(request.param, tmp_path_factory.mktemp("template")) as template:
        yield template


@pytest.fixture
def database_url(demo_template: DemoTemplate, tmp_path: Path) -> Iterator[str]:
    with demo_template.copy(tmp_path) as url:
        yield url


@pytest.fixture
def upgraded(settings: Settings) -> Iterator[Runtime]:
    """The demo with page.v2 released and its migration file in migrations/ (not yet applied)."""
    project = settings.project_dir
    shutil.copy(EXAMPLE / "page.schema.json", project / "content-types" / "page.schema.json")
    contract = project / "retrieval.yaml"  # the product-docs index reads v2's summary, not description
    contract.write_text(contract.read_text().replace("fields: [description, sections]", "fields: [summary, sections]"))
    (project / "migrations").mkdir()
    text = (EXAMPLE / "page.v2.yaml").read_text().replace("sunset: 2027-06-30", "sunset: 2999-01-01")
    (project / "migrations" / "page.v2.yaml").write_text(text)
    (project / "migrations" / "broken.yaml").write_text("from: page.v1\nto: page.v2\noperations: [{explode: {}}]\n")
    rt = Runtime.open(settings, migrate=False)
    sync(rt)
    try:
        yield rt
    finally:
        rt.close()


@pytest.fixture
def api(upgraded: Runtime) -> Iterator[tuple[TestClient, dict[str, str]]]:
    tokens = {role: create_token(upgraded, SYSTEM, f"t-{role}", role)[0] for role in ("viewer", "editor", "publisher")}
    with TestClient(create_app(upgraded.settings, runtime=upgraded), raise_server_exceptions=False) as client:
        yield client, tokens


def _problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    return body


def test_registry_lists_releases_with_their_changes(api: tuple[TestClient, dict[str, str]]) -> None:
    client, tokens = api
    r = client.get("/v1/manage/schemas", headers=auth(tokens["viewer"]))
    assert r.status_code == 200, r.text
    items = {t["name"]: t for t in r.json()["items"]}
    assert set(items) == {"doc", "legal-text", "marketing-claim", "page", "pricing-plan"}
    page = items["page"]
    assert (page["schema_id"], page["version"], page["released"], page["drift"]) == ("page.v2", "2.0.0", True, False)
    first, second = page["releases"]
    assert (first["version"], first["declared_bump"], first["changes"]) == ("1.0.0", "new", [])
    assert (second["version"], second["previous_version"], second["required_bump"]) == ("2.0.0", "1.0.0", "major")
    assert second["semver_ok"] is True and second["breaking"] > 0
    assert any(c["pointer"] == "/required" and c["level"] == "major" for c in second["changes"])
    only = client.get("/v1/manage/schemas?type=page", headers=auth(tokens["viewer"])).json()["items"]
    assert [t["name"] for t in only] == ["page"]
    _problem(client.get("/v1/manage/schemas?type=widget", headers=auth(tokens["viewer"])), 404)


def test_schema_check_over_http(api: tuple[TestClient, dict[str, str]], upgraded: Runtime) -> None:
    client, tokens = api
    broken = upgraded.settings.project_dir / "migrations" / "broken.yaml"
    problem = _problem(client.get("/v1/manage/schemas/check?content=true", headers=auth(tokens["viewer"])), 422)
    assert "broken.yaml" in problem["detail"] and problem["errors"][0]["file"] == str(broken)
    broken.unlink()
    r = client.get("/v1/manage/schemas/check?content=true", headers=auth(tokens["viewer"]))
    assert r.status_code == 200, r.text
    report = r.json()
    # The registry already holds page 2.0.0 (released at start-up), so every type is unchanged;
    # the stored pages are still page.v1 and the migration file says how they become page.v2.
    assert report["baseline"] == "registry" and {t["status"] for t in report["types"]} == {"unchanged"}
    assert report["content"]["ok"] is True and report["content"]["checked"] > 0
    # But the marketing site's contract still expects page 1.x: the check fails, naming it.
    assert report["ok"] is False
    assert {(f["consumer"], f["kind"]) for f in report["contracts"]["failures"]} >= {("marketing-web", "version")}
    # The consumer pins page.v1 until it has moved: its contract is checked against page 1.0.0.
    contract = upgraded.settings.project_dir / "contracts" / "marketing-web.yaml"
    contract.write_text(
        contract.read_text().replace("    version: 1.x", "    version: 1.x\n    headers: {Charter-Schema: page.v1}")
    )
    report = client.get("/v1/manage/schemas/check", headers=auth(tokens["viewer"])).json()
    assert report["ok"] is True, report["contracts"]["failures"]


def test_dry_run_apply_and_rollback(api: tuple[TestClient, dict[str, str]], upgraded: Runtime) -> None:
    client, tokens = api
    publisher = auth(tokens["publisher"])
    before = snapshot(upgraded)
    listed = client.get("/v1/manage/migrations", headers=auth(tokens["viewer"])).json()
    assert listed["runs"] == []
    files = {f["name"]: f for f in listed["files"]}
    assert files["page.v2.yaml"]["from"] == "page.v1" and files["page.v2.yaml"]["errors"] == []
    assert "unknown operation 'explode'" in files["broken.yaml"]["errors"][0]["message"]

    dry = client.post("/v1/manage/migrations", json={"migration": "page.v2.yaml"}, headers=publisher)
    assert dry.status_code == 200, dry.text
    body = dry.json()
    assert body["dry_run"] is True and body["ok"] is True and body["run"] is None
    assert body["plan"]["counts"] == {"migrate": 4, "fail": 0, "skip": 0}
    assert snapshot(upgraded) == before, "a dry run writes nothing"

    applied = client.post(
        "/v1/manage/migrations", json={"migration": "page.v2.yaml", "dry_run": False}, headers=publisher
    )
    assert applied.status_code == 201, applied.text
    run = applied.json()["run"]
    assert applied.headers["location"] == f"/v1/manage/migrations/{run['id']}"
    assert (run["from"], run["to"], run["status"], run["entries"]) == ("page.v1", "page.v2", "applied", 4)
    assert run["applied_by"] == "token:t-publisher"
    assert client.get("/v1/pages/home").json()["schema"]["id"] == "page.v2"
    assert client.get(f"/v1/manage/migrations/{run['id']}", headers=auth(tokens["viewer"])).json() == run
    again = client.post(
        "/v1/manage/migrations", json={"migration": "page.v2.yaml", "dry_run": False}, headers=publisher
    )
    assert "already applied" in _problem(again, 409)["detail"]

    rolled = client.post(f"/v1/manage/migrations/{run['id']}/rollback", headers=publisher)
    assert rolled.status_code == 200, rolled.text
    assert rolled.json()["status"] == "rolled_back" and rolled.json()["rolled_back_at"]
    assert snapshot(upgraded) == before, "rollback restores every entry"
    assert client.get("/v1/pages/home").json()["schema"]["id"] == "page.v1"
    runs = client.get("/v1/manage/migrations?content_type=page", headers=auth(tokens["viewer"])).json()["runs"]
    assert [r["status"] for r in runs] == ["rolled_back"]
    _problem(client.post(f"/v1/manage/migrations/{run['id']}/rollback", headers=publisher), 409)


def test_failing_apply_writes_nothing(api: tuple[TestClient, dict[str, str]], upgraded: Runtime) -> None:
    client, tokens = api
    project = upgraded.settings.project_dir
    text = (project / "migrations" / "page.v2.yaml").read_text()
    (project / "migrations" / "no-default.yaml").write_text(
        "\n".join(line for line in text.splitlines() if "set_default" not in line) + "\n"
    )
    before = snapshot(upgraded)
    dry = client.post("/v1/manage/migrations", json={"migration": "no-default.yaml"}, headers=auth(tokens["publisher"]))
    assert dry.status_code == 200 and dry.json()["ok"] is False
    assert dry.json()["plan"]["counts"]["fail"] == 2
    failed = client.post(
        "/v1/manage/migrations",
        json={"migration": "no-default.yaml", "dry_run": False},
        headers=auth(tokens["publisher"]),
    )
    problem = _problem(failed, 422)
    assert "nothing was changed" in problem["detail"] and all(
        e["pointer"].startswith("/entries/") for e in problem["errors"]
    )
    assert snapshot(upgraded) == before
    assert client.get("/v1/manage/migrations", headers=auth(tokens["viewer"])).json()["runs"] == []


@pytest.mark.parametrize("demo_template", ["sqlite"], indirect=True)
@pytest.mark.parametrize(
    ("body", "status", "expected"),
    [
        ({"migration": "../charter.toml"}, 422, "1 invalid input(s)"),  # the OpenAPI pattern refuses it
        ({"migration": "missing.yaml"}, 404, "no migration file migrations/missing.yaml"),
        ({"migration": "broken.yaml"}, 422, "problem(s) in"),
        ({"migration": "page.v2.yaml", "dry_run": "maybe"}, 422, ""),
        ({}, 422, ""),
    ],
)
def test_bad_migration_requests(
    api: tuple[TestClient, dict[str, str]], body: dict[str, Any], status: int, expected: str
) -> None:
    client, tokens = api
    problem = _problem(client.post("/v1/manage/migrations", json=body, headers=auth(tokens["publisher"])), status)
    assert expected in problem["detail"]


@pytest.mark.parametrize("demo_template", ["sqlite"], indirect=True)
def test_roles_and_unknown_runs(api: tuple[TestClient, dict[str, str]]) -> None:
    client, tokens = api
    body = {"migration": "page.v2.yaml"}
    _problem(client.post("/v1/manage/migrations", json=body), 401)
    _problem(client.post("/v1/manage/migrations", json=body, headers=auth(tokens["editor"])), 403)
    _problem(client.post("/v1/manage/migrations/7/rollback", headers=auth(tokens["editor"])), 403)
    _problem(client.post("/v1/manage/migrations/7/rollback", headers=auth(tokens["publisher"])), 404)
    _problem(client.get("/v1/manage/migrations/7", headers=auth(tokens["viewer"])), 404)
    _problem(client.get("/v1/manage/migrations/0", headers=auth(tokens["viewer"])), 422)
