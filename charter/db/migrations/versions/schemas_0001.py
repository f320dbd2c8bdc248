"""schemas: content migration runs and their per-entry revisions

Revision ID: schemas_0001
Revises: 0001_initial
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "schemas_0001"
down_revision = "0001_initial"
branch_labels = ("schemas",)
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "schema_migrations",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("from_schema_id", sa.String(length=120), nullable=False),
        sa.Column("to_schema_id", sa.String(length=120), nullable=False),
        sa.Column("to_version", sa.String(length=40), nullable=False),
        sa.Column("file", sa.String(length=500), nullable=False),
        sa.Column("operations", JSON, nullable=False),
        sa.Column("sunset", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("entry_count", sa.Integer(), nullable=False),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("applied_by", sa.String(length=200), nullable=False),
        sa.Column("rolled_back_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rolled_back_by", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schema_migrations")),
    )
    op.create_index("ix_schema_migrations_from", "schema_migrations", ["from_schema_id", "status"])
    op.create_table(
        "schema_migration_entries",
        sa.Column("migration_id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.String(length=36), nullable=False),
        sa.Column("before_current", sa.Integer(), nullable=False),
        sa.Column("before_published", sa.Integer(), nullable=True),
        sa.Column("after_current", sa.Integer(), nullable=False),
        sa.Column("after_published", sa.Integer(), nullable=True),
        sa.Column("old_slug", sa.String(length=300), nullable=True),
        sa.ForeignKeyConstraint(
            ["migration_id"],
            ["schema_migrations.id"],
            name=op.f("fk_schema_migration_entries_migration_id_schema_migrations"),
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["entries.id"], name=op.f("fk_schema_migration_entries_entry_id_entries")
        ),
        sa.PrimaryKeyConstraint("migration_id", "entry_id", name=op.f("pk_schema_migration_entries")),
    )
    op.create_index("ix_schema_migration_entries_slug", "schema_migration_entries", ["migration_id", "old_slug"])


def downgrade() -> None:
    op.drop_index("ix_schema_migration_entries_slug", table_name="schema_migration_entries")
    op.drop_table("schema_migration_entries")
    op.drop_index("ix_schema_migrations_from", table_name="schema_migrations")
    op.drop_table("schema_migrations")
