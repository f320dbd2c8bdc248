"""Admin sessions: server-side records behind an opaque cookie.

The cookie holds a 256-bit random token; the database holds only its SHA-256 digest, so a leaked
database row cannot be replayed as a cookie. Each session carries its own CSRF token (the
synchroniser-token pattern, OWASP CSRF cheat sheet) and ends on sign-out, after ``idle`` without a
request, after ``absolute`` in total, when the user is disabled or when their password changes.
A new session (and token) is issued at every sign-in, so a token planted before sign-in is useless.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

import sqlalchemy as sa

from charter.auth.session_table import sessions
from charter.auth.users import User, users
from charter.events import utcnow
from charter.runtime import Runtime

#: Sliding expiry is written at most this often, so reads do not become writes on every request.
TOUCH_EVERY = timedelta(seconds=60)


@dataclass(frozen=True)
class SessionPolicy:
    idle: timedelta = timedelta(hours=2)
    absolute: timedelta = timedelta(hours=12)

    @classmethod
    def from_settings(cls, options: dict[str, Any]) -> SessionPolicy:
        return cls(
            idle=timedelta(minutes=float(options.get("session_idle_minutes", 120))),
            absolute=timedelta(hours=float(options.get("session_max_hours", 12))),
        )


@dataclass(frozen=True)
class Session:
    id: str
    user: User
    csrf_token: str
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime


@dataclass(frozen=True)
class Lookup:
    """The outcome of reading a cookie: ``ok`` with a session, or why there is none."""

    status: Literal["ok", "expired", "unknown"]
    session: Session | None = None


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(rt: Runtime, user: User, *, address: str = "", user_agent: str = "", policy: SessionPolicy) -> str:
    """Open a session for ``user``; returns the cookie token (shown only to the browser)."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    with rt.write() as (conn, _):
        conn.execute(
            sa.insert(sessions).values(
                id=_digest(token),
                user_id=user.id,
                csrf_token=secrets.token_urlsafe(32),
                created_at=now,
                last_seen_at=now,
                expires_at=now + policy.absolute,
                ended_at=None,
                address=address[:64],
                user_agent=user_agent[:300],
            )
        )
        # Old, ended and expired rows are pruned here rather than by a separate job.
        conn.execute(
            sa.delete(sessions).where(
                sa.or_(sessions.c.expires_at < now - timedelta(days=7), sessions.c.ended_at < now - timedelta(days=7))
            )
        )
    return token


def load_session(rt: Runtime, token: str | None, policy: SessionPolicy) -> Lookup:
    """The live session for a cookie token. ``expired`` when it was real but is over (timed out,
    signed out, user disabled); ``unknown`` when there is no such session."""
    if not token or len(token) > 200:
        return Lookup("unknown")
    digest = _digest(token)
    now = utcnow()
    with rt.read() as conn:
        srow = conn.execute(sa.select(sessions).where(sessions.c.id == digest)).first()
        urow = conn.execute(sa.select(users).where(users.c.id == srow.user_id)).first() if srow else None
    if srow is None or urow is None:
        return Lookup("unknown")
    last_seen: datetime = srow.last_seen_at
    over = srow.ended_at is not None or srow.expires_at <= now or last_seen + policy.idle <= now
    if over or urow.disabled_at is not None:
        return Lookup("expired")
    if now - last_seen >= TOUCH_EVERY:
        with rt.write() as (conn, _):
            conn.execute(sa.update(sessions).where(sessions.c.id == digest).values(last_seen_at=now))
        last_seen = now
    expires = min(srow.expires_at, last_seen + policy.idle)
    return Lookup("ok", Session(digest, User.from_row(urow), srow.csrf_token, srow.created_at, last_seen, expires))


def end_session(rt: Runtime, token: str | None) -> None:
    """Sign out: the session stops working at once (idempotent)."""
    if not token:
        return
    with rt.write() as (conn, _):
        conn.execute(
            sa.update(sessions)
            .where(sessions.c.id == _digest(token), sessions.c.ended_at.is_(None))
            .values(ended_at=utcnow())
        )
