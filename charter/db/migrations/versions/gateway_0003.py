"""gateway: the audit record keeps the offered tools, the tool results and the risk level

Revision ID: gateway_0003
Revises: gateway_0002
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "gateway_0003"
down_revision = "gateway_0002"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("gateway_calls", schema=None) as batch_op:
        batch_op.add_column(sa.Column("tools", JSON, nullable=True))
        batch_op.add_column(sa.Column("tool_results", JSON, nullable=True))
        batch_op.add_column(sa.Column("risk", sa.String(length=10), nullable=True))
        batch_op.create_index("ix_gateway_calls_route_at", ["route", "at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("gateway_calls", schema=None) as batch_op:
        batch_op.drop_index("ix_gateway_calls_route_at")
        batch_op.drop_column("risk")
        batch_op.drop_column("tool_results")
        batch_op.drop_column("tools")
