"""The gateway's tables (on the shared ``metadata``); created by migrations ``gateway_0001`` to ``gateway_0003``."""

from __future__ import annotations

import sqlalchemy as sa

from charter.db.tables import JSON, TS, metadata

#: One row per gateway call: the audit record. Text columns hold redacted content only.
gateway_calls = sa.Table(
    "gateway_calls",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("at", TS, nullable=False),
    sa.Column("endpoint", sa.String(40), nullable=False),  # chat | stream | prompt | sdk
    sa.Column("key_name", sa.String(200), nullable=False),
    sa.Column("user_hash", sa.String(64), nullable=True),
    sa.Column("prompt", sa.String(200), nullable=True),
    sa.Column("prompt_version", sa.String(40), nullable=True),
    sa.Column("route", sa.String(200), nullable=False),
    sa.Column("model", sa.String(200), nullable=True),
    sa.Column("model_version", sa.String(80), nullable=True),
    sa.Column("provider", sa.String(100), nullable=True),
    sa.Column("fallback_chain", JSON, nullable=False),
    sa.Column("retrieval_sources", JSON, nullable=False),
    sa.Column("tool_calls", JSON, nullable=False),  # [{id, name, arguments}] (arguments bounded, redacted)
    sa.Column("tools", JSON, nullable=True),  # offered: [{name, version, risk}]; version None = unregistered
    sa.Column("tool_results", JSON, nullable=True),  # [{tool_call_id, name, content}] sent back, bounded
    sa.Column("risk", sa.String(10), nullable=True),  # low | medium | high: the hint or the riskiest tool
    sa.Column("validation", JSON, nullable=True),
    sa.Column("status", sa.String(20), nullable=False),  # ok | error
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("latency_ms", sa.Float, nullable=False),
    sa.Column("prompt_tokens", sa.Integer, nullable=False),
    sa.Column("completion_tokens", sa.Integer, nullable=False),
    sa.Column("cost", sa.Float, nullable=False),
    sa.Column("request", JSON, nullable=True),
    sa.Column("response", sa.Text, nullable=True),
    #: The call's trace (32 hex digits; migration telemetry_0001), to find it in a tracing backend.
    sa.Column("trace_id", sa.String(32), nullable=True),
    sa.Index("ix_gateway_calls_at", "at"),
    sa.Index("ix_gateway_calls_key_at", "key_name", "at"),
    sa.Index("ix_gateway_calls_route_at", "route", "at"),
)

#: A prompt version becomes immutable when first released (promoted); its fingerprint is kept here.
prompt_releases = sa.Table(
    "prompt_releases",
    metadata,
    sa.Column("name", sa.String(200), primary_key=True),
    sa.Column("version", sa.String(40), primary_key=True),
    sa.Column("fingerprint", sa.String(64), nullable=False),
    sa.Column("released_at", TS, nullable=False),
    sa.Column("released_by", sa.String(200), nullable=False),
)

#: Where each label points now.
prompt_labels = sa.Table(
    "prompt_labels",
    metadata,
    sa.Column("name", sa.String(200), primary_key=True),
    sa.Column("label", sa.String(60), primary_key=True),
    sa.Column("version", sa.String(40), nullable=False),
    sa.Column("updated_at", TS, nullable=False),
    sa.Column("updated_by", sa.String(200), nullable=False),
)

#: Every label move (promote or rollback): who, why, and the eval report that allowed it.
prompt_label_moves = sa.Table(
    "prompt_label_moves",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("label", sa.String(60), nullable=False),
    sa.Column("action", sa.String(20), nullable=False),  # promote | rollback
    sa.Column("from_version", sa.String(40), nullable=True),
    sa.Column("to_version", sa.String(40), nullable=False),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("report_sha256", sa.String(64), nullable=True),
    sa.Column("report_summary", JSON, nullable=True),
    sa.Column("at", TS, nullable=False),
    sa.Index("ix_prompt_label_moves_name_label", "name", "label", "id"),
)

#: Drafts the gateway saved as CMS entries, with their risk level and review state.
gateway_drafts = sa.Table(
    "gateway_drafts",
    metadata,
    sa.Column("entry_id", sa.String(36), primary_key=True),
    sa.Column("call_id", sa.String(36), nullable=False),
    sa.Column("prompt", sa.String(200), nullable=False),
    sa.Column("prompt_version", sa.String(40), nullable=False),
    sa.Column("type", sa.String(100), nullable=False),
    sa.Column("risk", sa.String(10), nullable=False),  # low | medium | high
    sa.Column("reasons", JSON, nullable=False),
    sa.Column("status", sa.String(20), nullable=False),  # needs_review | draft | published
    sa.Column("created_at", TS, nullable=False),
)

#: Every eval report checked against a version's thresholds (at promotion), passed or not.
prompt_evals = sa.Table(
    "prompt_evals",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("version", sa.String(40), nullable=False),
    sa.Column("label", sa.String(60), nullable=True),  # the label the promotion aimed at
    sa.Column("report_sha256", sa.String(64), nullable=False),
    sa.Column("summary", JSON, nullable=False),  # metric -> number, as read from the report
    sa.Column("passed", sa.Boolean, nullable=False),
    sa.Column("errors", JSON, nullable=False),  # [{pointer, message, keyword}] when it did not pass
    sa.Column("checked_by", sa.String(200), nullable=False),
    sa.Column("checked_at", TS, nullable=False),
    sa.Index("ix_prompt_evals_name_version", "name", "version", "id"),
)
