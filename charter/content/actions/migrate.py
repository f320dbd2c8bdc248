"""Migrate every entry of a content type to a new schema major, and roll a migration back.

* :func:`plan_migration` is the dry run: every entry migrated in memory and validated against the
  new schema (every locale, references included); nothing is written.
* :func:`apply_migration` does the same inside one write transaction and, only when every entry
  passes, appends the migrated content as new revisions (action ``migrate``), moves published
  pointers to the migrated published content and records the run. One failing entry: nothing
  is written and the error lists every entry that fails.
* :func:`rollback_migration` restores, as new revisions (action ``rollback``), the content each
  entry had before the run, provided nobody edited the entry since; again all or nothing.

The run's per-entry record is what lets consumers pinning the old major keep receiving what was
published under it (:mod:`charter.delivery.pinning`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from charter.audit import record_audit
from charter.auth.roles import Actor, Permission
from charter.content.models import Entry, Revision
from charter.content.revisions import require, validate_data
from charter.content.store import get_revision, list_entries
from charter.db.tables import content_types, entries, revisions
from charter.events import (
    ENTRY_PUBLISHED,
    ENTRY_ROLLED_BACK,
    ENTRY_UPDATED,
    SCHEMA_MIGRATED,
    SCHEMA_MIGRATION_ROLLED_BACK,
    Event,
    record,
    utcnow,
)
from charter.exceptions import BadRequest, Conflict, ErrorDetail, NotFound, ValidationFailed
from charter.runtime import Runtime
from charter.schemas.migration_ops import MigrationStepError
from charter.schemas.migrations import Migration, migrate_data
from charter.schemas.registry import ContentType
from charter.schemas.tables import schema_migration_entries, schema_migrations


@dataclass
class EntryPlan:
    """What migrating one entry does (or why it cannot)."""

    entry_id: str
    slug: str | None
    current_revision: int
    published_revision: int | None
    #: Migrated data of the current revision, and of the published one when it differs.
    current_data: dict[str, Any] | None = None
    published_data: dict[str, Any] | None = None
    errors: list[ErrorDetail] = field(default_factory=list)
    skipped: str | None = None

    @property
    def ok(self) -> bool:
        return not self.errors

    def to_dict(self) -> dict[str, Any]:
        return {
            "entry_id": self.entry_id,
            "slug": self.slug,
            "current_revision": self.current_revision,
            "published_revision": self.published_revision,
            "status": "skipped" if self.skipped else "ok" if self.ok else "fails",
            "skipped": self.skipped,
            "errors": [e.to_dict() for e in self.errors],
        }


@dataclass
class MigrationPlan:
    migration: Migration
    entries: list[EntryPlan]

    @property
    def ok(self) -> bool:
        return all(e.ok for e in self.entries)

    @property
    def to_migrate(self) -> list[EntryPlan]:
        return [e for e in self.entries if not e.skipped]

    @property
    def failing(self) -> list[EntryPlan]:
        return [e for e in self.entries if not e.ok]

    def to_dict(self) -> dict[str, Any]:
        return {
            "migration": self.migration.to_dict(),
            "ok": self.ok,
            "entries": [e.to_dict() for e in self.entries],
            "counts": {
                "migrate": len([e for e in self.to_migrate if e.ok]),
                "fail": len(self.failing),
                "skip": len(self.entries) - len(self.to_migrate),
            },
        }


@dataclass(frozen=True)
class MigrationRun:
    id: int
    content_type: str
    from_schema_id: str
    to_schema_id: str
    to_version: str
    file: str
    status: str
    entry_count: int
    applied_at: datetime
    applied_by: str
    sunset: datetime | None
    rolled_back_at: datetime | None
    operations: list[Any]

    @classmethod
    def from_row(cls, row: Any) -> MigrationRun:
        return cls(
            id=row.id,
            content_type=row.content_type,
            from_schema_id=row.from_schema_id,
            to_schema_id=row.to_schema_id,
            to_version=row.to_version,
            file=row.file,
            status=row.status,
            entry_count=row.entry_count,
            applied_at=row.applied_at,
            applied_by=row.applied_by,
            sunset=row.sunset,
            rolled_back_at=row.rolled_back_at,
            operations=list(row.operations or []),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "content_type": self.content_type,
            "from": self.from_schema_id,
            "to": self.to_schema_id,
            "to_version": self.to_version,
            "file": self.file,
            "status": self.status,
            "entries": self.entry_count,
            "applied_at": self.applied_at.isoformat(),
            "applied_by": self.applied_by,
            "sunset": self.sunset.isoformat() if self.sunset else None,
            "rolled_back_at": self.rolled_back_at.isoformat() if self.rolled_back_at else None,
            "operations": self.operations,
        }


def _target(rt: Runtime, migration: Migration) -> ContentType:
    try:
        ct = rt.registry.get(migration.content_type)
    except NotFound:
        raise BadRequest(f"{migration.file}: unknown content type {migration.content_type!r}")
    if ct.schema_id != migration.to_id:
        raise BadRequest(
            f"{migration.file} migrates to {migration.to_id}, but content-types/{ct.name}.schema.json is "
            f"{ct.schema_id} {ct.version}: release the {migration.to_id} schema first"
        )
    return ct


def _migrate_one(
    conn: sa.Connection, ct: ContentType, migration: Migration, rev: Revision, label: str
) -> tuple[dict[str, Any] | None, list[ErrorDetail]]:
    try:
        data = migrate_data(migration, rev.data, ct.locales.default)
    except MigrationStepError as exc:
        return None, [ErrorDetail("", f"{label} revision {rev.number}: {exc}", "migration")]
    try:
        validate_data(conn, ct, data)
    except ValidationFailed as exc:
        errors = exc.errors
    else:
        errors = []
    return data, [ErrorDetail(e.pointer, f"{label} revision {rev.number}: {e.message}", e.keyword) for e in errors]


def _plan(conn: sa.Connection, ct: ContentType, migration: Migration) -> MigrationPlan:
    plans: list[EntryPlan] = []
    for entry in list_entries(conn, migration.content_type):
        current = get_revision(conn, entry.id, entry.current_revision)
        plan = EntryPlan(entry.id, entry.slug, entry.current_revision, entry.published_revision)
        plans.append(plan)
        if current.schema_id == migration.to_id:
            plan.skipped = f"already stored under {migration.to_id}"
            continue
        if current.schema_id != migration.from_id:
            plan.errors.append(
                ErrorDetail("", f"stored under {current.schema_id}, but the migration is from {migration.from_id}")
            )
            continue
        plan.current_data, errors = _migrate_one(conn, ct, migration, current, "current")
        plan.errors.extend(errors)
        if entry.published_revision is not None and entry.published_revision != entry.current_revision:
            published = get_revision(conn, entry.id, entry.published_revision)
            if published.schema_id == migration.from_id:
                plan.published_data, errors = _migrate_one(conn, ct, migration, published, "published")
                plan.errors.extend(errors)
    return MigrationPlan(migration, plans)


def plan_migration(rt: Runtime, migration: Migration) -> MigrationPlan:
    """The dry run: what :func:`apply_migration` would do, entry by entry. Writes nothing."""
    ct = _target(rt, migration)
    with rt.read() as conn:
        return _plan(conn, ct, migration)


def _failure(plan: MigrationPlan) -> ValidationFailed:
    errors = [
        ErrorDetail(f"/entries/{e.entry_id}{err.pointer}", err.message, err.keyword)
        for e in plan.failing
        for err in e.errors
    ]
    return ValidationFailed(
        detail=f"{len(plan.failing)} of {len(plan.entries)} {plan.migration.content_type} entries cannot be migrated "
        f"to {plan.migration.to_id}; nothing was changed",
        errors=errors,
        extra={"entries": [e.to_dict() for e in plan.failing]},
    )


def _append(
    conn: sa.Connection,
    entry_id: str,
    number: int,
    data: dict[str, Any],
    schema_id: str,
    version: str,
    actor: Actor,
    action: str,
    message: str,
) -> None:
    conn.execute(
        sa.insert(revisions).values(
            entry_id=entry_id,
            number=number,
            data=data,
            schema_id=schema_id,
            schema_version=version,
            author=f"{actor.kind}:{actor.name}",
            created_at=utcnow(),
            message=message,
            action=action,
        )
    )


def _slug(ct: ContentType, data: dict[str, Any]) -> str | None:
    if not ct.slug_field:
        return None
    value = (data.get(ct.locales.default) or {}).get(ct.slug_field)
    return str(value) if value is not None else None


def _entry_event(
    pending: list[Event],
    conn: sa.Connection,
    kind: str,
    entry_id: str,
    slug: str | None,
    ct_name: str,
    domain: str,
    revision: int,
    schema_id: str,
    version: str,
    **extra: Any,
) -> None:
    payload = {
        "id": entry_id,
        "type": ct_name,
        "revision": revision,
        "slug": slug,
        "schema_id": schema_id,
        "schema_version": version,
        **extra,
    }
    pending.append(record(conn, Event(kind, payload, domain=domain)))


def apply_migration(rt: Runtime, actor: Actor, migration: Migration) -> MigrationRun:
    """Migrate every entry (all or nothing). ValidationFailed lists every failing entry;
    Conflict when the same migration is already applied."""
    require(actor, Permission.WRITE)
    require(actor, Permission.PUBLISH)
    ct = _target(rt, migration)
    with rt.write() as (conn, pending):
        existing = conn.execute(
            sa.select(schema_migrations.c.id).where(
                schema_migrations.c.from_schema_id == migration.from_id,
                schema_migrations.c.to_schema_id == migration.to_id,
                schema_migrations.c.status == "applied",
            )
        ).first()
        if existing is not None:
            raise Conflict(
                f"{migration.from_id} -> {migration.to_id} is already applied (run {existing.id}); "
                f"roll it back first to apply it again"
            )
        plan = _plan(conn, ct, migration)
        if not plan.ok:
            raise _failure(plan)
        now = utcnow()
        inserted = conn.execute(
            sa.insert(schema_migrations).values(
                content_type=ct.name,
                from_schema_id=migration.from_id,
                to_schema_id=migration.to_id,
                to_version=ct.version,
                file=migration.file,
                operations=[s.to_dict() for s in migration.steps],
                sunset=migration.sunset,
                status="applied",
                entry_count=len(plan.to_migrate),
                applied_at=now,
                applied_by=f"{actor.kind}:{actor.name}",
            )
        ).inserted_primary_key
        assert inserted is not None
        run_id = int(inserted[0])
        message = f"migrate {migration.from_id} -> {migration.to_id} ({migration.file}, run {run_id})"
        for p in plan.to_migrate:
            assert p.current_data is not None
            number = p.current_revision
            published_after: int | None = None
            old_published = get_revision(conn, p.entry_id, p.published_revision) if p.published_revision else None
            if p.published_data is not None:
                number += 1
                _append(conn, p.entry_id, number, p.published_data, ct.schema_id, ct.version, actor, "migrate", message)
                published_after = number
            number += 1
            _append(conn, p.entry_id, number, p.current_data, ct.schema_id, ct.version, actor, "migrate", message)
            if p.published_revision is not None and published_after is None:
                published_after = number if p.published_revision == p.current_revision else p.published_revision
            values: dict[str, Any] = {"current_revision": number, "slug": _slug(ct, p.current_data), "updated_at": now}
            if published_after is not None and published_after != p.published_revision:
                values.update(published_revision=published_after, published_at=now)
            try:
                conn.execute(sa.update(entries).where(entries.c.id == p.entry_id).values(**values))
            except sa.exc.IntegrityError:
                raise Conflict(f"migrating entry {p.entry_id} gives it slug {values['slug']!r}, already taken")
            conn.execute(
                sa.insert(schema_migration_entries).values(
                    migration_id=run_id,
                    entry_id=p.entry_id,
                    before_current=p.current_revision,
                    before_published=p.published_revision,
                    after_current=number,
                    after_published=published_after,
                    old_slug=_slug(ct, old_published.data) if old_published else p.slug,
                )
            )
            record_audit(
                conn,
                actor,
                "entry.migrate",
                "entry",
                p.entry_id,
                {"run": run_id, "from": migration.from_id, "to": migration.to_id, "revision": number},
            )
            _entry_event(
                pending,
                conn,
                ENTRY_UPDATED,
                p.entry_id,
                values["slug"],
                ct.name,
                ct.domain,
                number,
                ct.schema_id,
                ct.version,
                migration=run_id,
            )
            if "published_revision" in values:
                _entry_event(
                    pending,
                    conn,
                    ENTRY_PUBLISHED,
                    p.entry_id,
                    values["slug"],
                    ct.name,
                    ct.domain,
                    published_after or number,
                    ct.schema_id,
                    ct.version,
                    previous_revision=p.published_revision,
                    migration=run_id,
                )
        record_audit(conn, actor, "schema.migrate", "content_type", ct.name, migration.to_dict() | {"run": run_id})
        pending.append(
            record(
                conn,
                Event(
                    SCHEMA_MIGRATED,
                    {
                        "run": run_id,
                        "content_type": ct.name,
                        "from": migration.from_id,
                        "to": migration.to_id,
                        "entries": [p.entry_id for p in plan.to_migrate],
                        "sunset": migration.sunset.isoformat() if migration.sunset else None,
                        "domain": ct.domain,
                    },
                    domain=ct.domain,
                ),
            )
        )
        return get_run(conn, run_id)


def get_run(conn: sa.Connection, run_id: int) -> MigrationRun:
    row = conn.execute(sa.select(schema_migrations).where(schema_migrations.c.id == run_id)).first()
    if row is None:
        raise NotFound(f"no migration run {run_id}")
    return MigrationRun.from_row(row)


def list_runs(rt: Runtime, content_type: str | None = None) -> list[MigrationRun]:
    """Every migration run, newest first (for the CLI and the admin)."""
    q = sa.select(schema_migrations).order_by(schema_migrations.c.id.desc())
    if content_type:
        q = q.where(schema_migrations.c.content_type == content_type)
    with rt.read() as conn:
        return [MigrationRun.from_row(r) for r in conn.execute(q)]


def _old_type(conn: sa.Connection, name: str, schema_id: str) -> ContentType | None:
    row = conn.execute(
        sa.select(content_types).where(content_types.c.schema_id == schema_id).order_by(content_types.c.id.desc())
    ).first()
    if row is None:
        return None
    return ContentType(name=name, major=int(schema_id.rsplit(".v", 1)[1]), version=row.version, schema=row.schema)


def rollback_migration(rt: Runtime, actor: Actor, run_id: int) -> MigrationRun:
    """Restore what every entry of run ``run_id`` held before it, as new revisions. Conflict
    (nothing written) when an entry was edited or deleted since, naming every such entry."""
    require(actor, Permission.WRITE)
    require(actor, Permission.PUBLISH)
    with rt.write() as (conn, pending):
        run = get_run(conn, run_id)
        if run.status != "applied":
            raise Conflict(f"migration run {run_id} is {run.status}, not applied")
        rows = conn.execute(
            sa.select(schema_migration_entries).where(schema_migration_entries.c.migration_id == run_id)
        ).all()
        current = {
            r.id: r
            for r in conn.execute(sa.select(entries).where(entries.c.id.in_([row.entry_id for row in rows] or [""])))
        }
        changed = [
            row.entry_id
            for row in rows
            if row.entry_id not in current
            or current[row.entry_id].deleted_at is not None
            or current[row.entry_id].current_revision != row.after_current
        ]
        if changed:
            raise Conflict(
                f"cannot roll back run {run_id}: {len(changed)} entr{'y was' if len(changed) == 1 else 'ies were'} "
                f"edited or deleted since the migration ({', '.join(changed)}); nothing was changed",
                extra={"entries": changed},
            )
        old_ct = _old_type(conn, run.content_type, run.from_schema_id)
        errors: list[ErrorDetail] = []
        now = utcnow()
        message = f"roll back migration run {run_id} ({run.from_schema_id} -> {run.to_schema_id})"
        domain = old_ct.domain if old_ct else run.content_type
        for row in rows:
            entry = Entry.from_row(current[row.entry_id])
            before_cur = get_revision(conn, row.entry_id, row.before_current)
            before_pub = get_revision(conn, row.entry_id, row.before_published) if row.before_published else None
            if old_ct is not None:
                for rev in (before_cur, before_pub):
                    if rev is not None:
                        errors.extend(
                            ErrorDetail(f"/entries/{row.entry_id}{e.pointer}", e.message, e.keyword)
                            for e in old_ct.validate(rev.data)
                        )
            number = entry.current_revision
            published_after: int | None = None
            still_published = entry.published_revision is not None
            if before_pub is not None and row.before_published != row.before_current:
                number += 1
                _append(
                    conn,
                    row.entry_id,
                    number,
                    before_pub.data,
                    before_pub.schema_id,
                    before_pub.schema_version,
                    actor,
                    "rollback",
                    message,
                )
                published_after = number
            number += 1
            _append(
                conn,
                row.entry_id,
                number,
                before_cur.data,
                before_cur.schema_id,
                before_cur.schema_version,
                actor,
                "rollback",
                message,
            )
            if published_after is None and row.before_published == row.before_current:
                published_after = number
            slug_type = old_ct or rt.registry.get(run.content_type)
            values: dict[str, Any] = {
                "current_revision": number,
                "slug": _slug(slug_type, before_cur.data),
                "updated_at": now,
            }
            if still_published and published_after is not None:
                values.update(published_revision=published_after, published_at=now)
            conn.execute(sa.update(entries).where(entries.c.id == row.entry_id).values(**values))
            record_audit(conn, actor, "entry.rollback", "entry", row.entry_id, {"run": run_id, "revision": number})
            _entry_event(
                pending,
                conn,
                ENTRY_ROLLED_BACK,
                row.entry_id,
                values["slug"],
                run.content_type,
                domain,
                number,
                before_cur.schema_id,
                before_cur.schema_version,
                migration=run_id,
            )
        if errors:
            raise ValidationFailed(
                detail=f"run {run_id}'s earlier content no longer validates against {run.from_schema_id}; "
                "nothing was changed",
                errors=errors,
            )
        conn.execute(
            sa.update(schema_migrations)
            .where(schema_migrations.c.id == run_id)
            .values(status="rolled_back", rolled_back_at=now, rolled_back_by=f"{actor.kind}:{actor.name}")
        )
        record_audit(conn, actor, "schema.migration_rollback", "content_type", run.content_type, {"run": run_id})
        pending.append(
            record(
                conn,
                Event(
                    SCHEMA_MIGRATION_ROLLED_BACK,
                    {
                        "run": run_id,
                        "content_type": run.content_type,
                        "from": run.from_schema_id,
                        "to": run.to_schema_id,
                        "entries": [row.entry_id for row in rows],
                        "sunset": run.sunset.isoformat() if run.sunset else None,
                        "domain": domain,
                    },
                    domain=domain,
                ),
            )
        )
        return get_run(conn, run_id)
