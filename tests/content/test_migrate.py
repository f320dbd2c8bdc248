"""Content migrations for a major release, on SQLite and PostgreSQL: dry run, all or nothing,
round trip through rollback, consumers pinning the old major, and the registry's events."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from charter import events as ev
from charter.app import create_app
from charter.auth.roles import SYSTEM
from charter.config import DEMO_DIR, Settings
from charter.content.actions import create_entry, publish_entry, unpublish_entry, update_entry
from charter.content.actions.migrate import apply_migration, list_runs, plan_migration, rollback_migration
from charter.content.store import get_entry, get_revision, list_entries
from charter.exceptions import BadRequest, Conflict, ValidationFailed
from charter.runtime import Runtime
from charter.schemas.migrations import MigrationFileError, load_migration, operation_factories
from charter.schemas.releases import sync
from tests.conftest import BACKENDS
from tests.templates import DemoTemplate

EXAMPLE = DEMO_DIR / "examples" / "page-v2"
HOME = "1c1506c8-152f-54e9-995e-2b9254b5a14e"


@pytest.fixture(scope="module", params=BACKENDS)
def demo_template(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoTemplate]:
    """The demo, migrated and loaded once per backend; every test gets its own copy."""
    with DemoTemplate.build(request.param, tmp_path_factory.mktemp("template")) as template:
        yield template


@pytest.fixture
def database_url(demo_template: DemoTemplate, tmp_path: Path) -> Iterator[str]:
    with demo_template.copy(tmp_path) as url:
        yield url


@pytest.fixture
def runtime(settings: Settings) -> Iterator[Runtime]:
    rt = Runtime.open(settings, migrate=False)  # the copy is migrated, loaded and released already
    try:
        yield rt
    finally:
        rt.close()


def snapshot(rt: Runtime) -> dict[str, Any]:
    with rt.read() as conn:
        out = {}
        for e in list_entries(conn, "page"):
            cur = get_revision(conn, e.id, e.current_revision)
            pub = get_revision(conn, e.id, e.published_revision) if e.published_revision else None
            out[e.id] = (e.slug, cur.data, cur.schema_id, pub.data if pub else None, e.published_revision is not None)
        return out


def upgrade_project(rt: Runtime, sunset: str | None = "2999-01-01") -> tuple[Runtime, Any]:
    """Release page.v2 in the project and reopen the runtime on the same database."""
    project = rt.settings.project_dir
    shutil.copy(EXAMPLE / "page.schema.json", project / "content-types" / "page.schema.json")
    # The site index reads v2's field (docs/schema-evolution.md): v2 renames description to summary.
    contract = project / "retrieval.yaml"
    contract.write_text(contract.read_text().replace("fields: [description, sections]", "fields: [summary, sections]"))
    (project / "migrations").mkdir(exist_ok=True)
    text = (EXAMPLE / "page.v2.yaml").read_text()
    if sunset:
        text = text.replace("sunset: 2027-06-30", f"sunset: {sunset}")
    (project / "migrations" / "page.v2.yaml").write_text(text)
    new = Runtime.open(rt.settings, migrate=False)
    sync(new)  # what start-up does after Alembic: release page.v2
    migration = load_migration(project / "migrations" / "page.v2.yaml", operation_factories(new.plugins))
    return new, migration


def test_round_trip(runtime: Runtime) -> None:
    before = snapshot(runtime)
    # The draft home page gets a newer, unpublished revision: both must be migrated.
    with runtime.read() as conn:
        home = get_entry(conn, HOME)
        data = get_revision(conn, HOME, home.current_revision).data
    data["en"]["title"] = "A draft title"
    update_entry(runtime, SYSTEM, HOME, data, if_match=home.etag)
    before = snapshot(runtime)
    rt, migration = upgrade_project(runtime)
    try:
        plan = plan_migration(rt, migration)
        assert plan.ok and len(plan.to_migrate) == 4
        assert snapshot(rt) == before, "a dry run writes nothing"
        run = apply_migration(rt, SYSTEM, migration)
        assert run.entry_count == 4 and run.status == "applied"
        after = snapshot(rt)
        _slug, cur, schema_id, pub, published = after[HOME]
        assert schema_id == "page.v2" and published
        assert "description" not in cur["en"] and cur["en"]["summary"].startswith("Lumen turns")
        assert cur["de-DE"]["summary"] and cur["en"]["title"] == "A draft title"
        assert pub["en"]["title"] != "A draft title", "the published revision was migrated separately"
        hero = next(s for s in pub["en"]["sections"] if s["intent"] == "hero")
        assert "tagline" in hero and "subtitle" not in hero
        no_description = next(v for k, v in after.items() if "description" not in before[k][1]["en"])
        assert no_description[1]["en"]["summary"] == "Lumen: product analytics your whole team trusts."
        with pytest.raises(Conflict, match="already applied"):
            apply_migration(rt, SYSTEM, migration)
        rolled = rollback_migration(rt, SYSTEM, run.id)
        assert rolled.status == "rolled_back"
        assert snapshot(rt) == before, "rollback restores every entry exactly"
        with rt.read() as conn:
            actions = [
                r.action
                for r in [get_revision(conn, HOME, n) for n in range(1, get_entry(conn, HOME).current_revision + 1)]
            ]
        assert actions[-4:] == ["migrate", "migrate", "rollback", "rollback"]
        assert [r.status for r in list_runs(rt)] == ["rolled_back"]
    finally:
        rt.close()


def test_all_or_nothing(runtime: Runtime) -> None:
    rt, migration = upgrade_project(runtime)
    try:
        before = snapshot(rt)
        # Without set_default, the page that has no description cannot become a valid page.v2.
        broken = migration.__class__(
            **{**migration.__dict__, "steps": tuple(s for s in migration.steps if s.name != "set_default")}
        )
        plan = plan_migration(rt, broken)
        assert not plan.ok and len(plan.failing) == 2
        assert all("summary" in err.message for e in plan.failing for err in e.errors)
        with pytest.raises(ValidationFailed) as info:
            apply_migration(rt, SYSTEM, broken)
        assert "nothing was changed" in info.value.detail
        assert all(e.pointer.startswith("/entries/") for e in info.value.errors)
        assert snapshot(rt) == before
        assert list_runs(rt) == []
    finally:
        rt.close()


def test_rollback_refuses_after_edits(runtime: Runtime) -> None:
    rt, migration = upgrade_project(runtime)
    try:
        run = apply_migration(rt, SYSTEM, migration)
        with rt.read() as conn:
            home = get_entry(conn, HOME)
            data = get_revision(conn, HOME, home.current_revision).data
        data["en"]["title"] = "Edited after the migration"
        update_entry(rt, SYSTEM, HOME, data, if_match=home.etag)
        before = snapshot(rt)
        with pytest.raises(Conflict, match=HOME):
            rollback_migration(rt, SYSTEM, run.id)
        assert snapshot(rt) == before
    finally:
        rt.close()


@pytest.mark.parametrize("demo_template", ["sqlite"], indirect=True)  # refused before any database access
def test_migration_needs_the_new_schema(runtime: Runtime, tmp_path: Path) -> None:
    migration = load_migration(EXAMPLE / "page.v2.yaml", operation_factories(runtime.plugins))
    with pytest.raises(BadRequest, match=r"release the page\.v2 schema first"):
        plan_migration(runtime, migration)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("from: [", "malformed YAML"),
        ("from: page.v1\nto: page.v1\noperations: [{drop: {path: x}}]", "must be a later major"),
        ("from: page.v1\nto: page.v2\noperations: [{explode: {path: x}}]", "line 3: unknown operation 'explode'"),
        (
            "from: page.v1\nto: page.v2\noperations:\n  - rename: {from: a.b, to: c.d}",
            "line 4: rename: to must be a plain",
        ),
        ("from: page.v1\nto: page.v2\nsunset: soon\noperations: [{drop: {path: x}}]", "line 3: sunset must be a date"),
        ("from: page\nto: page.v2\noperations: []", "from must be a schema id"),
    ],
)
def test_bad_migration_files(tmp_path: Path, text: str, expected: str) -> None:
    from charter.plugins import make_plugin_manager

    path = tmp_path / "m.yaml"
    path.write_text(text)
    with pytest.raises(MigrationFileError) as info:
        load_migration(path, operation_factories(make_plugin_manager(load_entrypoints=False)))
    messages = " | ".join(e.message for e in info.value.errors)
    assert expected in messages and all(e.file == str(path) for e in info.value.errors)


def test_pinned_old_major_until_sunset(runtime: Runtime) -> None:
    rt, migration = upgrade_project(runtime)
    try:
        apply_migration(rt, SYSTEM, migration)
        with TestClient(create_app(rt.settings, runtime=rt), raise_server_exceptions=False) as client:
            current = client.get("/v1/pages/home")
            assert current.status_code == 200 and current.json()["schema"]["id"] == "page.v2"
            assert current.headers["vary"].startswith("Charter-Schema")
            old = client.get("/v1/pages/home", headers={"Charter-Schema": "page.v1"})
            assert old.status_code == 200, old.text
            body = old.json()
            assert body["schema"]["id"] == "page.v1" and "description" in body["data"]
            assert old.headers["charter-schema"] == "page.v1"
            assert old.headers["deprecation"].startswith("@")
            assert old.headers["sunset"] == "Tue, 01 Jan 2999 00:00:00 GMT"
            # A cache in front drops it with the entry or a migration of the type (docs/edge.md).
            assert old.headers["surrogate-key"] == f"type:page entry:{body['id']}"
            de = client.get("/v1/pages/home?locale=de-AT", headers={"Charter-Schema": "page.v1"}).json()
            assert de["locale"] == {"requested": "de-AT", "resolved": "de-AT"} and de["included"]
            again = client.get(
                "/v1/pages/home", headers={"Charter-Schema": "page.v1", "If-None-Match": old.headers["etag"]}
            )
            assert again.status_code == 304
            star = client.get("/v1/pages/home", headers={"Charter-Schema": "page.v1", "If-None-Match": "*"})
            assert star.status_code == 304 and star.headers["etag"] == old.headers["etag"]  # as the current major
            plan = client.get(f"/v1/entries/page/{HOME}", headers={"Charter-Schema": "page.v1"})
            assert plan.status_code == 200 and plan.json()["schema"]["id"] == "page.v1"
            assert (
                client.get("/v1/pages/home", headers={"Charter-Schema": "page.v2"}).json()["schema"]["id"] == "page.v2"
            )
            unknown = client.get("/v1/pages/home", headers={"Charter-Schema": "page.v7"})
            assert unknown.status_code == 400 and unknown.headers["content-type"] == "application/problem+json"
            assert client.get("/v1/pages/home", headers={"Charter-Schema": "not a schema"}).status_code == 400
            with rt.write() as (conn, _):
                from charter.schemas.tables import schema_migrations

                conn.execute(sa.update(schema_migrations).values(sunset=datetime.now(UTC) - timedelta(days=1)))
            gone = client.get("/v1/pages/home", headers={"Charter-Schema": "page.v1"})
            assert gone.status_code == 410 and gone.json()["successor"] == "page.v2"
    finally:
        rt.close()


def test_registry_records_releases_and_breaking_changes(runtime: Runtime) -> None:
    with runtime.read() as conn:
        released = ev.since(conn, 0, [ev.SCHEMA_RELEASED])
    assert {e.payload["content_type"] for e in released} >= {"page", "pricing-plan"}
    first = next(e for e in released if e.payload["content_type"] == "page")
    assert first.domain == "marketing" and first.payload["declared_bump"] == "new"
    rt, _ = upgrade_project(runtime)
    try:
        with rt.read() as conn:
            new = [
                e
                for e in ev.since(conn, 0, [ev.SCHEMA_RELEASED, ev.SCHEMA_BREAKING_CHANGE])
                if e.payload["schema_id"] == "page.v2"
            ]
        kinds = sorted(e.type for e in new)
        assert kinds == [ev.SCHEMA_BREAKING_CHANGE, ev.SCHEMA_RELEASED]
        breaking = next(e for e in new if e.type == ev.SCHEMA_BREAKING_CHANGE)
        assert breaking.domain == "marketing"
        p = breaking.payload
        assert (p["content_type"], p["version"], p["previous_version"], p["domain"]) == (
            "page",
            "2.0.0",
            "1.0.0",
            "marketing",
        )
        assert p["required_bump"] == "major" and p["semver_ok"] is True
        assert p["changes"] and all(c["level"] == "major" for c in p["changes"])
        assert any(c["pointer"] == "/required" for c in p["changes"])
        from charter.schemas.releases import registry_status

        page = next(s for s in registry_status(rt) if s.name == "page")
        assert [r["version"] for r in page.releases] == ["1.0.0", "2.0.0"] and page.released and not page.drift
    finally:
        rt.close()


def _pages(client: TestClient, url: str, headers: dict[str, str]) -> tuple[list[dict[str, Any]], int]:
    """Every item of a paginated list, following next_cursor; and how many pages it took."""
    items: list[dict[str, Any]] = []
    pages = 0
    while url:
        response = client.get(url, headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        items.extend(body["items"])
        pages += 1
        url = f"/v1/entries/page?limit=1&cursor={body['next_cursor']}" if body["next_cursor"] else ""
    return items, pages


def test_pinned_old_major_on_the_list(runtime: Runtime) -> None:
    rt, migration = upgrade_project(runtime)
    try:
        with rt.read() as conn:
            published_v1 = {
                e.id: get_revision(conn, e.id, e.published_revision).data
                for e in list_entries(conn, "page")
                if e.published_revision
            }
        apply_migration(rt, SYSTEM, migration)
        # After the migration: one page unpublished (gone for every major), one created under v2 only.
        gone = next(i for i in sorted(published_v1) if i != HOME)
        unpublish_entry(rt, SYSTEM, gone)
        new = create_entry(
            rt,
            SYSTEM,
            "page",
            {"en": {"slug": "v2-only", "title": "New", "summary": "Only ever v2.", "sections": []}},
        )
        publish_entry(rt, SYSTEM, new.id)
        pin = {"Charter-Schema": "page.v1"}
        with TestClient(create_app(rt.settings, runtime=rt), raise_server_exceptions=False) as client:
            items, pages = _pages(client, "/v1/entries/page?limit=1", pin)
            expected = sorted(set(published_v1) - {gone})
            assert [i["id"] for i in items] == expected and pages == len(expected), "no entry skipped or repeated"
            assert all(i["schema"]["id"] == "page.v1" for i in items)
            assert all(i["data"] == rt.registry.get("page").resolve(published_v1[i["id"]], None)[0] for i in items)
            current, _ = _pages(client, "/v1/entries/page?limit=1", {})
            assert {i["id"] for i in current} == (set(published_v1) - {gone}) | {new.id}
            assert all(i["schema"]["id"] == "page.v2" for i in current)

            listed = client.get("/v1/entries/page?limit=2&locale=de-DE", headers=pin)
            assert listed.status_code == 200
            assert listed.headers["charter-schema"] == "page.v1" and listed.headers["deprecation"].startswith("@")
            assert (
                listed.headers["sunset"] == "Tue, 01 Jan 2999 00:00:00 GMT"
                and "Charter-Schema" in listed.headers["vary"]
            )
            assert {i["locale"]["requested"] for i in listed.json()["items"]} == {"de-DE"}
            again = client.get(
                "/v1/entries/page?limit=2&locale=de-DE", headers={**pin, "If-None-Match": listed.headers["etag"]}
            )
            assert again.status_code == 304

            home = client.get("/v1/entries/page?fields.slug=home", headers=pin).json()
            assert [i["id"] for i in home["items"]] == [HOME] and "description" in home["items"][0]["data"]
            # summary exists in page.v2 only: filtering the pinned list by it is refused.
            bad = client.get("/v1/entries/page?fields.summary=x", headers=pin)
            assert bad.status_code == 400 and bad.headers["content-type"] == "application/problem+json"
            assert client.get("/v1/entries/page?locale=fr", headers=pin).status_code in (400, 404)
            assert client.get("/v1/entries/page?cursor=%%%", headers=pin).status_code == 400
            assert client.get("/v1/entries/page", headers={"Charter-Schema": "page.v9"}).status_code == 400
            with rt.write() as (conn, _):
                from charter.schemas.tables import schema_migrations

                conn.execute(sa.update(schema_migrations).values(sunset=datetime.now(UTC) - timedelta(days=1)))
            assert client.get("/v1/entries/page", headers=pin).status_code == 410
    finally:
        rt.close()
