"""The scheduler: a worker duty that publishes releases when they fall due.

Every worker (the one inside each server, or ``charter worker``) runs it each tick. It reads the
next due time cheaply; when a release is due it opens a write transaction, claims one due
release with ``SELECT … FOR UPDATE SKIP LOCKED`` (PostgreSQL; SQLite serialises writers with
``BEGIN IMMEDIATE``), publishes it in that same transaction and commits. A second instance
skips the locked row, and once the first commits the row is no longer ``scheduled``: each
release is published exactly once. A release that fell due while every worker was down is
published on the first tick after start-up, and its delay is recorded on the release and in the
``release.published`` event.

The duty returns the time until the next release is due, so the worker wakes up for it (its
tick interval, 0.25 s by default, bounds the lateness).
"""

from __future__ import annotations

import os
import socket

import sqlalchemy as sa
import structlog

from charter.auth.roles import Actor, Role
from charter.content.actions.release_publish import mark_failed, publish_release
from charter.content.releases import releases
from charter.events import utcnow
from charter.exceptions import CharterError
from charter.runtime import Runtime

log = structlog.get_logger("charter.scheduler")

#: Releases published per tick at most, so other duties get their turn during a large catch-up.
BATCH = 50


def scheduler_actor() -> Actor:
    """The system actor a scheduled publish is attributed to, naming this process."""
    return Actor(name=f"scheduler@{socket.gethostname()}:{os.getpid()}", role=Role.ADMIN, kind="system")


def next_due(rt: Runtime) -> float | None:
    """Seconds until the earliest scheduled release is due (<= 0: due now); None when none is."""
    with rt.read() as conn:
        at = conn.execute(
            sa.select(sa.func.min(releases.c.scheduled_at)).where(releases.c.status == "scheduled")
        ).scalar_one_or_none()
    if at is None:
        return None
    from charter.content.releases import _aware

    at = _aware(at)
    assert at is not None
    return (at - utcnow()).total_seconds()


def _claim_and_publish(rt: Runtime, actor: Actor, claimed: list[str]) -> str | None:
    """Publish one due release in one transaction; its id, or None when nothing is due. The
    claimed id is appended to ``claimed`` before publishing (to mark it failed on an error)."""
    with rt.write() as (conn, _):
        q = (
            sa.select(releases.c.id)
            .where(releases.c.status == "scheduled", releases.c.scheduled_at <= utcnow())
            .order_by(releases.c.scheduled_at, releases.c.id)
            .limit(1)
        )
        if conn.dialect.name == "postgresql":
            q = q.with_for_update(skip_locked=True)
        release_id = conn.execute(q).scalar_one_or_none()
        if release_id is None:
            return None
        claimed.append(str(release_id))
        publish_release(rt, actor, release_id, due=True)
        return str(release_id)


def publish_due(rt: Runtime) -> float | None:
    """Worker duty: publish every due release (up to :data:`BATCH`); the wait until the next one."""
    wait = next_due(rt)
    if wait is None or wait > 0:
        return wait
    actor = scheduler_actor()
    for _ in range(BATCH):
        claimed: list[str] = []
        try:
            release_id = _claim_and_publish(rt, actor, claimed)
        except CharterError as exc:
            # The transaction rolled back (nothing of the release is published); mark it failed
            # in a transaction of its own so the scheduler does not retry it every tick.
            if claimed:
                mark_failed(rt, actor, claimed[-1], exc)
            continue
        if release_id is None:
            break
        log.info("release_published_on_schedule", release_id=release_id, worker=actor.name)
    wait = next_due(rt)
    return None if wait is None else max(wait, 0.0)
