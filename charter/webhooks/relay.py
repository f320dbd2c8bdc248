"""The outbox relay: a worker duty that turns committed events into webhook deliveries.

The outbox is the ``events`` table, written in the same transaction as every change
(:func:`charter.events.record`), so an event exists exactly when its change committed. The relay
reads events it has not relayed yet and, in one transaction, inserts one delivery per matching
active subscription, records ``cache.purge`` for every purging event when a subscription wants
it (the CDN hook, delivered like any other event), and marks the events relayed. With no active
subscription it only moves its position. A crash before that commit relays them
again on restart; a crash after it leaves deliveries that the delivery duty sends: at least once.

PostgreSQL can commit event ids out of order (a transaction holding id 10 may commit after id
11). The relay therefore keeps a watermark (every id at or below it was relayed) plus the set of
relayed ids above it, and gives up on a hole in the ids only after ``relay_settle`` seconds (a
rolled-back transaction leaves such holes forever). Only one instance relays at a time: the
position row is locked with ``FOR UPDATE SKIP LOCKED`` and the others skip the tick.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import orjson
import sqlalchemy as sa

from charter import events as ev
from charter.delivery.purge import PURGING_EVENTS, surrogate_keys_for
from charter.runtime import Runtime
from charter.webhooks.subscriptions import list_subscriptions, matches, start_relay, webhook_settings
from charter.webhooks.tables import webhook_deliveries, webhook_relay, webhook_relayed

BATCH = 500


def message_body(event: ev.Event) -> str:
    """The request body, per the Standard Webhooks payload structure: type, timestamp, data."""
    timestamp = event.occurred_at.isoformat().replace("+00:00", "Z")
    data = {**event.payload, "event_id": event.id}
    return orjson.dumps({"type": event.type, "timestamp": timestamp, "data": data}).decode()


def _pending_work(rt: Runtime) -> bool:
    with rt.read() as conn:
        row = conn.execute(sa.select(webhook_relay.c.watermark)).first()
        if row is None:
            return bool(conn.execute(sa.select(ev.events_table.c.id).limit(1)).first())
        q = sa.select(ev.events_table.c.id).where(
            ev.events_table.c.id > row.watermark,
            ev.events_table.c.id.not_in(sa.select(webhook_relayed.c.event_id)),
        )
        return conn.execute(q.limit(1)).first() is not None


def relay_events(rt: Runtime) -> float | None:
    """Worker duty: relay up to :data:`BATCH` new events; 0 when more are waiting."""
    if not _pending_work(rt):
        return None
    settle = webhook_settings(rt.settings).relay_settle
    with rt.write() as (conn, pending):
        q = sa.select(webhook_relay).where(webhook_relay.c.id == 1)
        if conn.dialect.name == "postgresql":
            q = q.with_for_update(skip_locked=True)
        state = conn.execute(q).first()
        if state is None:
            if conn.execute(sa.select(webhook_relay.c.id)).first() is not None:
                return None  # another instance is relaying right now
            # Never relayed and no subscription was ever made: start from the newest event.
            top = conn.execute(sa.select(sa.func.coalesce(sa.func.max(ev.events_table.c.id), 0))).scalar_one()
            start_relay(conn, int(top))
            return None
        watermark = int(state.watermark)
        rows = conn.execute(
            sa.select(ev.events_table)
            .where(
                ev.events_table.c.id > watermark,
                ev.events_table.c.id.not_in(sa.select(webhook_relayed.c.event_id)),
            )
            .order_by(ev.events_table.c.id)
            .limit(BATCH)
        ).all()
        subs = list_subscriptions(conn, active_only=True)
        now = ev.utcnow()
        if not subs:
            # Nobody listens: nothing to deliver or derive; move the watermark past these events.
            if rows:
                top = max(int(r.id) for r in rows)
                conn.execute(
                    sa.update(webhook_relay).where(webhook_relay.c.id == 1).values(watermark=top, updated_at=now)
                )
                conn.execute(sa.delete(webhook_relayed).where(webhook_relayed.c.event_id <= top))
            return 0.0 if len(rows) == BATCH else None
        purge_hook = any(matches(s.event_types, ev.CACHE_PURGE) for s in subs)
        for row in rows:
            event = ev.from_row(row)
            if purge_hook and event.type in PURGING_EVENTS:
                keys = surrogate_keys_for(event)
                purge = ev.Event(
                    ev.CACHE_PURGE,
                    {"keys": keys, "cause": {"event_id": event.id, "type": event.type}},
                    domain="delivery",
                    traceparent=event.traceparent,
                )
                pending.append(ev.record(conn, purge))
            wanted = [s for s in subs if matches(s.event_types, event.type)]
            if wanted:
                body = message_body(event)
                conn.execute(
                    sa.insert(webhook_deliveries),
                    [
                        {
                            "id": "msg_" + uuid.uuid4().hex,
                            "subscription_id": s.id,
                            "event_id": event.id,
                            "event_type": event.type,
                            "body": body,
                            "status": "pending",
                            "attempts": 0,
                            "next_attempt_at": now,
                            "created_at": now,
                            "traceparent": event.traceparent,
                        }
                        for s in wanted
                    ],
                )
            conn.execute(sa.insert(webhook_relayed).values(event_id=event.id, relayed_at=now))
        _advance(conn, watermark, now - timedelta(seconds=settle))
    return 0.0 if len(rows) == BATCH else None


def _advance(conn: sa.Connection, watermark: int, settled_before: datetime) -> None:
    relayed = conn.execute(
        sa.select(webhook_relayed.c.event_id, webhook_relayed.c.relayed_at).order_by(webhook_relayed.c.event_id)
    ).all()
    new = watermark
    for event_id, relayed_at in relayed:
        if event_id == new + 1 or event_id <= new:
            new = max(new, event_id)
            continue
        # A hole below event_id: an uncommitted or rolled-back transaction. Wait for it to settle.
        if relayed_at <= settled_before:
            new = event_id
            continue
        break
    if new != watermark:
        conn.execute(
            sa.update(webhook_relay).where(webhook_relay.c.id == 1).values(watermark=new, updated_at=ev.utcnow())
        )
        conn.execute(sa.delete(webhook_relayed).where(webhook_relayed.c.event_id <= new))
