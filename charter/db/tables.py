"""SQLAlchemy Core tables. The Alembic migrations under ``migrations/`` create exactly these
(``tests/db/test_migrations.py`` compares them)."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


def load_all() -> sa.MetaData:
    """``metadata`` with every domain's tables: each domain's plugin registers the modules that
    define tables on it (``register_tables``), so importing them completes it (migrations, tests)."""
    from charter.plugins import collect, make_plugin_manager

    collect(make_plugin_manager(), "register_tables")
    return metadata


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """A timestamp that is always timezone-aware UTC in Python. SQLite stores no offset, so values
    read back naive are UTC by construction (everything written goes through here)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; pass an aware datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


TS = UTCDateTime()
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

#: Released content-type versions: the schema registry.
content_types = sa.Table(
    "content_types",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("schema_id", sa.String(120), nullable=False),  # e.g. page.v1
    sa.Column("version", sa.String(40), nullable=False),  # semver
    sa.Column("schema", JSON, nullable=False),
    sa.Column("fingerprint", sa.String(64), nullable=False),
    sa.Column("released_at", TS, nullable=False),
    sa.Column("released_by", sa.String(200), nullable=False, server_default="system"),
    sa.UniqueConstraint("schema_id", "version", name="uq_content_types_schema_version"),
)

#: An entry: identity, type, slug and pointers. Its content lives only in ``revisions``.
entries = sa.Table(
    "entries",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("type", sa.String(100), nullable=False),
    sa.Column("slug", sa.String(300), nullable=True),
    sa.Column("current_revision", sa.Integer, nullable=False),
    sa.Column("published_revision", sa.Integer, nullable=True),
    sa.Column("published_at", TS, nullable=True),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("updated_at", TS, nullable=False),
    sa.Column("deleted_at", TS, nullable=True),
    sa.Column("created_by", sa.String(200), nullable=False),
    # A slug addresses one live entry per type; deleted entries free their slug.
    sa.Index(
        "uq_entries_type_slug_live",
        "type",
        "slug",
        unique=True,
        sqlite_where=sa.text("deleted_at IS NULL"),
        postgresql_where=sa.text("deleted_at IS NULL"),
    ),
    sa.Index("ix_entries_type_published", "type", "published_revision", "id"),
)

#: Append-only history: every write is a new row; rows are never updated or deleted.
revisions = sa.Table(
    "revisions",
    metadata,
    sa.Column("entry_id", sa.String(36), sa.ForeignKey("entries.id"), primary_key=True),
    sa.Column("number", sa.Integer, primary_key=True),
    sa.Column("data", JSON, nullable=False),  # {locale: {field: value}}
    sa.Column("schema_id", sa.String(120), nullable=False),
    sa.Column("schema_version", sa.String(40), nullable=False),
    sa.Column("author", sa.String(200), nullable=False),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("message", sa.Text, nullable=True),
    sa.Column("action", sa.String(40), nullable=False),  # create | update | delete | rollback | migrate
)

api_tokens = sa.Table(
    "api_tokens",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("role", sa.String(20), nullable=False),
    sa.Column("prefix", sa.String(16), nullable=False),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("created_by", sa.String(200), nullable=False),
    sa.Column("last_used_at", TS, nullable=True),
    sa.Column("revoked_at", TS, nullable=True),
)

#: The transactional outbox and the event log metrics are computed from.
events = sa.Table(
    "events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("type", sa.String(80), nullable=False),
    sa.Column("domain", sa.String(100), nullable=False, server_default=""),
    sa.Column("payload", JSON, nullable=False),
    sa.Column("occurred_at", TS, nullable=False),
    #: W3C traceparent of the change (migration telemetry_0001).
    sa.Column("traceparent", sa.String(55), nullable=True),
    sa.Index("ix_events_type_occurred", "type", "occurred_at"),
)

#: Who did what, when, with the diff.
audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("action", sa.String(80), nullable=False),
    sa.Column("subject_type", sa.String(80), nullable=False),
    sa.Column("subject_id", sa.String(200), nullable=False),
    sa.Column("detail", JSON, nullable=False),
    sa.Column("at", TS, nullable=False),
    sa.Index("ix_audit_subject", "subject_type", "subject_id"),
)
