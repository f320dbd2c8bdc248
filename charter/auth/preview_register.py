"""The register of issued preview tokens: who minted which token, for what, until when, and
whether it was revoked.

Every token minted since tokens carry ``"v": 2`` (:mod:`charter.auth.preview`) has a row here,
keyed by its ``jti``. The delivery API honours such a token only while the row exists and is not
revoked (:func:`check_live`, one primary-key read on the shared database per preview request, so
a revocation holds on every app instance at once). The register never holds the token string:
:func:`charter.auth.preview.sign` recreates it from the claims when the key is at hand.

Rows of tokens that expired more than :data:`RETENTION` ago are deleted when a new token is
recorded; the audit log keeps who issued and revoked what for good.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

import sqlalchemy as sa

from charter.auth.preview import PreviewToken
from charter.db.tables import TS, metadata
from charter.events import utcnow
from charter.exceptions import Unauthorized

#: How long the rows of expired tokens stay listable.
RETENTION = timedelta(days=30)
STATUSES = ("active", "revoked", "expired")
Status = Literal["active", "revoked", "expired"]

preview_tokens = sa.Table(
    "preview_tokens",
    metadata,
    sa.Column("jti", sa.String(32), primary_key=True),
    sa.Column("scope", sa.String(10), nullable=False),  # entry | release
    sa.Column("target_id", sa.String(36), nullable=False),
    sa.Column("issued_by", sa.String(200), nullable=False),  # the token's ``sub``: kind:name
    sa.Column("issued_at", TS, nullable=False),
    sa.Column("expires_at", TS, nullable=False),
    sa.Column("revoked_at", TS, nullable=True),
    sa.Column("revoked_by", sa.String(200), nullable=True),
    sa.Index("ix_preview_tokens_target", "scope", "target_id", "issued_at"),
    sa.Index("ix_preview_tokens_expires", "expires_at"),
)


@dataclass(frozen=True)
class PreviewRecord:
    """One issued token, as listed (never the token string itself)."""

    jti: str
    scope: str
    target_id: str
    issued_by: str
    issued_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    revoked_by: str | None

    def status(self, now: datetime | None = None) -> Status:
        if self.revoked_at is not None:
            return "revoked"
        return "expired" if self.expires_at <= (now or utcnow()) else "active"

    def claims(self) -> PreviewToken:
        """The token's claims, for :func:`charter.auth.preview.sign`."""
        return PreviewToken(
            self.scope,
            self.target_id,
            int(self.issued_at.timestamp()),
            int(self.expires_at.timestamp()),
            self.issued_by,
            self.jti,
        )


def _record(row: sa.Row[tuple[object, ...]]) -> PreviewRecord:
    return PreviewRecord(
        row.jti, row.scope, row.target_id, row.issued_by, row.issued_at, row.expires_at, row.revoked_at, row.revoked_by
    )


def _instant(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def record_token(conn: sa.Connection, token: PreviewToken) -> PreviewRecord:
    """Put a newly minted token on record (and drop rows long expired)."""
    conn.execute(sa.delete(preview_tokens).where(preview_tokens.c.expires_at < utcnow() - RETENTION))
    row = PreviewRecord(
        token.jti,
        token.scope,
        token.id,
        token.subject,
        _instant(token.issued_at),
        _instant(token.expires_at),
        None,
        None,
    )
    conn.execute(
        sa.insert(preview_tokens).values(
            jti=row.jti,
            scope=row.scope,
            target_id=row.target_id,
            issued_by=row.issued_by,
            issued_at=row.issued_at,
            expires_at=row.expires_at,
        )
    )
    return row


def get_record(conn: sa.Connection, jti: str) -> PreviewRecord | None:
    row = conn.execute(sa.select(preview_tokens).where(preview_tokens.c.jti == jti)).first()
    return _record(row) if row is not None else None


def list_records(
    conn: sa.Connection,
    *,
    scope: str | None = None,
    target_id: str | None = None,
    status: Status | None = None,
    issued_by: str | None = None,
    limit: int = 100,
) -> list[PreviewRecord]:
    """Issued tokens, newest first; ``status`` None lists every status."""
    now = utcnow()
    q = sa.select(preview_tokens).order_by(preview_tokens.c.issued_at.desc(), preview_tokens.c.jti).limit(limit)
    if scope is not None:
        q = q.where(preview_tokens.c.scope == scope)
    if target_id is not None:
        q = q.where(preview_tokens.c.target_id == target_id)
    if issued_by is not None:
        q = q.where(preview_tokens.c.issued_by == issued_by)
    if status == "revoked":
        q = q.where(preview_tokens.c.revoked_at.is_not(None))
    elif status == "active":
        q = q.where(preview_tokens.c.revoked_at.is_(None), preview_tokens.c.expires_at > now)
    elif status == "expired":
        q = q.where(preview_tokens.c.revoked_at.is_(None), preview_tokens.c.expires_at <= now)
    return [_record(r) for r in conn.execute(q)]


def mark_revoked(conn: sa.Connection, jti: str, by: str) -> PreviewRecord | None:
    """Revoke a token on record that is not revoked yet; its record, or None when there was
    none to revoke (unknown, or revoked already)."""
    row = conn.execute(
        sa.update(preview_tokens)
        .where(preview_tokens.c.jti == jti, preview_tokens.c.revoked_at.is_(None))
        .values(revoked_at=utcnow(), revoked_by=by)
        .returning(*preview_tokens.c)
    ).first()
    return _record(row) if row is not None else None


# Built once with a bound parameter: the compiled SQL comes from SQLAlchemy's cache on every request.
_ON_RECORD = sa.select(
    preview_tokens.c.scope, preview_tokens.c.target_id, preview_tokens.c.expires_at, preview_tokens.c.revoked_at
).where(preview_tokens.c.jti == sa.bindparam("jti"))


def check_live(conn: sa.Connection, token: PreviewToken, *, now: datetime | None = None) -> None:
    """Unauthorized unless ``token`` (already verified) may be honoured now: it must be on record,
    not revoked, and carry exactly the scope, target and expiry the register recorded when it was
    issued, an expiry that has not passed. A signature alone is not enough: whoever knows the key
    (the development key is public) could re-sign a token with a later expiry or another draft's
    id; the register says what was really issued. Tokens without the ``v`` claim (from before the
    register) have no record and are refused."""
    if not token.recorded:
        raise Unauthorized(
            'preview tokens from before the register (no "v" claim) are no longer honoured; ask for a new one'
        )
    row = conn.execute(_ON_RECORD, {"jti": token.jti}).first()
    if row is None:
        raise Unauthorized(f"preview token {token.jti} is not on record (issued elsewhere?); ask for a new one")
    if row.revoked_at is not None:
        when = row.revoked_at.isoformat(timespec="seconds")
        raise Unauthorized(f"preview token {token.jti} was revoked at {when}; ask for a new one")
    expires_at: datetime = row.expires_at  # aware UTC (charter.db.tables.TS)
    if row.scope != token.scope or row.target_id != token.id or int(expires_at.timestamp()) != token.expires_at:
        raise Unauthorized(
            f"preview token {token.jti} does not match its record (scope, target or expiry changed); ask for a new one"
        )
    if expires_at <= (now or utcnow()):
        raise Unauthorized(f"preview token {token.jti} expired at {expires_at.isoformat(timespec='seconds')}")
