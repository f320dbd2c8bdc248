"""retrieval: chunks (shared truth on PostgreSQL) and publish-to-searchable freshness

Revision ID: retrieval_0001
Revises: 0001_initial
"""

import sqlalchemy as sa
from alembic import op

revision = "retrieval_0001"
down_revision = "0001_initial"
branch_labels = ("retrieval",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "retrieval_chunks",
        sa.Column("index_name", sa.String(length=100), nullable=False),
        sa.Column("locale", sa.String(length=35), nullable=False),
        sa.Column("entry_id", sa.String(length=36), nullable=False),
        sa.Column("chunk", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=100), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("heading", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("embedding", sa.LargeBinary(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("index_name", "locale", "entry_id", "chunk", name=op.f("pk_retrieval_chunks")),
    )
    op.create_index("ix_retrieval_chunks_entry", "retrieval_chunks", ["entry_id"])
    op.create_table(
        "retrieval_freshness",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("index_name", sa.String(length=100), nullable=False),
        sa.Column("entry_id", sa.String(length=36), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=True),
        sa.Column("op", sa.String(length=20), nullable=False),
        sa.Column("event_type", sa.String(length=80), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=True),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("searchable_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lag_ms", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retrieval_freshness")),
    )
    op.create_index("ix_retrieval_freshness_index_at", "retrieval_freshness", ["index_name", "searchable_at"])


def downgrade() -> None:
    op.drop_index("ix_retrieval_freshness_index_at", table_name="retrieval_freshness")
    op.drop_table("retrieval_freshness")
    op.drop_index("ix_retrieval_chunks_entry", table_name="retrieval_chunks")
    op.drop_table("retrieval_chunks")
