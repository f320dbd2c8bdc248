"""The metrics domain's tables (on the shared ``metadata``); created by migration ``metrics_0001``.

The event log stays the source every metric is computed from. These two tables only give deploy
and incident ids a unique key, so a retried ``POST /v1/events/deploy`` is idempotent and two
concurrent recorders of the same id cannot both succeed.
"""

from __future__ import annotations

import sqlalchemy as sa

from charter.db.tables import TS, metadata

#: One row per recorded deployment: its id, where it went, and the event that describes it.
metric_deployments = sa.Table(
    "metric_deployments",
    metadata,
    sa.Column("deploy_id", sa.String(200), primary_key=True),
    sa.Column("service", sa.String(200), nullable=False),
    sa.Column("environment", sa.String(100), nullable=False),
    sa.Column("deployed_at", TS, nullable=False),
    sa.Column("fingerprint", sa.String(64), nullable=False),
    sa.Column("event_id", sa.Integer, nullable=False),
    sa.Index("ix_metric_deployments_service", "service", "environment", "deployed_at"),
)

#: One row per incident id; ``event_id`` is the latest ``incident.recorded`` event for it.
metric_incidents = sa.Table(
    "metric_incidents",
    metadata,
    sa.Column("incident_id", sa.String(200), primary_key=True),
    sa.Column("service", sa.String(200), nullable=False),
    sa.Column("environment", sa.String(100), nullable=False),
    sa.Column("event_id", sa.Integer, nullable=False),
    sa.Column("updates", sa.Integer, nullable=False),
)
