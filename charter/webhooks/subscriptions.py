"""Webhook subscriptions: an endpoint URL, the event types it wants, and its signing secret.

Event types are names from :mod:`charter.events` (``entry.published``), a domain wildcard
(``entry.*``) or ``*`` (everything except ``webhook.*``, which is never delivered by webhooks).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from charter import events as ev
from charter.audit import record_audit
from charter.auth.roles import Actor, Permission
from charter.config import Settings
from charter.content.revisions import require
from charter.egress import Policy, Refused, policy_for
from charter.egress import check_url as check_egress_url
from charter.events import utcnow
from charter.exceptions import ConfigError, ErrorDetail, NotFound
from charter.exceptions import ValidationFailed as Invalid
from charter.runtime import Runtime
from charter.webhooks.signing import new_secret
from charter.webhooks.tables import webhook_attempts, webhook_deliveries, webhook_relay, webhook_subscriptions


class WebhookSettings(BaseModel):
    """``[charter.webhooks]`` in charter.toml."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_attempts: int = Field(default=8, ge=1, le=50)
    backoff_base: float = Field(default=2.0, gt=0, description="Seconds before the first retry.")
    backoff_max: float = Field(default=3600.0, gt=0, description="Cap on one retry delay, seconds.")
    timeout: float = Field(default=10.0, gt=0, le=120)
    concurrency: int = Field(default=8, ge=1, le=64)
    relay_settle: float = Field(default=60.0, gt=0, description="Seconds before a gap in event ids is given up.")


def webhook_settings(settings: Settings) -> WebhookSettings:
    try:
        return WebhookSettings.model_validate(settings.webhooks)
    except ValidationError as exc:
        raise ConfigError(f"invalid [charter.webhooks] settings: {exc}") from exc


def known_event_types() -> list[str]:
    return sorted(
        v
        for k, v in vars(ev).items()
        if k.isupper() and isinstance(v, str) and "." in v and not v.startswith("webhook.")
    )


def matches(patterns: list[str], event_type: str) -> bool:
    if event_type.startswith("webhook."):
        return False
    return any(p in ("*", event_type) or (p.endswith(".*") and event_type.startswith(p[:-1])) for p in patterns)


@dataclass(frozen=True)
class Subscription:
    id: str
    url: str
    description: str | None
    event_types: list[str]
    secret: str
    active: bool
    created_at: datetime
    created_by: str
    updated_at: datetime
    disabled_reason: str | None

    @classmethod
    def from_row(cls, row: Any) -> Subscription:
        return cls(
            row.id,
            row.url,
            row.description,
            list(row.event_types),
            row.secret,
            bool(row.active),
            row.created_at,
            row.created_by,
            row.updated_at,
            row.disabled_reason,
        )

    def to_dict(self, *, with_secret: bool = False) -> dict[str, Any]:
        return {
            "id": self.id,
            "url": self.url,
            "description": self.description,
            "event_types": self.event_types,
            "active": self.active,
            "created_at": self.created_at.isoformat(),
            "created_by": self.created_by,
            "updated_at": self.updated_at.isoformat(),
            "disabled_reason": self.disabled_reason,
            "secret": self.secret if with_secret else self.secret[:10] + "…",
        }


def check_url(url: str, policy: Policy) -> str:
    """The URL if deliveries may be sent there (:func:`charter.egress.check_url`), else 422."""
    try:
        return check_egress_url(url, policy)
    except Refused as exc:
        raise Invalid(
            detail=f"the webhook URL is refused: {exc}", errors=[ErrorDetail("/url", str(exc), "egress")]
        ) from None


def check_event_types(types: list[str]) -> list[str]:
    if not types:
        raise Invalid(detail="subscribe to at least one event type", errors=[ErrorDetail("/event_types", "empty")])
    known = known_event_types()
    prefixes = {t.split(".")[0] for t in known}
    errors = []
    for i, t in enumerate(types):
        ok = t == "*" or t in known or (t.endswith(".*") and t[:-2] in prefixes)
        if not ok:
            errors.append(
                ErrorDetail(
                    f"/event_types/{i}", f"unknown event type {t!r}; use one of {', '.join(known)}, 'x.*' or '*'"
                )
            )
    if errors:
        raise Invalid(detail=f"{len(errors)} unknown event type(s)", errors=errors)
    return list(dict.fromkeys(types))


def _actor(actor: Actor) -> str:
    return f"{actor.kind}:{actor.name}"


def create_subscription(
    rt: Runtime, actor: Actor, url: str, event_types: list[str], *, description: str | None = None
) -> Subscription:
    """A new active subscription with a fresh secret (returned once in full)."""
    require(actor, Permission.ADMIN)
    url = check_url(url, policy_for(rt.settings))
    types = check_event_types(event_types)
    sub_id = str(uuid.uuid4())
    now = utcnow()
    with rt.write() as (conn, _):
        _ensure_relay_position(conn)
        conn.execute(
            sa.insert(webhook_subscriptions).values(
                id=sub_id,
                url=url,
                description=description,
                event_types=types,
                secret=new_secret(),
                active=True,
                created_at=now,
                created_by=_actor(actor),
                updated_at=now,
            )
        )
        record_audit(conn, actor, "webhook.create", "webhook", sub_id, {"url": url, "event_types": types})
        return get_subscription(conn, sub_id)


def _ensure_relay_position(conn: sa.Connection) -> None:
    """Start relaying from now: events written after the first subscription are delivered even
    if no worker has run yet."""
    if conn.execute(sa.select(webhook_relay.c.id)).first() is None:
        top = conn.execute(sa.select(sa.func.coalesce(sa.func.max(ev.events_table.c.id), 0))).scalar_one()
        start_relay(conn, int(top))


def start_relay(conn: sa.Connection, watermark: int) -> None:
    """Insert the relay position unless another transaction (the worker, a concurrent
    subscription) just did: ON CONFLICT DO NOTHING, so the race is no 500."""
    values = {"id": 1, "watermark": watermark, "updated_at": utcnow()}
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        conn.execute(pg_insert(webhook_relay).values(**values).on_conflict_do_nothing())
    elif conn.dialect.name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        conn.execute(sqlite_insert(webhook_relay).values(**values).on_conflict_do_nothing())
    else:
        conn.execute(sa.insert(webhook_relay).values(**values))


def get_subscription(conn: sa.Connection, sub_id: str) -> Subscription:
    row = conn.execute(sa.select(webhook_subscriptions).where(webhook_subscriptions.c.id == sub_id)).first()
    if row is None:
        raise NotFound(f"no webhook subscription {sub_id!r}")
    return Subscription.from_row(row)


def list_subscriptions(conn: sa.Connection, *, active_only: bool = False) -> list[Subscription]:
    q = sa.select(webhook_subscriptions).order_by(webhook_subscriptions.c.created_at, webhook_subscriptions.c.id)
    if active_only:
        q = q.where(webhook_subscriptions.c.active.is_(True))
    return [Subscription.from_row(r) for r in conn.execute(q)]


def update_subscription(
    rt: Runtime,
    actor: Actor,
    sub_id: str,
    *,
    url: str | None = None,
    event_types: list[str] | None = None,
    description: str | None = None,
    active: bool | None = None,
) -> Subscription:
    require(actor, Permission.ADMIN)
    values: dict[str, Any] = {}
    if url is not None:
        values["url"] = check_url(url, policy_for(rt.settings))
    if event_types is not None:
        values["event_types"] = check_event_types(event_types)
    if description is not None:
        values["description"] = description
    if active is not None:
        values["active"] = active
        values["disabled_reason"] = None if active else f"disabled by {_actor(actor)}"
    with rt.write() as (conn, _):
        old = get_subscription(conn, sub_id)
        if values:
            conn.execute(
                sa.update(webhook_subscriptions)
                .where(webhook_subscriptions.c.id == sub_id)
                .values(updated_at=utcnow(), **values)
            )
            before = {k: getattr(old, k) for k in values}
            record_audit(conn, actor, "webhook.update", "webhook", sub_id, {"before": before, "after": values})
        return get_subscription(conn, sub_id)


def rotate_secret(rt: Runtime, actor: Actor, sub_id: str) -> Subscription:
    """A new signing secret; deliveries from now on are signed with it."""
    require(actor, Permission.ADMIN)
    with rt.write() as (conn, _):
        get_subscription(conn, sub_id)
        conn.execute(
            sa.update(webhook_subscriptions)
            .where(webhook_subscriptions.c.id == sub_id)
            .values(secret=new_secret(), updated_at=utcnow())
        )
        record_audit(conn, actor, "webhook.rotate_secret", "webhook", sub_id, {})
        return get_subscription(conn, sub_id)


def delete_subscription(rt: Runtime, actor: Actor, sub_id: str) -> None:
    """Remove a subscription with its deliveries and their log (the audit log keeps the fact)."""
    require(actor, Permission.ADMIN)
    with rt.write() as (conn, _):
        sub = get_subscription(conn, sub_id)
        ids = sa.select(webhook_deliveries.c.id).where(webhook_deliveries.c.subscription_id == sub_id)
        conn.execute(sa.delete(webhook_attempts).where(webhook_attempts.c.delivery_id.in_(ids)))
        conn.execute(sa.delete(webhook_deliveries).where(webhook_deliveries.c.subscription_id == sub_id))
        conn.execute(sa.delete(webhook_subscriptions).where(webhook_subscriptions.c.id == sub_id))
        record_audit(conn, actor, "webhook.delete", "webhook", sub_id, {"url": sub.url})
