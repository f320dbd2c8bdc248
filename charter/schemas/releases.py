"""The schema registry in the database: every released content-type version, and its events.

At start-up :func:`sync` registers each project content type whose (``$id``, ``version``) is new,
recording a ``schema.released`` event (and ``schema.breaking_change`` when the change from the
previous release is major), so the schema-break-rate metric has its data.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
import structlog

from charter import events as ev
from charter.db.tables import content_types
from charter.runtime import Runtime

log = structlog.get_logger("charter.schemas")


def released_versions(conn: sa.Connection, name: str | None = None) -> list[dict[str, Any]]:
    q = sa.select(content_types).order_by(content_types.c.id)
    if name:
        q = q.where(content_types.c.name == name)
    return [dict(r._mapping) for r in conn.execute(q)]


def sync(rt: Runtime, actor: str = "system") -> list[str]:
    """Register new content-type versions; returns the ``schema_id@version`` strings released."""
    released: list[str] = []
    with rt.write() as (conn, pending):
        known = {(r["schema_id"], r["version"]): r for r in released_versions(conn)}
        latest: dict[str, dict[str, Any]] = {}
        for r in known.values():
            latest[r["name"]] = r
        for ct in rt.registry:
            row = known.get((ct.schema_id, ct.version))
            if row is not None:
                if row["fingerprint"] != ct.fingerprint:
                    log.warning("schema_changed_without_version_bump", schema_id=ct.schema_id, version=ct.version)
                continue
            previous = latest.get(ct.name)
            conn.execute(
                sa.insert(content_types).values(
                    name=ct.name,
                    schema_id=ct.schema_id,
                    version=ct.version,
                    schema=ct.schema,
                    fingerprint=ct.fingerprint,
                    released_at=ev.utcnow(),
                    released_by=actor,
                )
            )
            payload: dict[str, Any] = {
                "name": ct.name,
                "schema_id": ct.schema_id,
                "version": ct.version,
                "previous": previous["version"] if previous else None,
            }
            bump = _required_bump(previous["schema"], ct.schema, ct.policy) if previous else None
            payload["required_bump"] = bump
            pending.append(ev.record(conn, ev.Event(ev.SCHEMA_RELEASED, payload, domain=ct.domain)))
            if bump == "major":
                pending.append(ev.record(conn, ev.Event(ev.SCHEMA_BREAKING_CHANGE, payload, domain=ct.domain)))
            released.append(f"{ct.schema_id}@{ct.version}")
    return released


def _required_bump(old: dict[str, Any], new: dict[str, Any], policy: str) -> str | None:
    try:
        from charter.schemas.compat import classify_release
    except ImportError:  # schema evolution not installed in this build
        return None
    report = classify_release(old, new, policy)
    return str(report.required_bump)
