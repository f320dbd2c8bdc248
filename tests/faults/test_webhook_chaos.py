"""A loopback receiver that fails 30% of requests at random and is restarted mid-run, and a worker
killed with -9 mid-run and restarted: every event is delivered, every signature is valid."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from charter.auth.roles import SYSTEM, Actor, Role
from charter.config import load_settings
from charter.content.actions import publish_entry, unpublish_entry
from charter.db.tables import events
from charter.runtime import Runtime
from charter.webhooks.subscriptions import create_subscription
from charter.webhooks.tables import webhook_deliveries
from tests.content.releasing import ABOUT_PAGE, CAREERS_PAGE
from tests.faults import procs
from tests.services import free_port

pytestmark = pytest.mark.slow
TOML = """[charter]
cache = "memory"

[charter.webhooks]
max_attempts = 50
backoff_base = 0.05
backoff_max = 0.5
timeout = 2

[charter.egress]
allow = ["127.0.0.0/8"]  # the test's receiver is on loopback (docs/egress.md)
"""
ROUNDS = 30


def test_every_event_is_delivered_through_failures_restarts_and_a_killed_worker(tmp_path: Path) -> None:
    from charter.demo import load_demo_content

    db = f"sqlite:///{tmp_path / 'charter.db'}"
    project = procs.project(tmp_path, TOML)
    rt = Runtime.open(load_settings(project, database_url=db, worker=False))
    load_demo_content(rt)
    port = free_port()
    sub = create_subscription(rt, SYSTEM, f"http://127.0.0.1:{port}/hook", ["*"])
    with rt.read() as conn:  # every event after the subscription must be delivered
        first_event = int(conn.execute(sa.select(sa.func.max(events.c.id))).scalar_one())
    received = tmp_path / "received.jsonl"
    receiver = procs.receiver(port, sub.secret, 0.3, received, seed=1)
    worker_log = tmp_path / "worker.log"
    worker = procs.worker(project, db, worker_log, interval=0.05)
    publisher = Actor("chaos", Role.PUBLISHER)
    try:
        live = {ABOUT_PAGE: True, CAREERS_PAGE: False}
        for i in range(ROUNDS):
            entry = CAREERS_PAGE if i % 2 else ABOUT_PAGE
            (unpublish_entry if live[entry] else publish_entry)(rt, publisher, entry)
            live[entry] = not live[entry]
            time.sleep(0.05)
            if i == ROUNDS // 3:  # the receiver goes away for a second and comes back
                procs.kill(receiver)
                time.sleep(1.0)
                receiver = procs.receiver(port, sub.secret, 0.3, received, seed=2)
            if i == 2 * ROUNDS // 3:  # the worker dies mid-delivery, without cleaning up
                procs.kill(worker)
                time.sleep(0.5)
                worker = procs.worker(project, db, worker_log, interval=0.05)

        def outstanding() -> int:
            with rt.read() as conn:
                relayed_all = conn.execute(
                    sa.select(sa.func.count())
                    .select_from(events)
                    .where(~events.c.type.like("webhook.%"))
                    .where(events.c.id.not_in(sa.select(webhook_deliveries.c.event_id)))
                    .where(events.c.id > first_event)
                ).scalar_one()
                unsettled = conn.execute(
                    sa.select(sa.func.count())
                    .select_from(webhook_deliveries)
                    .where(webhook_deliveries.c.status != "succeeded")
                ).scalar_one()
            return int(relayed_all) + int(unsettled)

        deadline = time.monotonic() + 120
        while outstanding() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert outstanding() == 0, "some events were not delivered"
    finally:
        procs.stop(worker)
        procs.kill(receiver)
    with rt.read() as conn:
        deliveries = conn.execute(
            sa.select(webhook_deliveries.c.id, webhook_deliveries.c.event_id, webhook_deliveries.c.attempts)
        ).all()
        event_ids = set(
            conn.execute(
                sa.select(events.c.id).where(events.c.id > first_event, ~events.c.type.like("webhook.%"))
            ).scalars()
        )
    rt.close()
    requests = [json.loads(line) for line in received.read_text().splitlines()]
    assert requests and all(r["valid"] for r in requests), [r for r in requests if not r["valid"]][:3]
    ok = {r["id"] for r in requests if r["status"] < 300}
    assert ok == {d.id for d in deliveries}  # every delivery got through (at least once)
    assert {d.event_id for d in deliveries} == event_ids  # every event (incl. cache.purge) was delivered
    failed = sum(1 for r in requests if r["status"] >= 300)
    retried = sum(1 for d in deliveries if d.attempts > 1)
    assert failed > 0 and retried > 0  # the faults really happened
    print(f"{len(event_ids)} events, {len(requests)} requests, {failed} failed answers, {retried} deliveries retried")
