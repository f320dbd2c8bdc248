"""Rollback of an entry and of a whole release: new revisions, caches purged, bad input refused."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from charter.app import create_app
from charter.config import load_settings
from charter.db.tables import events
from charter.runtime import Runtime
from tests.conftest import auth
from tests.content.releasing import ABOUT_PAGE, STARTER, TEAM, approved_release, plan, post, second_publisher
from tests.services import require_redis


def _edit(client: TestClient, token: str, entry_id: str, change: dict[str, str]) -> dict[str, object]:
    current = client.get(f"/v1/manage/entries/{entry_id}", headers=auth(token))
    data = current.json()["data"]
    data["en"].update(change)
    r = client.put(
        f"/v1/manage/entries/{entry_id}",
        json={"data": data},
        headers=auth(token, **{"If-Match": current.headers["etag"]}),
    )
    assert r.status_code == 200, r.text
    return r.json()


def test_entry_rollback_is_a_new_published_revision_and_purges_the_cache(
    client: TestClient, tokens: dict[str, str], runtime: Runtime
) -> None:
    _edit(client, tokens["editor"], ABOUT_PAGE, {"title": "About us (new)"})
    post(client, f"/v1/manage/entries/{ABOUT_PAGE}/publish", tokens["publisher"])
    assert client.get("/v1/pages/about").json()["data"]["title"] == "About us (new)"  # cached now

    r = post(client, f"/v1/manage/entries/{ABOUT_PAGE}/rollback", tokens["publisher"], {"revision": 1})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["current_revision"] == 3 and body["published_revision"] == 3 and body["status"] == "published"
    assert body["data"]["en"]["title"] == "About Lumen"
    assert client.get("/v1/pages/about").json()["data"]["title"] == "About Lumen"  # the cached copy was purged
    revs = client.get(f"/v1/manage/entries/{ABOUT_PAGE}/revisions", headers=auth(tokens["viewer"])).json()
    assert [(x["number"], x["action"]) for x in revs] == [(1, "create"), (2, "update"), (3, "rollback")]
    with runtime.read() as conn:
        payload = conn.execute(sa.select(events.c.payload).where(events.c.type == "entry.rolled_back")).scalar_one()
    assert payload["restored_revision"] == 1 and payload["previous_revision"] == 2 and payload["revision"] == 3


def test_bad_rollbacks_are_problems(client: TestClient, tokens: dict[str, str]) -> None:
    url = f"/v1/manage/entries/{ABOUT_PAGE}/rollback"
    cases = [
        (tokens["publisher"], {"revision": 99}, 404, "no revision 99"),
        (tokens["publisher"], {"revision": 0}, 422, ""),
        (tokens["publisher"], {"revision": 1}, 409, "nothing to roll back"),
        (tokens["editor"], {"revision": 1}, 403, ""),
        (tokens["publisher"], {}, 422, ""),
    ]
    for token, body, status, text in cases:
        r = post(client, url, token, body)
        assert r.status_code == status and text in r.json()["detail"], (body, r.text)
    r = post(
        client, "/v1/manage/entries/00000000-0000-0000-0000-000000000000/rollback", tokens["publisher"], {"revision": 1}
    )
    assert r.status_code == 404


def test_gated_types_roll_back_only_to_revisions_that_were_live(client: TestClient, tokens: dict[str, str]) -> None:
    _edit(client, tokens["editor"], STARTER, {"name": "Starter (draft)"})  # revision 2, never published
    url = f"/v1/manage/entries/{STARTER}/rollback"
    r = post(client, url, tokens["admin"], {"revision": 2})
    assert r.status_code == 403 and "never published" in r.json()["detail"]
    r = post(client, url, tokens["publisher"], {"revision": 1, "message": "drop the draft"})
    assert r.status_code == 200 and r.json()["current_revision"] == 3
    assert client.get(f"/v1/entries/pricing-plan/{STARTER}").json()["revision"] == 3


def test_release_rollback_restores_what_was_live_before(
    client: TestClient, tokens: dict[str, str], runtime: Runtime
) -> None:
    second = second_publisher(runtime)
    items = [
        {"action": "update", "entry_id": STARTER, "data": plan("starter", 7)},
        {"action": "create", "type": "pricing-plan", "data": plan("growth", 79)},
        {"action": "unpublish", "entry_id": TEAM},
    ]
    rel = approved_release(client, tokens, second, items)
    rel = post(client, f"/v1/manage/releases/{rel['id']}/publish", tokens["publisher"]).json()
    growth = next(i["entry_id"] for i in rel["items"] if i["action"] == "create")
    assert client.get(f"/v1/entries/pricing-plan/{TEAM}").status_code == 404
    assert client.get(f"/v1/entries/pricing-plan/{STARTER}").json()["data"]["price"] == 7

    assert post(client, f"/v1/manage/releases/{rel['id']}/rollback", tokens["editor"]).status_code == 403
    r = post(client, f"/v1/manage/releases/{rel['id']}/rollback", tokens["publisher"], {"message": "too early"})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "rolled_back" and r.json()["rolled_back_by"] == "token:test-publisher"
    assert client.get(f"/v1/entries/pricing-plan/{STARTER}").json()["data"]["price"] == 0
    assert client.get(f"/v1/entries/pricing-plan/{growth}").status_code == 404
    assert client.get(f"/v1/entries/pricing-plan/{TEAM}").json()["data"]["price"] == 49
    revs = client.get(f"/v1/manage/entries/{STARTER}/revisions", headers=auth(tokens["viewer"])).json()
    assert [x["action"] for x in revs] == ["create", "update", "rollback"]
    # A release rolls back once.
    assert post(client, f"/v1/manage/releases/{rel['id']}/rollback", tokens["publisher"]).status_code == 409
    with runtime.read() as conn:
        kinds = [r.type for r in conn.execute(sa.select(events.c.type).where(events.c.type.like("%rolled_back")))]
    assert kinds.count("entry.rolled_back") == 3 and kinds.count("release.rolled_back") == 1


def test_release_rollback_refuses_to_overwrite_later_changes_unless_forced(
    client: TestClient, tokens: dict[str, str]
) -> None:
    rel = post(client, "/v1/manage/releases", tokens["editor"], {"name": "About copy", "items": []}).json()
    data = client.get(f"/v1/manage/entries/{ABOUT_PAGE}", headers=auth(tokens["viewer"])).json()["data"]
    data["en"]["title"] = "About (release)"
    post(
        client,
        f"/v1/manage/releases/{rel['id']}/items",
        tokens["editor"],
        {"action": "update", "entry_id": ABOUT_PAGE, "data": data},
    )
    post(client, f"/v1/manage/releases/{rel['id']}/submit", tokens["editor"])
    post(client, f"/v1/manage/releases/{rel['id']}/approve", tokens["publisher"])
    post(client, f"/v1/manage/releases/{rel['id']}/publish", tokens["publisher"])
    _edit(client, tokens["editor"], ABOUT_PAGE, {"title": "About (later)"})
    post(client, f"/v1/manage/entries/{ABOUT_PAGE}/publish", tokens["publisher"])

    r = post(client, f"/v1/manage/releases/{rel['id']}/rollback", tokens["publisher"])
    assert r.status_code == 409 and r.json()["changed"][0]["entry_id"] == ABOUT_PAGE
    assert client.get("/v1/pages/about").json()["data"]["title"] == "About (later)"
    r = post(client, f"/v1/manage/releases/{rel['id']}/rollback", tokens["publisher"], {"force": True})
    assert r.status_code == 200
    assert client.get("/v1/pages/about").json()["data"]["title"] == "About Lumen"


@pytest.fixture
def redis_runtime(project_dir: Path, tmp_path: Path) -> Iterator[Runtime]:
    from charter.demo import load_demo_content

    prefix = f"charter:test:{uuid.uuid4().hex[:8]}:"
    settings = load_settings(
        project_dir,
        database_url=f"sqlite:///{tmp_path / 'redis.db'}",
        cache="redis",
        redis_url=require_redis(),
        extra={"redis_prefix": prefix},
    )
    rt = Runtime.open(settings)
    load_demo_content(rt)
    try:
        yield rt
    finally:
        rt.cache.clear()
        rt.close()


@pytest.mark.redis
def test_rollback_purges_the_shared_redis_cache(redis_runtime: Runtime) -> None:
    from charter.auth.roles import SYSTEM
    from charter.auth.tokens import create_token

    publisher = create_token(redis_runtime, SYSTEM, "redis-publisher", "publisher")[0]
    editor = create_token(redis_runtime, SYSTEM, "redis-editor", "editor")[0]
    with TestClient(create_app(redis_runtime.settings, runtime=redis_runtime)) as client:
        _edit(client, editor, ABOUT_PAGE, {"title": "About (v2)"})
        post(client, f"/v1/manage/entries/{ABOUT_PAGE}/publish", publisher)
        assert client.get("/v1/pages/about").json()["data"]["title"] == "About (v2)"
        cache = redis_runtime.cache
        prefix = redis_runtime.settings.extra["redis_prefix"]
        assert cache.redis.keys(prefix + "page|about|*")  # type: ignore[attr-defined]
        assert post(client, f"/v1/manage/entries/{ABOUT_PAGE}/rollback", publisher, {"revision": 1}).status_code == 200
        assert not cache.redis.keys(prefix + "page|about|*")  # type: ignore[attr-defined]
        assert client.get("/v1/pages/about").json()["data"]["title"] == "About Lumen"


def test_cli_rollback(runtime: Runtime, project_dir: Path) -> None:
    env = {**os.environ, "CHARTER_DATABASE_URL": runtime.settings.resolved_database_url(), "CHARTER_LOG_LEVEL": "ERROR"}
    cmd = [sys.executable, "-m", "charter", "content", "rollback", "-p", str(project_dir)]
    bad = subprocess.run([*cmd, ABOUT_PAGE, "--to", "7"], env=env, capture_output=True, text=True, timeout=120)
    assert bad.returncode == 1 and "no revision 7" in bad.stderr
    usage = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert usage.returncode == 2
    from charter.auth.roles import SYSTEM
    from charter.content.actions import update_entry
    from charter.content.store import get_entry, get_revision

    with runtime.read() as conn:
        entry = get_entry(conn, ABOUT_PAGE)
        data = get_revision(conn, ABOUT_PAGE, 1).data
    update_entry(runtime, SYSTEM, ABOUT_PAGE, {**data, "en": {**data["en"], "title": "x"}}, if_match=entry.etag)
    ok = subprocess.run(
        [*cmd, ABOUT_PAGE, "--to", "1", "--as", "ops"], env=env, capture_output=True, text=True, timeout=120
    )
    assert ok.returncode == 0, ok.stderr
    assert "revision 3 restores revision 1" in ok.stderr
    with runtime.read() as conn:
        assert get_revision(conn, ABOUT_PAGE, 3).author == "cli:ops"
