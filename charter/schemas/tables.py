"""Schema-evolution tables, on the shared ``metadata`` (migration: ``schemas_0001``).

``schema_migrations`` records every content migration run (applied or rolled back);
``schema_migration_entries`` records, per entry, the revisions before and after, so a run can be
rolled back and consumers pinning the old major keep receiving what was published under it.
"""

from __future__ import annotations

import sqlalchemy as sa

from charter.db.tables import JSON, TS, metadata

schema_migrations = sa.Table(
    "schema_migrations",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("content_type", sa.String(100), nullable=False),
    sa.Column("from_schema_id", sa.String(120), nullable=False),
    sa.Column("to_schema_id", sa.String(120), nullable=False),
    sa.Column("to_version", sa.String(40), nullable=False),
    sa.Column("file", sa.String(500), nullable=False),
    sa.Column("operations", JSON, nullable=False),
    sa.Column("sunset", TS, nullable=True),
    sa.Column("status", sa.String(20), nullable=False),  # applied | rolled_back
    sa.Column("entry_count", sa.Integer, nullable=False),
    sa.Column("applied_at", TS, nullable=False),
    sa.Column("applied_by", sa.String(200), nullable=False),
    sa.Column("rolled_back_at", TS, nullable=True),
    sa.Column("rolled_back_by", sa.String(200), nullable=True),
    sa.Index("ix_schema_migrations_from", "from_schema_id", "status"),
)

schema_migration_entries = sa.Table(
    "schema_migration_entries",
    metadata,
    sa.Column("migration_id", sa.Integer, sa.ForeignKey("schema_migrations.id"), primary_key=True),
    sa.Column("entry_id", sa.String(36), sa.ForeignKey("entries.id"), primary_key=True),
    sa.Column("before_current", sa.Integer, nullable=False),
    sa.Column("before_published", sa.Integer, nullable=True),
    sa.Column("after_current", sa.Integer, nullable=False),
    sa.Column("after_published", sa.Integer, nullable=True),
    #: The slug the entry had under the old major (pinned consumers address pages by it).
    sa.Column("old_slug", sa.String(300), nullable=True),
    sa.Index("ix_schema_migration_entries_slug", "migration_id", "old_slug"),
)
