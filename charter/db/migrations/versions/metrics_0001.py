"""metrics: unique keys for recorded deployments and incidents

Revision ID: metrics_0001
Revises: 0001_initial
"""

import sqlalchemy as sa
from alembic import op

revision = "metrics_0001"
down_revision = "0001_initial"
branch_labels = ("metrics",)
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "metric_deployments",
        sa.Column("deploy_id", sa.String(length=200), nullable=False),
        sa.Column("service", sa.String(length=200), nullable=False),
        sa.Column("environment", sa.String(length=100), nullable=False),
        sa.Column("deployed_at", TS, nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("deploy_id", name=op.f("pk_metric_deployments")),
    )
    with op.batch_alter_table("metric_deployments", schema=None) as batch_op:
        batch_op.create_index("ix_metric_deployments_service", ["service", "environment", "deployed_at"], unique=False)
    op.create_table(
        "metric_incidents",
        sa.Column("incident_id", sa.String(length=200), nullable=False),
        sa.Column("service", sa.String(length=200), nullable=False),
        sa.Column("environment", sa.String(length=100), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("updates", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("incident_id", name=op.f("pk_metric_incidents")),
    )


def downgrade() -> None:
    op.drop_table("metric_incidents")
    with op.batch_alter_table("metric_deployments", schema=None) as batch_op:
        batch_op.drop_index("ix_metric_deployments_service")
    op.drop_table("metric_deployments")
