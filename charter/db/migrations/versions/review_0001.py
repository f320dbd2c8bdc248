"""review: the human review queue and how far it has read the audit record

Revision ID: review_0001
Revises: 0001_initial
Depends on: gateway_0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "review_0001"
down_revision = "0001_initial"
branch_labels = ("review",)
depends_on = ("gateway_0001",)

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "review_items",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("call_id", sa.String(length=36), nullable=True),
        sa.Column("request_id", sa.String(length=200), nullable=False),
        sa.Column("endpoint", sa.String(length=40), nullable=True),
        sa.Column("reasons", JSON, nullable=False),
        sa.Column("intent", sa.String(length=100), nullable=True),
        sa.Column("prompt", sa.String(length=200), nullable=True),
        sa.Column("prompt_version", sa.String(length=80), nullable=True),
        sa.Column("route", sa.String(length=200), nullable=True),
        sa.Column("model", sa.String(length=200), nullable=True),
        sa.Column("key_name", sa.String(length=200), nullable=True),
        sa.Column("risk", sa.String(length=10), nullable=True),
        sa.Column("locale", sa.String(length=35), nullable=True),
        sa.Column("question", sa.Text(), nullable=True),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("refused", sa.Boolean(), nullable=False),
        sa.Column("refusal_reason", sa.String(length=100), nullable=True),
        sa.Column("citations", JSON, nullable=False),
        sa.Column("chunks", JSON, nullable=False),
        sa.Column("tool_calls", JSON, nullable=False),
        sa.Column("indexes", JSON, nullable=False),
        sa.Column("evidence", sa.Float(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("claimed_by", sa.String(length=200), nullable=True),
        sa.Column("claimed_until", TS, nullable=True),
        sa.Column("label", sa.String(length=40), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("facts", JSON, nullable=True),
        sa.Column("reviewed_by", sa.String(length=200), nullable=True),
        sa.Column("reviewed_at", TS, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_items")),
        sa.UniqueConstraint("call_id", name=op.f("uq_review_items_call_id")),
    )
    op.create_index("ix_review_items_status_created", "review_items", ["status", "created_at"], unique=False)
    op.create_table(
        "review_cursor",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_review_cursor")),
    )


def downgrade() -> None:
    op.drop_table("review_cursor")
    op.drop_index("ix_review_items_status_created", table_name="review_items")
    op.drop_table("review_items")
