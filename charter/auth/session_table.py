"""The sessions table, below both users and sessions: disabling a user ends its sessions
(:mod:`charter.auth.users`) without importing the session logic (:mod:`charter.auth.sessions`)."""

from __future__ import annotations

import sqlalchemy as sa

from charter.db.tables import TS, metadata
from charter.events import utcnow

sessions = sa.Table(
    "sessions",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),  # SHA-256 of the cookie token
    sa.Column("user_id", sa.String(36), sa.ForeignKey("users.id"), nullable=False),
    sa.Column("csrf_token", sa.String(64), nullable=False),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("last_seen_at", TS, nullable=False),
    sa.Column("expires_at", TS, nullable=False),
    sa.Column("ended_at", TS, nullable=True),
    sa.Column("address", sa.String(64), nullable=False, server_default=""),
    sa.Column("user_agent", sa.String(300), nullable=False, server_default=""),
    sa.Index("ix_sessions_user", "user_id"),
)


def end_user_sessions(conn: sa.Connection, user_id: str) -> None:
    """End every session of a user, inside the caller's transaction."""
    conn.execute(
        sa.update(sessions)
        .where(sessions.c.user_id == user_id, sessions.c.ended_at.is_(None))
        .values(ended_at=utcnow())
    )
