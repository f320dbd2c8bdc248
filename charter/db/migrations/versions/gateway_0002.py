"""gateway: eval reports checked against a prompt version's thresholds

Revision ID: gateway_0002
Revises: gateway_0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "gateway_0002"
down_revision = "gateway_0001"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "prompt_evals",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("version", sa.String(length=40), nullable=False),
        sa.Column("label", sa.String(length=60), nullable=True),
        sa.Column("report_sha256", sa.String(length=64), nullable=False),
        sa.Column("summary", JSON, nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("errors", JSON, nullable=False),
        sa.Column("checked_by", sa.String(length=200), nullable=False),
        sa.Column("checked_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prompt_evals")),
    )
    with op.batch_alter_table("prompt_evals", schema=None) as batch_op:
        batch_op.create_index("ix_prompt_evals_name_version", ["name", "version", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("prompt_evals", schema=None) as batch_op:
        batch_op.drop_index("ix_prompt_evals_name_version")
    op.drop_table("prompt_evals")
