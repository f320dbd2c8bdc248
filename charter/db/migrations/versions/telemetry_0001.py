"""telemetry: trace context with outbox events and webhook deliveries, the trace id of a gateway call

Revision ID: telemetry_0001
Revises: 0001_initial
Depends on: webhooks_0001, gateway_0001

``events.traceparent`` and ``webhook_deliveries.traceparent`` hold the W3C traceparent of the
change that caused an event, so a delivery or a re-index joins the trace of the publish;
``gateway_calls.trace_id`` links an audit record to its trace (docs/observability.md). Rows from
before this revision have none.
"""

import sqlalchemy as sa
from alembic import op

revision = "telemetry_0001"
down_revision = "0001_initial"
branch_labels = ("telemetry",)
depends_on = ("webhooks_0001", "gateway_0001")


def upgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.add_column(sa.Column("traceparent", sa.String(length=55), nullable=True))
    with op.batch_alter_table("webhook_deliveries") as batch:
        batch.add_column(sa.Column("traceparent", sa.String(length=55), nullable=True))
    with op.batch_alter_table("gateway_calls") as batch:
        batch.add_column(sa.Column("trace_id", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("gateway_calls") as batch:
        batch.drop_column("trace_id")
    with op.batch_alter_table("webhook_deliveries") as batch:
        batch.drop_column("traceparent")
    with op.batch_alter_table("events") as batch:
        batch.drop_column("traceparent")
