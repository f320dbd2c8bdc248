"""The review queue's tables (on the shared ``metadata``); created by migration ``review_0001``."""

from __future__ import annotations

import sqlalchemy as sa

from charter.db.tables import JSON, TS, metadata

#: One row per item put in front of a person: what was asked and answered (from the audit
#: record), why it was picked, who holds it, and its label once reviewed. ``version`` grows on
#: every change, so a claim or a label is a compare-and-set: two reviewers never overwrite.
review_items = sa.Table(
    "review_items",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("source", sa.String(20), nullable=False),  # gateway | ask
    sa.Column("call_id", sa.String(36), nullable=True, unique=True),  # the audit record (gateway_calls.id)
    sa.Column("request_id", sa.String(200), nullable=False),
    sa.Column("endpoint", sa.String(40), nullable=True),
    sa.Column("reasons", JSON, nullable=False),
    sa.Column("intent", sa.String(100), nullable=True),
    sa.Column("prompt", sa.String(200), nullable=True),
    sa.Column("prompt_version", sa.String(80), nullable=True),
    sa.Column("route", sa.String(200), nullable=True),
    sa.Column("model", sa.String(200), nullable=True),
    sa.Column("key_name", sa.String(200), nullable=True),
    sa.Column("risk", sa.String(10), nullable=True),
    sa.Column("locale", sa.String(35), nullable=True),
    sa.Column("question", sa.Text, nullable=True),
    sa.Column("answer", sa.Text, nullable=True),
    sa.Column("refused", sa.Boolean, nullable=False),
    sa.Column("refusal_reason", sa.String(100), nullable=True),
    sa.Column("citations", JSON, nullable=False),
    sa.Column("chunks", JSON, nullable=False),
    sa.Column("tool_calls", JSON, nullable=False),
    sa.Column("indexes", JSON, nullable=False),
    sa.Column("evidence", sa.Float, nullable=True),
    sa.Column("status", sa.String(20), nullable=False),  # pending | reviewed
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("claimed_by", sa.String(200), nullable=True),
    sa.Column("claimed_until", TS, nullable=True),
    sa.Column("label", sa.String(40), nullable=True),
    sa.Column("comment", sa.Text, nullable=True),
    sa.Column("facts", JSON, nullable=True),
    sa.Column("reviewed_by", sa.String(200), nullable=True),
    sa.Column("reviewed_at", TS, nullable=True),
    sa.Index("ix_review_items_status_created", "status", "created_at"),
)

#: How far the queue has read the audit record (one row, ``name = "gateway"``).
review_cursor = sa.Table(
    "review_cursor",
    metadata,
    sa.Column("name", sa.String(40), primary_key=True),
    sa.Column("at", TS, nullable=False),
)
