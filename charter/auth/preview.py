"""Preview tokens: signed, expiring, scoped to one entry or one release.

A token is ``cpt1.<payload>.<signature>``: the payload is base64url JSON
``{"scope": "entry"|"release", "id", "iat", "exp", "sub", "jti", "v": 2}`` and the signature is
HMAC-SHA256 (RFC 2104) over ``cpt1.<payload>`` with a key derived from ``secret_key`` for this
purpose only. Holding a token lets a front end read, through the ordinary delivery endpoints,
the entry's current draft or the release's state exactly as it will publish — nothing else that
is unpublished. Tokens are bearer secrets: share them like a link, keep their lifetime short.

This module is the format only (no database). The delivery API honours a token only while its
``jti`` is on record with the same scope, target and expiry, not revoked and not expired
(:mod:`charter.auth.preview_register`); mint one through
:func:`charter.content.actions.preview.issue_preview`, which records it. A token without ``v``
(minted before tokens were recorded) has no record and is refused.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from charter.auth.roles import Actor
from charter.config import Settings
from charter.exceptions import BadRequest, Unauthorized

PREFIX = "cpt1"
SCOPES = ("entry", "release")
DEFAULT_TTL = 3600
MAX_TTL = 7 * 24 * 3600
#: Where a delivery request may carry a token: a header, or the ``preview`` query parameter.
HEADER = "charter-preview"
QUERY = "preview"
#: Longer strings are refused without decoding (401).
MAX_LENGTH = 2000
#: The payload version :func:`new_token` writes (the ``v`` claim).
VERSION = 2


@dataclass(frozen=True)
class PreviewToken:
    scope: str
    id: str
    issued_at: int
    expires_at: int
    subject: str
    jti: str
    #: 2: recorded, so revocable one by one; 1: minted before tokens were recorded (no ``v`` claim).
    version: int = VERSION

    @property
    def expires(self) -> datetime:
        return datetime.fromtimestamp(self.expires_at, UTC)

    @property
    def issued(self) -> datetime:
        return datetime.fromtimestamp(self.issued_at, UTC)

    @property
    def recorded(self) -> bool:
        """Whether the token must be on record (and not revoked) to be honoured."""
        return self.version >= 2


def _key(settings: Settings) -> bytes:
    return hmac.new(settings.secret_key.encode(), b"charter.preview.v1", hashlib.sha256).digest()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def new_token(
    actor: Actor, scope: str, target_id: str, ttl: int = DEFAULT_TTL, *, now: float | None = None
) -> PreviewToken:
    """The claims of a new token for ``scope`` (entry or release) ``target_id``, valid for ``ttl``
    seconds, with a fresh ``jti``; BadRequest for an unknown scope or a lifetime out of range."""
    if scope not in SCOPES:
        raise BadRequest(f"preview scope must be one of {', '.join(SCOPES)}, not {scope!r}")
    if not 1 <= ttl <= MAX_TTL:
        raise BadRequest(f"a preview token lives 1 to {MAX_TTL} seconds (7 days), not {ttl}")
    issued = int(time.time() if now is None else now)
    return PreviewToken(scope, target_id, issued, issued + ttl, f"{actor.kind}:{actor.name}", secrets.token_hex(8))


def sign(settings: Settings, token: PreviewToken) -> str:
    """The token string for ``token``'s claims. Deterministic: the same claims and key give the
    same string, so a recorded token can be shown again without storing the secret."""
    claims: dict[str, object] = {
        "scope": token.scope,
        "id": token.id,
        "iat": token.issued_at,
        "exp": token.expires_at,
        "sub": token.subject,
        "jti": token.jti,
    }
    if token.version >= 2:
        claims["v"] = token.version
    payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
    signed = f"{PREFIX}.{payload}"
    signature = _b64(hmac.new(_key(settings), signed.encode(), hashlib.sha256).digest())
    return f"{signed}.{signature}"


def issue(
    settings: Settings, actor: Actor, scope: str, target_id: str, ttl: int = DEFAULT_TTL, *, now: float | None = None
) -> tuple[str, PreviewToken]:
    """Sign a new token (:func:`new_token`) without recording it. The delivery API refuses an
    unrecorded token; use :func:`charter.content.actions.preview.issue_preview` to mint one."""
    token = new_token(actor, scope, target_id, ttl, now=now)
    return sign(settings, token), token


def verify(settings: Settings, token: str, *, now: float | None = None) -> PreviewToken:
    """The token's claims; Unauthorized when it is malformed, forged or expired."""
    parts = token.split(".")
    if len(token) > MAX_LENGTH or len(parts) != 3 or parts[0] != PREFIX:
        raise Unauthorized("invalid preview token (expected cpt1.<payload>.<signature>)")
    expected = hmac.new(_key(settings), f"{parts[0]}.{parts[1]}".encode(), hashlib.sha256).digest()
    try:
        given = _unb64(parts[2])
    except ValueError:
        raise Unauthorized("invalid preview token signature")
    if not hmac.compare_digest(expected, given):
        raise Unauthorized("invalid preview token signature")
    try:
        claims = json.loads(_unb64(parts[1]))
        parsed = PreviewToken(
            str(claims["scope"]),
            str(claims["id"]),
            int(claims["iat"]),
            int(claims["exp"]),
            str(claims["sub"]),
            str(claims["jti"]),
            int(claims.get("v", 1)),
        )
    except (ValueError, KeyError, TypeError, AttributeError, OverflowError):
        raise Unauthorized("invalid preview token payload")
    if parsed.version not in (1, VERSION):
        raise Unauthorized(f"unknown preview token version {parsed.version}")
    if parsed.scope not in SCOPES:
        raise Unauthorized("invalid preview token scope")
    if (now if now is not None else time.time()) >= parsed.expires_at:
        raise Unauthorized(f"preview token expired at {parsed.expires.isoformat()}; ask for a new one")
    return parsed


def token_from(headers: Mapping[str, str], query: Mapping[str, str]) -> str | None:
    """The raw token a request carries (the header first, then the query parameter), or None."""
    value = headers.get(HEADER) or query.get(QUERY)
    return str(value) if value else None
