"""API tokens: random secrets shown once, stored only as SHA-256 hashes.

A token looks like ``chr_<8-char prefix>_<secret>``. The prefix is stored in clear so a token can
be identified in lists and logs; the whole token is stored only as its SHA-256 digest (enough for
a 256-bit random secret, and constant-time to check by lookup).
"""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from charter.audit import record_audit
from charter.auth.roles import Actor, Role
from charter.db.tables import api_tokens
from charter.events import utcnow
from charter.exceptions import BadRequest, NotFound, Unauthorized
from charter.runtime import Runtime


@dataclass(frozen=True)
class TokenInfo:
    id: str
    name: str
    role: Role
    prefix: str
    created_at: datetime
    created_by: str
    last_used_at: datetime | None
    revoked_at: datetime | None


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


#: A token name: 1-200 characters, no control characters (Unicode Cc), not only whitespace. The API
#: declares the same pattern (charter.auth.api), so the document and the check are one rule.
TOKEN_NAME_PATTERN = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
TOKEN_NAME = re.compile(TOKEN_NAME_PATTERN)


def create_token(rt: Runtime, actor: Actor, name: str, role: str) -> tuple[str, TokenInfo]:
    """Create a token; returns the secret (shown once) and its record."""
    try:
        parsed = Role(role)
    except ValueError:
        raise BadRequest(f"unknown role {role!r}; use one of {', '.join(r.value for r in Role)}")
    if len(name) > 200 or not TOKEN_NAME.match(name):
        raise BadRequest("a token needs a name of 1 to 200 characters, not only spaces, without control characters")
    prefix = secrets.token_hex(4)
    secret = f"chr_{prefix}_{secrets.token_urlsafe(32)}"
    token_id = str(uuid.uuid4())
    now = utcnow()
    with rt.write() as (conn, _):
        conn.execute(
            sa.insert(api_tokens).values(
                id=token_id,
                name=name,
                role=parsed.value,
                prefix=prefix,
                token_hash=_hash(secret),
                created_at=now,
                created_by=f"{actor.kind}:{actor.name}",
            )
        )
        record_audit(conn, actor, "token.create", "token", token_id, {"name": name, "role": parsed.value})
    return secret, TokenInfo(token_id, name, parsed, prefix, now, f"{actor.kind}:{actor.name}", None, None)


def list_tokens(rt: Runtime) -> list[TokenInfo]:
    with rt.read() as conn:
        rows = conn.execute(sa.select(api_tokens).order_by(api_tokens.c.created_at))
        return [
            TokenInfo(r.id, r.name, Role(r.role), r.prefix, r.created_at, r.created_by, r.last_used_at, r.revoked_at)
            for r in rows
        ]


def revoke_token(rt: Runtime, actor: Actor, token_id: str) -> None:
    with rt.write() as (conn, _):
        result = conn.execute(
            sa.update(api_tokens)
            .where(api_tokens.c.id == token_id, api_tokens.c.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )
        if result.rowcount == 0:
            raise NotFound(f"no active token {token_id!r}")
        record_audit(conn, actor, "token.revoke", "token", token_id, {})


def authenticate(rt: Runtime, token: str) -> Actor:
    """The actor a bearer token stands for; Unauthorized when unknown or revoked."""
    if not token.startswith("chr_") or len(token) > 200:
        raise Unauthorized("invalid API token")
    with rt.read() as conn:
        row = conn.execute(
            sa.select(api_tokens.c.id, api_tokens.c.name, api_tokens.c.role, api_tokens.c.revoked_at).where(
                api_tokens.c.token_hash == _hash(token)
            )
        ).first()
    if row is None or row.revoked_at is not None:
        raise Unauthorized("invalid or revoked API token")
    return Actor(name=row.name, role=Role(row.role), kind="token", id=row.id)
