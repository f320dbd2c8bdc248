"""The webhook tables (on the shared ``metadata``); created by migration ``webhooks_0001``."""

from __future__ import annotations

import sqlalchemy as sa

from charter.db.tables import JSON, TS, metadata

#: An endpoint and the event types it receives (``["*"]`` or patterns such as ``entry.*``).
webhook_subscriptions = sa.Table(
    "webhook_subscriptions",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("url", sa.String(2000), nullable=False),
    sa.Column("description", sa.String(500), nullable=True),
    sa.Column("event_types", JSON, nullable=False),
    # The Standard Webhooks signing secret (whsec_<base64>); Charter must keep it to sign.
    sa.Column("secret", sa.String(200), nullable=False),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("created_by", sa.String(200), nullable=False),
    sa.Column("updated_at", TS, nullable=False),
    sa.Column("disabled_reason", sa.Text, nullable=True),
)

#: One message to one endpoint. ``id`` is the ``webhook-id`` header (stable across retries and
#: replays, so receivers can deduplicate); ``body`` is fixed when the delivery is created.
webhook_deliveries = sa.Table(
    "webhook_deliveries",
    metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("subscription_id", sa.String(36), sa.ForeignKey("webhook_subscriptions.id"), nullable=False),
    sa.Column("event_id", sa.Integer, nullable=False),
    sa.Column("event_type", sa.String(80), nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("status", sa.String(20), nullable=False),  # pending | delivering | succeeded | dead
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", TS, nullable=False),
    sa.Column("lease_until", TS, nullable=True),
    sa.Column("last_status_code", sa.Integer, nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("delivered_at", TS, nullable=True),
    sa.Column("replays", sa.Integer, nullable=False, server_default="0"),
    #: W3C traceparent of the event's cause (migration telemetry_0001): the delivery joins that trace.
    sa.Column("traceparent", sa.String(55), nullable=True),
    sa.Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
    sa.Index("ix_webhook_deliveries_subscription", "subscription_id", "created_at"),
    sa.UniqueConstraint("subscription_id", "event_id", name="uq_webhook_deliveries_subscription_event"),
)

#: The delivery log: one row per HTTP attempt.
webhook_attempts = sa.Table(
    "webhook_attempts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("delivery_id", sa.String(40), sa.ForeignKey("webhook_deliveries.id"), nullable=False),
    sa.Column("attempt", sa.Integer, nullable=False),
    sa.Column("at", TS, nullable=False),
    sa.Column("status_code", sa.Integer, nullable=True),
    sa.Column("duration_ms", sa.Float, nullable=False),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("response_body", sa.Text, nullable=True),
    sa.Column("worker", sa.String(200), nullable=False),
    sa.Index("ix_webhook_attempts_delivery", "delivery_id", "attempt"),
)

#: The outbox relay's position in the ``events`` table. Every event with an id at or below
#: ``watermark`` has been relayed; ids above it that were relayed are in ``webhook_relayed``
#: (PostgreSQL may commit event ids out of order, so a plain cursor could skip one).
webhook_relay = sa.Table(
    "webhook_relay",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),  # always 1
    sa.Column("watermark", sa.Integer, nullable=False),
    sa.Column("updated_at", TS, nullable=False),
)

webhook_relayed = sa.Table(
    "webhook_relayed",
    metadata,
    sa.Column("event_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("relayed_at", TS, nullable=False),
)
