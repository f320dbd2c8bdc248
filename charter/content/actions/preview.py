"""Issue and revoke preview tokens (docs/preview.md). The API (``/v1/manage/previews``), the
admin's preview pages and ``charter previews`` / ``charter releases preview`` call these.

Issuing and revoking both need the ``write`` permission (editors and up): whoever may share a
preview link may also withdraw one, including a link someone else shared. Each is one
transaction: the register row (:mod:`charter.auth.preview_register`) and the audit entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa

from charter.audit import record_audit
from charter.auth import preview
from charter.auth.preview_register import PreviewRecord, get_record, list_records, mark_revoked, record_token
from charter.auth.roles import Actor, Permission
from charter.content import store
from charter.content.releases import get_release
from charter.content.revisions import require
from charter.events import utcnow
from charter.exceptions import Conflict, NotFound
from charter.runtime import Runtime


@dataclass(frozen=True)
class Issued:
    """A minted token: the string to hand out (a bearer secret) and its claims."""

    token: str
    claims: preview.PreviewToken

    @property
    def jti(self) -> str:
        return self.claims.jti


def _check_target(conn: sa.Connection, scope: str, target_id: str) -> None:
    if scope == "entry":
        store.get_entry(conn, target_id)
    elif scope == "release":
        get_release(conn, target_id)


def issue_preview(
    rt: Runtime,
    actor: Actor,
    scope: str,
    target_id: str,
    ttl: int = preview.DEFAULT_TTL,
    *,
    reuse: bool = False,
) -> Issued:
    """Mint and record a token for ``scope`` (``entry`` or ``release``) ``target_id``.

    Forbidden without ``write``; BadRequest for a bad scope or lifetime; NotFound for an unknown
    entry or release. With ``reuse``, a live token this actor minted for the same target that has
    at least half of ``ttl`` left is handed out again instead (a page that shows a link on every
    view does not fill the register)."""
    require(actor, Permission.WRITE)
    claims = preview.new_token(actor, scope, target_id, ttl)  # validates scope and ttl
    embedded = rt.settings.source == "embedded"
    if not embedded:
        # Another CMS's entry (docs/sources.md): asked once, outside any transaction.
        from charter.delivery.sources.preview import check_preview_target

        check_preview_target(rt, scope, target_id)
    if reuse:
        with rt.read() as conn:
            if embedded:
                _check_target(conn, scope, target_id)
            for found in list_records(
                conn, scope=scope, target_id=target_id, status="active", issued_by=claims.subject, limit=1
            ):
                if found.expires_at - utcnow() >= timedelta(seconds=ttl / 2):
                    again = found.claims()
                    return Issued(preview.sign(rt.settings, again), again)
    with rt.write() as (conn, _):
        if embedded:
            _check_target(conn, scope, target_id)
        record_token(conn, claims)
        record_audit(
            conn,
            actor,
            "preview.issue",
            "preview",
            claims.jti,
            {"scope": scope, "id": target_id, "expires_at": claims.expires.isoformat()},
        )
    return Issued(preview.sign(rt.settings, claims), claims)


def revoke_preview(rt: Runtime, actor: Actor, jti: str) -> PreviewRecord:
    """Revoke the token ``jti``: from the commit on, every delivery request carrying it is
    refused (401). Forbidden without ``write``; NotFound for a token not on record; Conflict when
    it is revoked already."""
    require(actor, Permission.WRITE)
    by = f"{actor.kind}:{actor.name}"
    with rt.write() as (conn, _):
        record = mark_revoked(conn, jti, by)
        if record is None:
            found = get_record(conn, jti)
            if found is None:
                raise NotFound(f"no preview token {jti[:80]!r} on record")
            when = found.revoked_at.isoformat(timespec="seconds") if found.revoked_at else "an earlier moment"
            raise Conflict(f"preview token {jti} was already revoked at {when}")
        record_audit(conn, actor, "preview.revoke", "preview", jti, {"scope": record.scope, "id": record.target_id})
    return record
