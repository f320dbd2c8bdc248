"""``charter schema check`` for a project: the schema-evolution check of every content type
(:func:`charter.schemas.compat.check.check_types`), the static contract checks and, with
``--content``, a dry run of every stored entry against the new schemas.

Every live entry's current revision (and its published revision, when that differs) is validated,
in every locale, against the working-tree content type. An entry stored under an older ``$id``
major is first passed through the project's migration to the new major, when there is one, so
the report shows what would still break after migrating. Nothing is written.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from charter.schemas.compat.check import TypeCheck, check_types, pinned_schemas, registry_state
from charter.schemas.compat.model import POLICIES, Change, check_policy
from charter.schemas.migration_ops import MigrationStepError

if TYPE_CHECKING:
    from charter.config import Settings
    from charter.contracts.model import Contract
    from charter.contracts.report import ContractReport
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


@dataclass
class SchemaCheckReport:
    """What ``charter schema check`` found. ``ok`` is the gate ``charter ci`` uses."""

    baseline: str
    types: list[TypeCheck]
    contracts: ContractReport | None = None
    content: ContentReport | None = None
    notes: list[str] = field(default_factory=list)
    #: Content type -> unified diff of its generated TypeScript module, baseline -> working tree
    #: (charter.frontend.typediff): what the change does to the front end's types. Informational.
    type_diffs: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return (
            all(t.ok for t in self.types)
            and (self.contracts is None or self.contracts.ok)
            and (self.content is None or self.content.ok)
        )

    @property
    def breaking(self) -> list[TypeCheck]:
        return [t for t in self.types if t.required_bump == "major"]

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "baseline": self.baseline,
            "notes": self.notes,
            "types": [t.to_dict() for t in self.types],
            "contracts": self.contracts.to_dict() if self.contracts is not None else None,
            "content": self.content.to_dict() if self.content is not None else None,
            "type_diffs": self.type_diffs,
        }


def run_schema_check(
    settings: Settings,
    *,
    against: str | None = None,
    content: bool = False,
    contracts: bool = True,
    policy: str | None = None,
) -> SchemaCheckReport:
    """The whole check for a project: types vs the registry (or ``against`` a git ref), the
    static contract checks, and with ``content`` a dry run of every stored entry.

    Raises SchemaFileError / ContractFileError / BadRequest for bad input (nothing is written)."""
    from charter.schemas.registry import Registry

    registry = Registry.load(settings.content_types_dir, tuple(settings.intents))
    names = [ct.name for ct in registry]
    transitive = any(POLICIES[check_policy(policy or ct.policy)][2] for ct in registry)
    if against:
        from charter.schemas.compat.baselines import git_history

        history = git_history(settings.content_types_dir, against, names, transitive=transitive)
        baseline = f"git:{against}"
        rolled_back: dict[str, set[str]] = {}
    else:
        history, rolled_back = registry_state(settings)
        baseline = "registry"
    found = []
    if contracts:
        from charter.contracts import load_contracts

        found = load_contracts(settings.project_dir / "contracts")
    content_report = None
    if content:
        content_report = check_content(settings, registry)
    evidence = {
        ct.name: _evidence(ct.schema, found, ct.name, content_report.documents.get(ct.name) if content_report else None)
        for ct in registry
    }
    report = SchemaCheckReport(
        baseline, check_types(registry, history, policy=policy, rolled_back=rolled_back, evidence=evidence)
    )
    if not history:
        report.notes.append(
            "nothing released yet: the registry is empty (a project's database records a release when the server "
            "or any command opening the project starts), so every type counts as new; compare with git with "
            "--against REF"
            if baseline == "registry"
            else f"no content type exists at {against}: every type counts as new"
        )
    if contracts:
        from charter.contracts import check_contracts

        baseline_schemas = {name: versions[-1].schema for name, versions in history.items() if versions}
        report.contracts = check_contracts(found, registry, baseline=baseline_schemas, pinned=pinned_schemas(history))
    report.content = content_report
    from charter.frontend.typediff import type_diffs

    report.type_diffs = type_diffs(registry, history, baseline)
    return report


def _evidence(
    schema: dict[str, Any], contracts: list[Contract], name: str, documents: list[Any] | None
) -> Callable[[list[Change]], list[Change]]:
    """What a type's contracts rely on and, with ``documents``, what its stored content holds."""
    from charter.schemas.compat.tolerance import relied_on, unheld

    used = [
        tuple(s.name for s in path.segments)
        for contract in contracts
        for exp in contract.expects
        if exp.endpoint.content_type == name
        for path in exp.paths
    ]
    root_ref = schema.get("$ref") if isinstance(schema.get("$ref"), str) else None

    def refine(changes: list[Change]) -> list[Change]:
        if documents is not None:
            changes = unheld(changes, documents, root_ref)
        return relied_on(changes, used, root_ref)

    return refine
