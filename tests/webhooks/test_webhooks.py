"""Webhooks through the real app and a real loopback receiver: subscriptions, signed deliveries,
retries with backoff, dead-letter, replay, the delivery log, the cache-purge hook."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from charter.config import Settings, load_settings
from charter.db.tables import events
from charter.events import Event, record, utcnow
from charter.runtime import Runtime
from charter.webhooks.delivery import backoff
from charter.webhooks.relay import relay_events
from charter.webhooks.subscriptions import WebhookSettings
from charter.webhooks.tables import webhook_relay
from tests.conftest import auth
from tests.content.releasing import CAREERS_PAGE, post
from tests.services import free_port
from tests.webhooks.receiver import Receiver

FAST = {"max_attempts": 3, "backoff_base": 0.05, "backoff_max": 0.2, "timeout": 5}


@pytest.fixture
def settings(project_dir: Path, database_url: str, services: frozenset[str]) -> Settings:
    return load_settings(
        project_dir, database_url=database_url, trace_exporter="memory", webhooks=FAST, worker="worker" in services
    )


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver(free_port()).start()
    yield r
    r.stop()


def wait_for(check: Callable[[], Any], timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("timed out waiting")


def subscribe(client: TestClient, tokens: dict[str, str], receiver: Receiver, types: list[str]) -> dict[str, Any]:
    r = post(client, "/v1/manage/webhooks", tokens["admin"], {"url": receiver.url, "event_types": types})
    assert r.status_code == 201, r.text
    receiver.secret = r.json()["secret"]
    return r.json()


def test_subscriptions_crud_and_bad_input(client: TestClient, tokens: dict[str, str], receiver: Receiver) -> None:
    sub = subscribe(client, tokens, receiver, ["entry.published", "release.*"])
    assert sub["secret"].startswith("whsec_") and sub["active"] is True
    h = auth(tokens["admin"])
    listed = client.get("/v1/manage/webhooks", headers=h).json()
    assert [s["id"] for s in listed] == [sub["id"]] and listed[0]["secret"].endswith("…")
    assert (
        post(
            client, "/v1/manage/webhooks", tokens["publisher"], {"url": receiver.url, "event_types": ["*"]}
        ).status_code
        == 403
    )
    for body, pointer in [
        ({"url": "ftp://example.com/x", "event_types": ["*"]}, "/url"),
        ({"url": "not a url", "event_types": ["*"]}, "/url"),
        ({"url": "http://user:pw@example.com/", "event_types": ["*"]}, "/url"),
        ({"url": "https://example.com/", "event_types": ["entry.exploded"]}, "/event_types/0"),
        ({"url": "https://example.com/", "event_types": ["nothing.*"]}, "/event_types/0"),
    ]:
        r = post(client, "/v1/manage/webhooks", tokens["admin"], body)
        assert r.status_code == 422 and r.json()["errors"][0]["pointer"] == pointer, r.text
    assert (
        client.post("/v1/manage/webhooks", json={"url": receiver.url, "event_types": []}, headers=h).status_code == 422
    )
    r = client.patch(f"/v1/manage/webhooks/{sub['id']}", json={"event_types": ["*"]}, headers=h)
    assert r.status_code == 200 and r.json()["event_types"] == ["*"]
    rotated = post(client, f"/v1/manage/webhooks/{sub['id']}/rotate-secret", tokens["admin"]).json()
    assert rotated["secret"] != sub["secret"] and rotated["secret"].startswith("whsec_")
    assert client.delete(f"/v1/manage/webhooks/{sub['id']}", headers=h).status_code == 204
    assert client.get(f"/v1/manage/webhooks/{sub['id']}", headers=h).status_code == 404
    assert len(client.get("/v1/manage/webhooks", headers=h).json()) == 0


@pytest.mark.services("worker")  # the worker relays the outbox and delivers
def test_events_are_delivered_signed_to_matching_subscriptions(
    client: TestClient, tokens: dict[str, str], receiver: Receiver
) -> None:
    sub = subscribe(client, tokens, receiver, ["entry.published", "cache.purge"])
    post(client, f"/v1/manage/entries/{CAREERS_PAGE}/publish", tokens["publisher"])
    published = wait_for(lambda: receiver.received("entry.published"))
    purge = wait_for(lambda: receiver.received("cache.purge"))
    assert all(r["valid"] for r in receiver.requests), receiver.requests
    assert published[0]["body"]["data"]["id"] == CAREERS_PAGE and published[0]["id"].startswith("msg_")
    assert purge[0]["body"]["data"]["keys"] == [f"entry:{CAREERS_PAGE}", "type:page"]
    assert purge[0]["body"]["data"]["cause"]["type"] == "entry.published"
    time.sleep(0.5)
    assert len(receiver.requests) == 2  # entry.updated etc. are not subscribed

    h = auth(tokens["admin"])
    log = wait_for(
        lambda: (
            [
                d
                for d in client.get(f"/v1/manage/webhooks/{sub['id']}/deliveries", headers=h).json()
                if d["status"] == "succeeded"
            ]
            or None
        )
    )
    detail = client.get(f"/v1/manage/webhooks/deliveries/{log[0]['id']}", headers=h).json()
    assert detail["log"][0]["status_code"] == 200 and detail["attempts"] == 1
    assert detail["body"].startswith('{"type":')


@pytest.mark.services("worker")  # the worker relays the outbox and delivers
def test_failures_retry_with_backoff_then_dead_letter_and_replay(
    client: TestClient, tokens: dict[str, str], receiver: Receiver, runtime: Runtime, project_dir: Path
) -> None:
    receiver.status = 500
    sub = subscribe(client, tokens, receiver, ["entry.published"])
    h = auth(tokens["admin"])
    post(client, f"/v1/manage/entries/{CAREERS_PAGE}/publish", tokens["publisher"])
    dead = wait_for(lambda: client.get(f"/v1/manage/webhooks/{sub['id']}/deliveries?status=dead", headers=h).json())
    detail = client.get(f"/v1/manage/webhooks/deliveries/{dead[0]['id']}", headers=h).json()
    assert [a["status_code"] for a in detail["log"]] == [500, 500, 500] and detail["last_error"] == "HTTP 500"
    assert len({r["id"] for r in receiver.requests}) == 1 and len(receiver.requests) == 3  # same webhook-id
    with runtime.read() as conn:
        dl = conn.execute(sa.select(events.c.payload).where(events.c.type == "webhook.dead_lettered")).scalar_one()
    assert dl["delivery_id"] == dead[0]["id"] and dl["attempts"] == 3

    receiver.status = 200
    r = post(client, f"/v1/manage/webhooks/deliveries/{dead[0]['id']}/replay", tokens["admin"])
    assert r.status_code == 200 and r.json()["replayed"] == [dead[0]["id"]]
    wait_for(lambda: receiver.received()[-1]["status"] == 200)
    done = wait_for(
        lambda: client.get(f"/v1/manage/webhooks/deliveries/{dead[0]['id']}", headers=h).json()["status"] == "succeeded"
    )
    assert done and all(r["valid"] for r in receiver.requests)
    # Replay needs a settled delivery, and a real one.
    assert post(client, "/v1/manage/webhooks/deliveries/msg_nope/replay", tokens["admin"]).status_code == 404

    # The CLI replays everything dead for a subscription.
    receiver.status = 500
    post(client, f"/v1/manage/entries/{CAREERS_PAGE}/unpublish", tokens["publisher"])  # not subscribed
    post(client, f"/v1/manage/entries/{CAREERS_PAGE}/publish", tokens["publisher"])
    wait_for(lambda: client.get(f"/v1/manage/webhooks/{sub['id']}/deliveries?status=dead", headers=h).json())
    receiver.status = 200
    env = {**os.environ, "CHARTER_DATABASE_URL": runtime.settings.resolved_database_url()}
    cli = subprocess.run(
        [sys.executable, "-m", "charter", "webhooks", "replay", "--subscription", sub["id"], "-p", str(project_dir)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert cli.returncode == 0 and "queued 1 delivery again" in cli.stderr, cli.stderr
    wait_for(lambda: not client.get(f"/v1/manage/webhooks/{sub['id']}/deliveries?status=dead", headers=h).json())


@pytest.mark.services("worker")  # the worker relays the outbox and delivers
def test_410_gone_disables_the_subscription(client: TestClient, tokens: dict[str, str], receiver: Receiver) -> None:
    receiver.status = 410
    # One event type: a publish also records index.updated and cache.purge, whose deliveries may
    # already be on their way when the first 410 comes back.
    sub = subscribe(client, tokens, receiver, ["entry.published"])
    post(client, f"/v1/manage/entries/{CAREERS_PAGE}/publish", tokens["publisher"])
    h = auth(tokens["admin"])
    got = wait_for(
        lambda: (s := client.get(f"/v1/manage/webhooks/{sub['id']}", headers=h).json())["active"] is False and s
    )
    assert "410" in got["disabled_reason"]
    assert len(receiver.requests) == 1
    post(client, f"/v1/manage/entries/{CAREERS_PAGE}/unpublish", tokens["publisher"])
    post(client, f"/v1/manage/entries/{CAREERS_PAGE}/publish", tokens["publisher"])
    time.sleep(1.0)  # a disabled subscription gets nothing more
    assert len(receiver.requests) == 1


def test_backoff_grows_exponentially_with_jitter_and_a_cap() -> None:
    cfg = WebhookSettings(backoff_base=2, backoff_max=60)
    rng = random.Random(7)
    for attempt, ceiling in [(1, 2), (2, 4), (3, 8), (5, 32), (6, 60), (12, 60)]:
        delays = [backoff(attempt, cfg, rng.random) for _ in range(200)]
        assert ceiling / 2 <= min(delays) and max(delays) <= ceiling
        assert len(set(delays)) > 150  # jittered


def test_relay_waits_for_a_hole_in_event_ids_then_moves_on(runtime: Runtime) -> None:
    fast = runtime.settings.model_copy(update={"webhooks": {"relay_settle": 0.3}})
    runtime.settings = fast
    from charter.auth.roles import SYSTEM
    from charter.webhooks.subscriptions import create_subscription

    create_subscription(runtime, SYSTEM, "http://127.0.0.1:9/cdn", ["cache.purge"])  # starts the relay here
    with runtime.read() as conn:
        start = conn.execute(sa.select(webhook_relay.c.watermark)).scalar_one()
    with runtime.write() as (conn, _):
        # An event committed by a transaction that took a later id while the ids before it are
        # held by transactions still open (or rolled back).
        conn.execute(
            sa.insert(events).values(
                id=start + 1000,
                type="entry.published",
                domain="",
                payload={"id": "x", "type": "page"},
                occurred_at=utcnow(),
            )
        )
    relay_events(runtime)
    with runtime.read() as conn:
        assert conn.execute(sa.select(webhook_relay.c.watermark)).scalar_one() == start  # waits for the hole
    with runtime.write() as (conn, _):
        late = record(conn, Event("entry.published", {"id": "y", "type": "page"}))
    assert late.id is not None
    time.sleep(0.4)
    relay_events(runtime)  # relays the late event; the hole has settled
    relay_events(runtime)
    with runtime.read() as conn:
        wm = conn.execute(sa.select(webhook_relay.c.watermark)).scalar_one()
        purges = conn.execute(sa.select(events.c.payload).where(events.c.type == "cache.purge")).scalars().all()
    assert wm >= start + 1000
    assert {p["cause"]["event_id"] for p in purges} >= {start + 1000, late.id}


@pytest.mark.services("worker")  # the worker relays the outbox and delivers
def test_a_delivery_joins_the_trace_of_the_publish(
    client: TestClient, tokens: dict[str, str], receiver: Receiver, runtime: Runtime
) -> None:
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    trace_id = "0af7651916cd43dd8448eb211c80319c"
    subscribe(client, tokens, receiver, ["entry.published", "cache.purge"])
    r = client.post(
        f"/v1/manage/entries/{CAREERS_PAGE}/publish",
        headers=auth(tokens["publisher"], traceparent=f"00-{trace_id}-b7ad6b7169203331-01"),
    )
    assert r.status_code == 200, r.text
    published = wait_for(lambda: receiver.received("entry.published"))
    purge = wait_for(lambda: receiver.received("cache.purge"))
    # The event stored the publish's context; the relay and the dispatcher carried it on.
    with runtime.read() as conn:
        stored = conn.execute(
            sa.select(events.c.traceparent).where(events.c.type == "entry.published").order_by(events.c.id.desc())
        ).scalar()
    assert stored is not None and stored.split("-")[1] == trace_id
    exporter = runtime.telemetry.exporter
    assert isinstance(exporter, InMemorySpanExporter)

    def finished_sends() -> list[Any] | None:
        found = [s for s in exporter.get_finished_spans() if s.name.startswith("webhook ")]
        return found if len(found) >= 2 else None

    sends = wait_for(finished_sends)
    for delivery in (published[0], purge[0]):
        header = delivery["traceparent"]
        assert header is not None and header.split("-")[1] == trace_id  # the receiver joins the trace
        span = next(s for s in sends if format(s.context.span_id, "016x") == header.split("-")[2])
        assert format(span.context.trace_id, "032x") == trace_id
        assert span.attributes["http.response.status_code"] == 200
