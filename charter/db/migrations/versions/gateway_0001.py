"""gateway: audit records, prompt releases, labels and label moves, AI drafts

Revision ID: gateway_0001
Revises: 0001_initial
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "gateway_0001"
down_revision = "0001_initial"
branch_labels = ("gateway",)
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "gateway_calls",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("endpoint", sa.String(length=40), nullable=False),
        sa.Column("key_name", sa.String(length=200), nullable=False),
        sa.Column("user_hash", sa.String(length=64), nullable=True),
        sa.Column("prompt", sa.String(length=200), nullable=True),
        sa.Column("prompt_version", sa.String(length=40), nullable=True),
        sa.Column("route", sa.String(length=200), nullable=False),
        sa.Column("model", sa.String(length=200), nullable=True),
        sa.Column("model_version", sa.String(length=80), nullable=True),
        sa.Column("provider", sa.String(length=100), nullable=True),
        sa.Column("fallback_chain", JSON, nullable=False),
        sa.Column("retrieval_sources", JSON, nullable=False),
        sa.Column("tool_calls", JSON, nullable=False),
        sa.Column("validation", JSON, nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("latency_ms", sa.Float(), nullable=False),
        sa.Column("prompt_tokens", sa.Integer(), nullable=False),
        sa.Column("completion_tokens", sa.Integer(), nullable=False),
        sa.Column("cost", sa.Float(), nullable=False),
        sa.Column("request", JSON, nullable=True),
        sa.Column("response", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gateway_calls")),
    )
    with op.batch_alter_table("gateway_calls", schema=None) as batch_op:
        batch_op.create_index("ix_gateway_calls_at", ["at"], unique=False)
        batch_op.create_index("ix_gateway_calls_key_at", ["key_name", "at"], unique=False)

    op.create_table(
        "prompt_releases",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("version", sa.String(length=40), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("released_at", TS, nullable=False),
        sa.Column("released_by", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("name", "version", name=op.f("pk_prompt_releases")),
    )
    op.create_table(
        "prompt_labels",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("label", sa.String(length=60), nullable=False),
        sa.Column("version", sa.String(length=40), nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("updated_by", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("name", "label", name=op.f("pk_prompt_labels")),
    )
    op.create_table(
        "prompt_label_moves",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("label", sa.String(length=60), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("from_version", sa.String(length=40), nullable=True),
        sa.Column("to_version", sa.String(length=40), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("report_sha256", sa.String(length=64), nullable=True),
        sa.Column("report_summary", JSON, nullable=True),
        sa.Column("at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prompt_label_moves")),
    )
    with op.batch_alter_table("prompt_label_moves", schema=None) as batch_op:
        batch_op.create_index("ix_prompt_label_moves_name_label", ["name", "label", "id"], unique=False)

    op.create_table(
        "gateway_drafts",
        sa.Column("entry_id", sa.String(length=36), nullable=False),
        sa.Column("call_id", sa.String(length=36), nullable=False),
        sa.Column("prompt", sa.String(length=200), nullable=False),
        sa.Column("prompt_version", sa.String(length=40), nullable=False),
        sa.Column("type", sa.String(length=100), nullable=False),
        sa.Column("risk", sa.String(length=10), nullable=False),
        sa.Column("reasons", JSON, nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("entry_id", name=op.f("pk_gateway_drafts")),
    )


def downgrade() -> None:
    op.drop_table("gateway_drafts")
    with op.batch_alter_table("prompt_label_moves", schema=None) as batch_op:
        batch_op.drop_index("ix_prompt_label_moves_name_label")
    op.drop_table("prompt_label_moves")
    op.drop_table("prompt_labels")
    op.drop_table("prompt_releases")
    with op.batch_alter_table("gateway_calls", schema=None) as batch_op:
        batch_op.drop_index("ix_gateway_calls_key_at")
        batch_op.drop_index("ix_gateway_calls_at")
    op.drop_table("gateway_calls")
