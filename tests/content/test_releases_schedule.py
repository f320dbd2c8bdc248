"""Scheduled publishing: time zones, bad schedules, on-time publishing by the worker, catch-up."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from charter.app import create_app
from charter.auth.roles import Actor, Role
from charter.content.actions.approve import approve_release
from charter.content.actions.release import ItemSpec, create_release, submit_release
from charter.content.actions.schedule import resolve_schedule, schedule_release
from charter.content.releases import get_release, releases
from charter.db.tables import events
from charter.exceptions import ValidationFailed
from charter.runtime import Runtime
from tests.conftest import auth
from tests.content.releasing import CAREERS_PAGE, new_release, post

NOW = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)
EDITOR = Actor("ed", Role.EDITOR)
PUBLISHER = Actor("pub", Role.PUBLISHER)


@pytest.mark.parametrize(
    ("at", "tz", "expected"),
    [
        ("2026-12-01T09:00", "Europe/Berlin", "2026-12-01T08:00:00+00:00"),
        ("2026-07-01T09:00", "Europe/Berlin", "2026-07-01T07:00:00+00:00"),  # summer time
        ("2026-12-01T09:00", "America/New_York", "2026-12-01T14:00:00+00:00"),
        ("2026-12-01T09:00+05:30", "Asia/Kolkata", "2026-12-01T03:30:00+00:00"),
        ("2026-10-25T02:30+01:00", "Europe/Berlin", "2026-10-25T01:30:00+00:00"),  # the second 02:30
        ("2026-02-01T00:00:00Z", "UTC", "2026-02-01T00:00:00+00:00"),
    ],
)
def test_schedule_times_resolve_in_their_time_zone(at: str, tz: str, expected: str) -> None:
    assert resolve_schedule(at, tz, now=NOW).isoformat() == expected


@pytest.mark.parametrize(
    ("at", "tz", "message"),
    [
        ("2026-12-01T09:00", "Mars/Olympus", "unknown time zone"),
        ("2026-12-01T09:00", "../../etc/passwd", "not an IANA time zone"),
        ("2026-12-01T09:00", "", "not an IANA time zone"),
        ("next tuesday", "UTC", "not an ISO 8601"),
        ("2025-12-01T09:00", "Europe/Berlin", "in the past"),
        ("2026-03-29T02:30", "Europe/Berlin", "does not exist"),  # clocks jump 02:00 -> 03:00
        ("2026-10-25T02:30", "Europe/Berlin", "happens twice"),  # clocks fall back 03:00 -> 02:00
        ("2035-01-01T00:00", "UTC", "three years"),
    ],
)
def test_bad_schedules_are_refused(at: str, tz: str, message: str) -> None:
    with pytest.raises(ValidationFailed) as info:
        resolve_schedule(at, tz, now=NOW)
    assert message in info.value.detail


def _approved_page_release(rt: Runtime) -> str:
    rel = create_release(rt, EDITOR, "Careers launch", items=[ItemSpec("update", entry_id=CAREERS_PAGE)])
    submit_release(rt, EDITOR, rel.id)
    approve_release(rt, PUBLISHER, rel.id)
    return rel.id


def test_schedule_api_refuses_bad_input_and_changes_nothing(client: TestClient, tokens: dict[str, str]) -> None:
    rel = new_release(client, tokens["editor"], [{"action": "update", "entry_id": CAREERS_PAGE}])
    url = f"/v1/manage/releases/{rel['id']}/schedule"
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    r = post(client, url, tokens["publisher"], {"at": future, "timezone": "UTC"})
    assert r.status_code == 409 and "only an approved release" in r.json()["detail"]  # still a draft
    post(client, f"/v1/manage/releases/{rel['id']}/submit", tokens["editor"])
    post(client, f"/v1/manage/releases/{rel['id']}/approve", tokens["publisher"])
    for body, pointer in [
        ({"at": future, "timezone": "Nowhere/City"}, "/timezone"),
        ({"at": "2020-01-01T00:00", "timezone": "Europe/Berlin"}, "/at"),
        ({"at": "soon", "timezone": "UTC"}, "/at"),
    ]:
        r = post(client, url, tokens["publisher"], body)
        assert r.status_code == 422 and r.json()["errors"][0]["pointer"] == pointer, r.text
    assert post(client, url, tokens["editor"], {"at": future}).status_code == 403
    got = client.get(f"/v1/manage/releases/{rel['id']}", headers=auth(tokens["viewer"])).json()
    assert got["status"] == "approved" and got["schedule"] is None

    local = (datetime.now(UTC) + timedelta(days=2)).astimezone().replace(tzinfo=None)
    r = post(client, url, tokens["publisher"], {"at": local.strftime("%Y-%m-%dT%H:%M"), "timezone": "Asia/Tokyo"})
    assert r.status_code == 200 and r.json()["status"] == "scheduled"
    assert r.json()["schedule"]["timezone"] == "Asia/Tokyo" and r.json()["schedule"]["local"].endswith("+09:00")
    r = post(client, f"/v1/manage/releases/{rel['id']}/unschedule", tokens["publisher"])
    assert r.json()["status"] == "approved" and r.json()["schedule"] is None


@pytest.mark.services("worker")  # the worker's releases.publish_due duty publishes it
def test_the_worker_publishes_on_time(client: TestClient, runtime: Runtime) -> None:
    rid = _approved_page_release(runtime)
    at = datetime.now(UTC) + timedelta(seconds=1.5)
    schedule_release(runtime, PUBLISHER, rid, at=at.isoformat(), timezone="Europe/Berlin")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with runtime.read() as conn:
            rel = get_release(conn, rid)
        if rel.status == "published":
            break
        time.sleep(0.05)
    assert rel.status == "published", rel
    assert rel.published_at is not None and rel.published_at >= at
    assert rel.publish_delay_ms is not None and 0 <= rel.publish_delay_ms < 1000
    assert rel.published_by and rel.published_by.startswith("system:scheduler@")
    assert client.get("/v1/pages/careers").status_code == 200


@pytest.mark.services("worker")  # the app's in-process worker catches up at start-up
def test_a_release_due_while_down_is_published_at_start_up_with_its_delay(runtime: Runtime) -> None:
    rid = _approved_page_release(runtime)
    schedule_release(runtime, PUBLISHER, rid, at=(datetime.now(UTC) + timedelta(hours=1)).isoformat(), timezone="UTC")
    # Everything was down while it fell due, 90 seconds ago.
    with runtime.write() as (conn, _):
        conn.execute(
            sa.update(releases)
            .where(releases.c.id == rid)
            .values(scheduled_at=datetime.now(UTC) - timedelta(seconds=90))
        )
    app = create_app(runtime.settings, runtime=runtime)
    with TestClient(app):
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with runtime.read() as conn:
                rel = get_release(conn, rid)
            if rel.status == "published":
                break
            time.sleep(0.05)
    assert rel.status == "published"
    assert rel.publish_delay_ms is not None and 90_000 <= rel.publish_delay_ms < 100_000
    with runtime.read() as conn:
        payload = conn.execute(sa.select(events.c.payload).where(events.c.type == "release.published")).scalar_one()
    assert payload["catch_up"] is True and payload["delay_ms"] == rel.publish_delay_ms
