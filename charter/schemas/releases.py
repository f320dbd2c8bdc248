"""The schema registry in the database: every released content-type version, and its events.

At start-up :func:`sync` registers each project content type whose (``$id``, ``version``) is new
and records a ``schema.released`` event, plus ``schema.breaking_change`` when the change from the
previous release of that type is major under its policy (payloads: :mod:`charter.events`). The
schema-break-rate metric counts those events per domain per quarter.

:func:`registry_status` is the read model for the admin and ``charter schema registry``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
import structlog

from charter import events as ev
from charter.db.tables import content_types
from charter.schemas.compat.semver import SemverError, Version, bump_between, bump_rank

if TYPE_CHECKING:
    from charter.runtime import Runtime

log = structlog.get_logger("charter.schemas")


def released_versions(conn: sa.Connection, name: str | None = None) -> list[dict[str, Any]]:
    """Registry rows (oldest first), optionally for one content type."""
    q = sa.select(content_types).order_by(content_types.c.id)
    if name:
        q = q.where(content_types.c.name == name)
    return [dict(r._mapping) for r in conn.execute(q)]


def release_payload(
    name: str, schema: dict[str, Any], previous: dict[str, Any] | None, policy: str, domain: str
) -> dict[str, Any]:
    """The ``schema.released`` payload for releasing ``schema`` after ``previous`` (a registry row)."""
    from charter.schemas.compat import classify_release

    version = str(schema.get("version"))
    payload: dict[str, Any] = {
        "content_type": name,
        "schema_id": str(schema.get("$id")),
        "version": version,
        "domain": domain,
        "policy": policy,
        "previous_schema_id": previous["schema_id"] if previous else None,
        "previous_version": previous["version"] if previous else None,
        "declared_bump": "new",
        "required_bump": None,
        "semver_ok": True,
        "changes": [],
    }
    if previous is None:
        return payload
    report = classify_release(previous["schema"], schema, policy)
    try:
        declared = bump_between(Version.parse(previous["version"]), Version.parse(version))
    except SemverError:
        declared = "none"
    payload.update(
        declared_bump=declared,
        required_bump=report.required_bump,
        semver_ok=bump_rank(declared) >= bump_rank(report.required_bump),
        changes=[c.to_dict(policy) for c in report.changes],
    )
    return payload


def sync(rt: Runtime, actor: str = "system") -> list[str]:
    """Register new content-type versions; returns the ``schema_id@version`` strings released.

    A version already registered with a different schema is logged (``schema_changed_without_
    version_bump``) and left alone: ``charter schema check`` fails on it."""
    released: list[str] = []
    with rt.write() as (conn, pending):
        rows = released_versions(conn)
        known = {(r["schema_id"], r["version"]): r for r in rows}
        latest: dict[str, dict[str, Any]] = {}
        for r in rows:
            try:
                if r["name"] not in latest or Version.parse(r["version"]) > Version.parse(latest[r["name"]]["version"]):
                    latest[r["name"]] = r
            except SemverError:
                continue
        for ct in rt.registry:
            row = known.get((ct.schema_id, ct.version))
            if row is not None:
                if row["fingerprint"] != ct.fingerprint:
                    log.warning("schema_changed_without_version_bump", schema_id=ct.schema_id, version=ct.version)
                continue
            previous = latest.get(ct.name)
            payload = release_payload(ct.name, ct.schema, previous, ct.policy, ct.domain)
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
            pending.append(ev.record(conn, ev.Event(ev.SCHEMA_RELEASED, payload, domain=ct.domain)))
            if payload["required_bump"] == "major":
                breaking = {**payload, "changes": [c for c in payload["changes"] if c["level"] == "major"]}
                pending.append(ev.record(conn, ev.Event(ev.SCHEMA_BREAKING_CHANGE, breaking, domain=ct.domain)))
            log.info("schema_released", schema_id=ct.schema_id, version=ct.version, bump=payload["required_bump"])
            released.append(f"{ct.schema_id}@{ct.version}")
    return released


@dataclass
class TypeStatus:
    """One content type as the registry and the working tree see it."""

    name: str
    domain: str
    policy: str
    schema_id: str
    version: str
    #: Released versions, oldest first: {"schema_id", "version", "released_at", "released_by",
    #: "previous_version", "declared_bump", "required_bump", "semver_ok", "breaking", "changes"},
    #: each classified against the release before it under the type's policy.
    releases: list[dict[str, Any]] = field(default_factory=list)
    #: True when the working-tree file differs from the registered schema of the same version.
    drift: bool = False
    released: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "domain": self.domain,
            "policy": self.policy,
            "schema_id": self.schema_id,
            "version": self.version,
            "released": self.released,
            "drift": self.drift,
            "releases": self.releases,
        }


def registry_status(rt: Runtime) -> list[TypeStatus]:
    """Every content type of the project with its release history (for the admin and the CLI)."""
    with rt.read() as conn:
        rows = released_versions(conn)
    out = []
    for ct in sorted(rt.registry, key=lambda t: t.name):
        mine = [r for r in rows if r["name"] == ct.name]
        same = next((r for r in mine if r["schema_id"] == ct.schema_id and r["version"] == ct.version), None)
        out.append(
            TypeStatus(
                name=ct.name,
                domain=ct.domain,
                policy=ct.policy,
                schema_id=ct.schema_id,
                version=ct.version,
                releases=_history(ct.name, mine, ct.policy, ct.domain),
                drift=same is not None and same["fingerprint"] != ct.fingerprint,
                released=same is not None,
            )
        )
    return out


def _history(name: str, rows: list[dict[str, Any]], policy: str, domain: str) -> list[dict[str, Any]]:
    """Each registry row of one type with its classification against the one released before."""
    from charter.schemas.compat.diff import SchemaDiffError

    out = []
    previous: dict[str, Any] | None = None
    for r in rows:
        try:
            payload = release_payload(name, r["schema"], previous, policy, domain)
        except SchemaDiffError as exc:  # an old release that cannot be compared: say so, don't fail
            payload = {"declared_bump": None, "required_bump": None, "semver_ok": None, "changes": []}
            payload["error"] = exc.detail
        out.append(
            {
                "schema_id": r["schema_id"],
                "version": r["version"],
                "released_at": r["released_at"].isoformat() if r["released_at"] else None,
                "released_by": r["released_by"],
                "previous_version": previous["version"] if previous else None,
                "declared_bump": payload["declared_bump"],
                "required_bump": payload["required_bump"],
                "semver_ok": payload["semver_ok"],
                "breaking": len([c for c in payload["changes"] if c["level"] == "major"]),
                "changes": payload["changes"],
                **({"error": payload["error"]} if "error" in payload else {}),
            }
        )
        previous = r
    return out
