"""Sending webhook deliveries: claim, sign, POST, record; retry with backoff; dead-letter; replay.

A worker duty claims due deliveries in a short transaction (``FOR UPDATE SKIP LOCKED`` on
PostgreSQL, so instances never claim the same one), marking each ``delivering`` with a lease,
and hands them to a small thread pool so a slow endpoint never delays the worker's other
duties (scheduled publishing). Each attempt is signed afresh (Standard Webhooks), logged in
``webhook_attempts`` and then:

* 2xx: ``succeeded``;
* 410 Gone: ``dead`` and the subscription is disabled (the receiver said it is gone for good);
* anything else, a time-out or a refused connection: retried after an exponential backoff with
  jitter (``backoff_base * 2**(attempt-1)``, capped at ``backoff_max``, times a random factor in
  [0.5, 1]) until ``max_attempts``, then ``dead`` (with a ``webhook.dead_lettered`` event).

A worker killed mid-send leaves the delivery ``delivering`` with an expired lease; any worker
claims it again: at-least-once. Receivers deduplicate on ``webhook-id``.
"""

from __future__ import annotations

import os
import random
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
import sqlalchemy as sa
import structlog
from opentelemetry.trace import StatusCode

from charter import __version__, egress
from charter import events as ev
from charter.audit import record_audit
from charter.auth.roles import Actor, Permission
from charter.content.revisions import require
from charter.exceptions import BadRequest, Conflict, NotFound
from charter.observability.propagation import context_of
from charter.observability.spans import client_span
from charter.runtime import Runtime
from charter.webhooks.signing import sign
from charter.webhooks.subscriptions import WebhookSettings, webhook_settings
from charter.webhooks.tables import webhook_attempts, webhook_deliveries, webhook_subscriptions

log = structlog.get_logger("charter.webhooks")

STATUSES = ("pending", "delivering", "succeeded", "dead")
#: The delivery log keeps at most this many bytes of a textual response body, and never headers:
#: the log is readable through the API, so it must not become a way to read internal services.
RESPONSE_KEEP = 1024
TEXTUAL = ("text/", "application/json", "application/problem+json", "application/xml")


def backoff(attempt: int, cfg: WebhookSettings, rand: Callable[[], float] = random.random) -> float:
    """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
    ceiling = min(cfg.backoff_max, cfg.backoff_base * (2 ** (attempt - 1)))
    return ceiling * (0.5 + 0.5 * rand())


@dataclass(frozen=True)
class Claimed:
    id: str
    attempt: int
    body: str
    url: str
    secret: str
    subscription_id: str
    event_id: int
    event_type: str
    #: The traceparent of the event's cause: the delivery is a span in that trace.
    traceparent: str | None = None


class Dispatcher:
    """One per runtime: the thread pool and HTTP client that send claimed deliveries."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.cfg = webhook_settings(rt.settings)
        self.pool = ThreadPoolExecutor(self.cfg.concurrency, thread_name_prefix="charter-webhook")
        self.policy = egress.policy_for(rt.settings)
        self.client = egress.client(
            self.policy,
            timeout=self.cfg.timeout,
            limits=httpx.Limits(
                max_connections=self.cfg.concurrency * 2, max_keepalive_connections=self.cfg.concurrency
            ),
        )
        self.worker = f"{socket.gethostname()}:{os.getpid()}"
        self._in_flight = 0
        self._lock = threading.Lock()
        self._closed = False

    @property
    def free(self) -> int:
        with self._lock:
            return self.cfg.concurrency - self._in_flight

    def submit(self, claimed: Claimed) -> None:
        with self._lock:
            self._in_flight += 1
        self.pool.submit(self._run, claimed)

    def _run(self, claimed: Claimed) -> None:
        try:
            self.send(claimed)
        except Exception as exc:  # never kill the pool thread, never leave the delivery "delivering"
            log.exception("webhook_send_crashed", delivery_id=claimed.id)
            error = f"{type(exc).__name__}: {exc}"[:500]
            try:
                record_attempt(self.rt, self.cfg, claimed, None, error, None, 0.0, ev.utcnow(), self.worker)
            except Exception:
                log.exception("webhook_attempt_not_recorded", delivery_id=claimed.id)
        finally:
            with self._lock:
                self._in_flight -= 1

    def send(self, c: Claimed) -> None:
        at = ev.utcnow()
        headers = {
            **sign(c.secret, c.id, c.body, at),
            "content-type": "application/json",
            "user-agent": f"Charter-Webhooks/{__version__}",
        }
        start = time.perf_counter()
        status: int | None = None
        error: str | None = None
        text: str | None = None
        with client_span(
            self.rt.telemetry,
            f"webhook {c.event_type}",
            context_of(c.traceparent),
            {
                "http.request.method": "POST",
                "url.full": c.url,
                "charter.webhook.delivery_id": c.id,
                "charter.webhook.attempt": c.attempt,
                "charter.event.id": c.event_id,
                "charter.event.type": c.event_type,
            },
        ) as span:
            # The egress client adds this span's traceparent: the receiver's spans join the publish's trace.
            try:
                egress.check_url(c.url, self.policy)  # a URL saved by an older version, or a policy since narrowed
                with self.client.stream("POST", c.url, content=c.body.encode(), headers=headers) as response:
                    status = response.status_code
                    text = _response_text(response)
                if not 200 <= status < 300:
                    error = f"HTTP {status}"
            except egress.Refused as exc:
                error = f"refused: {exc}"[:500]
            except httpx.HTTPError as exc:
                reason = egress.refused_reason(exc)
                error = (f"refused: {reason}" if reason else f"{type(exc).__name__}: {exc}")[:500]
            except httpx.InvalidURL as exc:
                error = f"invalid URL: {exc}"[:500]
            if span.is_recording():
                if status is not None:
                    span.set_attribute("http.response.status_code", status)
                if error is not None:
                    span.set_status(StatusCode.ERROR, error)
        ms = (time.perf_counter() - start) * 1000
        record_attempt(self.rt, self.cfg, c, status, error, text, ms, at, self.worker)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self.pool.shutdown(wait=True, cancel_futures=False)
            self.client.close()


_dispatchers: dict[int, Dispatcher] = {}
_dispatchers_lock = threading.Lock()


def dispatcher_for(rt: Runtime) -> Dispatcher:
    """The runtime's dispatcher, created on first use and closed with the runtime."""
    with _dispatchers_lock:
        d = _dispatchers.get(id(rt))
        if d is None or d.rt is not rt:
            d = Dispatcher(rt)
            _dispatchers[id(rt)] = d
            rt._closers.append(_Closer(id(rt), d))
        return d


@dataclass
class _Closer:
    key: int
    dispatcher: Dispatcher

    def close(self) -> None:
        with _dispatchers_lock:
            if _dispatchers.get(self.key) is self.dispatcher:
                del _dispatchers[self.key]
        self.dispatcher.close()


def _response_text(response: httpx.Response) -> str | None:
    """At most the first :data:`RESPONSE_KEEP` bytes of a textual response, decoded; ``None`` for
    any other content type. Reads no more of the body than that."""
    kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if not kind.startswith(TEXTUAL) and not kind.endswith("+json"):
        return None
    head = b""
    for chunk in response.iter_bytes():
        head += chunk
        if len(head) >= RESPONSE_KEEP:
            break
    text = head[:RESPONSE_KEEP].decode(response.encoding or "utf-8", "replace")
    return text.replace("\x00", "\ufffd")  # PostgreSQL text cannot hold NUL


def _due_clause(now: datetime) -> sa.ColumnElement[bool]:
    d = webhook_deliveries.c
    return sa.or_(
        sa.and_(d.status == "pending", d.next_attempt_at <= now),
        sa.and_(d.status == "delivering", d.lease_until <= now),  # its worker died mid-send
    )


def claim(rt: Runtime, limit: int) -> list[Claimed]:
    cfg = webhook_settings(rt.settings)
    now = ev.utcnow()
    with rt.read() as conn:
        if conn.execute(sa.select(webhook_deliveries.c.id).where(_due_clause(now)).limit(1)).first() is None:
            return []
    d = webhook_deliveries.c
    s = webhook_subscriptions.c
    with rt.write() as (conn, _):
        q = (
            sa.select(d.id, d.attempts, d.body, d.subscription_id, d.event_id, d.event_type, d.traceparent)
            .where(_due_clause(now))
            .order_by(d.next_attempt_at, d.id)
            .limit(limit)
        )
        if conn.dialect.name == "postgresql":
            q = q.with_for_update(skip_locked=True)
        rows = conn.execute(q).all()
        if not rows:
            return []
        subs = {
            r.id: r
            for r in conn.execute(
                sa.select(s.id, s.url, s.secret, s.active).where(s.id.in_({r.subscription_id for r in rows}))
            )
        }
        lease = now + timedelta(seconds=cfg.timeout + 30)
        out = []
        for r in rows:
            sub = subs[r.subscription_id]
            if not sub.active:
                conn.execute(
                    sa.update(webhook_deliveries)
                    .where(d.id == r.id)
                    .values(status="dead", last_error="subscription disabled", lease_until=None)
                )
                continue
            conn.execute(
                sa.update(webhook_deliveries)
                .where(d.id == r.id)
                .values(status="delivering", attempts=r.attempts + 1, lease_until=lease)
            )
            out.append(
                Claimed(
                    r.id,
                    r.attempts + 1,
                    r.body,
                    sub.url,
                    sub.secret,
                    r.subscription_id,
                    r.event_id,
                    r.event_type,
                    r.traceparent,
                )
            )
        return out


def record_attempt(
    rt: Runtime,
    cfg: WebhookSettings,
    c: Claimed,
    status: int | None,
    error: str | None,
    response_text: str | None,
    ms: float,
    at: datetime,
    worker: str,
) -> None:
    d = webhook_deliveries.c
    with rt.write() as (conn, pending):
        conn.execute(
            sa.insert(webhook_attempts).values(
                delivery_id=c.id,
                attempt=c.attempt,
                at=at,
                status_code=status,
                duration_ms=round(ms, 3),
                error=error,
                response_body=response_text,
                worker=worker,
            )
        )
        # Only the holder of this attempt's claim may settle it (a re-claim after an expired
        # lease bumps ``attempts``).
        mine = sa.and_(d.id == c.id, d.status == "delivering", d.attempts == c.attempt)
        if error is None:
            conn.execute(
                sa.update(webhook_deliveries)
                .where(mine)
                .values(
                    status="succeeded",
                    delivered_at=ev.utcnow(),
                    last_status_code=status,
                    last_error=None,
                    lease_until=None,
                )
            )
            return
        gone = status == 410
        if gone or c.attempt >= cfg.max_attempts:
            result = conn.execute(
                sa.update(webhook_deliveries)
                .where(mine)
                .values(status="dead", last_status_code=status, last_error=error, lease_until=None)
            )
            if result.rowcount:
                payload = {
                    "delivery_id": c.id,
                    "subscription_id": c.subscription_id,
                    "event_id": c.event_id,
                    "event_type": c.event_type,
                    "attempts": c.attempt,
                    "last_status_code": status,
                    "last_error": error,
                }
                pending.append(ev.record(conn, ev.Event(ev.WEBHOOK_DEAD_LETTERED, payload, domain="webhooks")))
                log.warning("webhook_dead_lettered", **payload)
            if gone:
                conn.execute(
                    sa.update(webhook_subscriptions)
                    .where(webhook_subscriptions.c.id == c.subscription_id)
                    .values(active=False, disabled_reason="the endpoint answered 410 Gone", updated_at=ev.utcnow())
                )
            return
        conn.execute(
            sa.update(webhook_deliveries)
            .where(mine)
            .values(
                status="pending",
                next_attempt_at=ev.utcnow() + timedelta(seconds=backoff(c.attempt, cfg)),
                last_status_code=status,
                last_error=error,
                lease_until=None,
            )
        )


def _next_wait(rt: Runtime) -> float | None:
    d = webhook_deliveries.c
    with rt.read() as conn:
        nxt = conn.execute(sa.select(sa.func.min(d.next_attempt_at)).where(d.status == "pending")).scalar_one_or_none()
    if nxt is None:
        return None
    if nxt.tzinfo is None:
        from datetime import UTC

        nxt = nxt.replace(tzinfo=UTC)
    return max((nxt - ev.utcnow()).total_seconds(), 0.0)


def deliver_due(rt: Runtime) -> float | None:
    """Worker duty: claim as many due deliveries as there are free senders and start them."""
    dispatcher = dispatcher_for(rt)
    free = dispatcher.free
    if free <= 0:
        return 0.05
    claimed = claim(rt, free)
    for c in claimed:
        dispatcher.submit(c)
    if len(claimed) == free:
        return 0.05
    return _next_wait(rt)


# --- reads and replay -----------------------------------------------------------------------------


def delivery_dict(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "subscription_id": row.subscription_id,
        "event_id": row.event_id,
        "event_type": row.event_type,
        "status": row.status,
        "attempts": row.attempts,
        "next_attempt_at": row.next_attempt_at.isoformat() if row.status == "pending" else None,
        "last_status_code": row.last_status_code,
        "last_error": row.last_error,
        "created_at": row.created_at.isoformat(),
        "delivered_at": row.delivered_at.isoformat() if row.delivered_at else None,
        "replays": row.replays,
    }


def list_deliveries(
    conn: sa.Connection, subscription_id: str, status: str | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    d = webhook_deliveries.c
    q = sa.select(webhook_deliveries).where(d.subscription_id == subscription_id)
    if status:
        if status not in STATUSES:
            raise BadRequest(f"unknown delivery status {status!r}; use one of {', '.join(STATUSES)}")
        q = q.where(d.status == status)
    return [delivery_dict(r) for r in conn.execute(q.order_by(d.created_at.desc(), d.id).limit(limit))]


def get_delivery(conn: sa.Connection, delivery_id: str) -> dict[str, Any]:
    row = conn.execute(sa.select(webhook_deliveries).where(webhook_deliveries.c.id == delivery_id)).first()
    if row is None:
        raise NotFound(f"no webhook delivery {delivery_id!r}")
    out = delivery_dict(row)
    out["body"] = row.body
    a = webhook_attempts.c
    out["log"] = [
        {
            "attempt": r.attempt,
            "at": r.at.isoformat(),
            "status_code": r.status_code,
            "duration_ms": r.duration_ms,
            "error": r.error,
            "response_body": r.response_body,
            "worker": r.worker,
        }
        for r in conn.execute(sa.select(webhook_attempts).where(a.delivery_id == delivery_id).order_by(a.id))
    ]
    return out


def replay(
    rt: Runtime,
    actor: Actor,
    *,
    delivery_ids: list[str] | None = None,
    subscription_id: str | None = None,
    status: str = "dead",
    since: datetime | None = None,
) -> list[str]:
    """Send deliveries again from attempt 1 (same ``webhook-id``, signed afresh): the ones named,
    or a subscription's deliveries in ``status`` (created at or after ``since``). Returns the ids."""
    require(actor, Permission.ADMIN)
    d = webhook_deliveries.c
    with rt.write() as (conn, pending):
        if delivery_ids is not None:
            rows = conn.execute(sa.select(d.id, d.status, d.subscription_id).where(d.id.in_(delivery_ids))).all()
            missing = sorted(set(delivery_ids) - {r.id for r in rows})
            if missing:
                raise NotFound(f"no webhook delivery {', '.join(missing)}")
            busy = [r.id for r in rows if r.status in ("pending", "delivering")]
            if busy:
                raise Conflict(f"deliveries {', '.join(busy)} are still being attempted; replay them once settled")
            ids = [r.id for r in rows]
            sub = rows[0].subscription_id if rows else subscription_id
        else:
            if subscription_id is None:
                raise BadRequest("name deliveries or a subscription to replay")
            if status not in ("dead", "succeeded"):
                raise BadRequest("replay deliveries that are dead or succeeded")
            if (
                conn.execute(
                    sa.select(webhook_subscriptions.c.id).where(webhook_subscriptions.c.id == subscription_id)
                ).first()
                is None
            ):
                raise NotFound(f"no webhook subscription {subscription_id!r}")
            q = sa.select(d.id).where(d.subscription_id == subscription_id, d.status == status)
            if since is not None:
                q = q.where(d.created_at >= since)
            ids = list(conn.execute(q).scalars())
            sub = subscription_id
        if ids:
            conn.execute(
                sa.update(webhook_deliveries)
                .where(d.id.in_(ids))
                .values(
                    status="pending",
                    attempts=0,
                    next_attempt_at=ev.utcnow(),
                    lease_until=None,
                    replays=d.replays + 1,
                )
            )
            payload = {"delivery_ids": ids, "subscription_id": sub, "actor": f"{actor.kind}:{actor.name}"}
            pending.append(ev.record(conn, ev.Event(ev.WEBHOOK_REPLAYED, payload, domain="webhooks")))
            record_audit(conn, actor, "webhook.replay", "webhook", str(sub), {"deliveries": ids})
        return ids
