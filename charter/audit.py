"""The audit log: who did what, when, with the diff. Written inside the action's transaction."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from charter.auth.roles import Actor
from charter.db.tables import audit_log
from charter.events import utcnow
from charter.strictjson import servable


def diff(old: Any, new: Any, path: str = "") -> list[dict[str, Any]]:
    """A minimal RFC 6902-style diff (add, remove, replace) between two JSON values."""
    if isinstance(old, dict) and isinstance(new, dict):
        ops: list[dict[str, Any]] = []
        for key in old:
            sub = f"{path}/{str(key).replace('~', '~0').replace('/', '~1')}"
            if key not in new:
                ops.append({"op": "remove", "path": sub, "old": old[key]})
            else:
                ops.extend(diff(old[key], new[key], sub))
        for key in new:
            if key not in old:
                ops.append(
                    {"op": "add", "path": f"{path}/{str(key).replace('~', '~0').replace('/', '~1')}", "value": new[key]}
                )
        return ops
    if old == new:
        return []
    return [{"op": "replace", "path": path or "/", "old": old, "value": new}]


def record_audit(
    conn: sa.Connection, actor: Actor, action: str, subject_type: str, subject_id: str, detail: dict[str, Any]
) -> None:
    conn.execute(
        sa.insert(audit_log).values(
            actor=f"{actor.kind}:{actor.name}",
            action=action,
            subject_type=subject_type,
            subject_id=subject_id,
            detail=detail,
            at=utcnow(),
        )
    )


def list_audit(
    conn: sa.Connection, subject_type: str | None = None, subject_id: str | None = None, limit: int = 200
) -> list[dict[str, Any]]:
    q = sa.select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
    if subject_type:
        q = q.where(audit_log.c.subject_type == subject_type)
    if subject_id:
        q = q.where(audit_log.c.subject_id == subject_id)
    return [
        {
            "id": r.id,
            "actor": r.actor,
            "action": r.action,
            "subject_type": r.subject_type,
            "subject_id": r.subject_id,
            "detail": _detail(r.detail),
            "at": r.at.isoformat(),
        }
        for r in conn.execute(q)
    ]


def _detail(detail: Any) -> Any:
    """The stored detail, or, when it holds a value that cannot be served back (stored by an older
    version), a note saying so: the audit list stays readable (``charter doctor`` repairs it)."""
    problem = servable(detail)
    if problem is None:
        return detail
    return {"unservable": f"{problem.pointer or '/'} {problem.message}; repair with `charter doctor --quarantine`"}
