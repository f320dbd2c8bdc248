"""``charter schema check --content``: a dry run of every stored entry against the new schemas.

Every live entry's current revision (and its published revision, when that differs) is validated,
in every locale, against the working-tree content type. An entry stored under an older ``$id``
major is first passed through the project's migration to the new major, when there is one, so
the report shows what would still break after migrating. Nothing is written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from charter.schemas.migration_ops import MigrationStepError

if TYPE_CHECKING:
    from charter.config import Settings
    from charter.schemas.migrations import Migration
    from charter.schemas.registry import Registry


@dataclass
class EntryProblem:
    entry_id: str
    type: str
    slug: str | None
    revision: int
    which: str  # current | published
    locale: str
    pointer: str
    message: str

    def to_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


@dataclass
class ContentReport:
    checked: int = 0
    problems: list[EntryProblem] = field(default_factory=list)
    #: content type -> migration file applied (in memory) before validating.
    migrated_with: dict[str, str] = field(default_factory=dict)
    #: content type -> every stored document (one per revision checked and locale), after any
    #: migration: the evidence the tolerant-reader policy reads (:func:`.tolerance.unheld`).
    documents: dict[str, list[Any]] = field(default_factory=dict, repr=False)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def failing_entries(self) -> list[str]:
        return list(dict.fromkeys(p.entry_id for p in self.problems))

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "checked": self.checked,
            "failing_entries": self.failing_entries,
            "migrated_with": self.migrated_with,
            "problems": [p.to_dict() for p in self.problems],
        }


def _locale_of(pointer: str) -> tuple[str, str]:
    parts = pointer.split("/", 2)
    if len(parts) < 2:
        return "", pointer
    return parts[1].replace("~1", "/").replace("~0", "~"), "/" + parts[2] if len(parts) > 2 else ""


def check_entries(conn: sa.Connection, registry: Registry, migrations: list[Migration] | None = None) -> ContentReport:
    """Validate every stored entry of every type in ``registry`` (see the module docstring)."""
    from charter.content.store import get_revision, list_entries
    from charter.schemas.migrations import migrate_data

    report = ContentReport()
    by_target = {(m.from_id, m.to_id): m for m in migrations or []}
    for ct in sorted(registry, key=lambda t: t.name):
        report.documents[ct.name] = []
        for entry in list_entries(conn, ct.name):
            numbers = [("current", entry.current_revision)]
            if entry.published_revision and entry.published_revision != entry.current_revision:
                numbers.append(("published", entry.published_revision))
            for which, number in numbers:
                rev = get_revision(conn, entry.id, number)
                report.checked += 1
                data = rev.data
                if rev.schema_id != ct.schema_id:
                    migration = by_target.get((rev.schema_id, ct.schema_id))
                    if migration is not None:
                        report.migrated_with[ct.name] = migration.file
                        try:
                            data = migrate_data(migration, data, ct.locales.default)
                        except MigrationStepError as exc:
                            report.problems.append(
                                EntryProblem(entry.id, ct.name, entry.slug, number, which, "", "", str(exc))
                            )
                            continue
                if isinstance(data, dict):
                    report.documents.setdefault(ct.name, []).extend(data.values())
                for err in ct.validate(data):
                    locale, ptr = _locale_of(err.pointer)
                    report.problems.append(
                        EntryProblem(entry.id, ct.name, entry.slug, number, which, locale, ptr, err.message)
                    )
    return report


def check_content(settings: Settings, registry: Registry) -> ContentReport:
    """:func:`check_entries` on the project's database (read only; an absent database is empty)."""
    from charter.db.engine import make_engine
    from charter.plugins import make_plugin_manager
    from charter.schemas.migrations import load_migrations, operation_factories

    migrations = load_migrations(settings.project_dir / "migrations", operation_factories(make_plugin_manager()))
    url = settings.resolved_database_url()
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        return ContentReport()
    engine = make_engine(url)
    try:
        if not sa.inspect(engine).has_table("entries"):
            return ContentReport()
        with engine.connect() as conn:
            return check_entries(conn, registry, migrations)
    finally:
        engine.dispose()
