"""Declarative content migrations for major schema releases.

A migration file (``migrations/<name>.v<major>.yaml`` in a project) says how entries stored
under one ``$id`` major become valid under the next::

    content_type: page
    from: page.v1
    to: page.v2
    sunset: 2027-06-30          # consumers pinning page.v1 are served until then
    description: Pages get a summary instead of a description.
    operations:
      - rename: {from: description, to: summary}
      - set_default: {path: summary, value: ""}
      - map_values: {path: sections[].intent, values: {call-to-action: cta}}

Operations come from the ``register_migration_operations`` hook (built-ins in
:mod:`charter.schemas.migration_ops`, registered by :mod:`charter.content.plugin`).
:func:`migrate_data` applies them to a copy of an entry's per-locale data; applying them to the
store (dry run, all or nothing, rollback) is :mod:`charter.content.actions.migrate`.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import pluggy

from charter.exceptions import ConfigError, ErrorDetail
from charter.schemas.migration_ops import MigrationStepError, Operation, OperationFactory
from charter.schemas.yaml_lines import YamlError, load_yaml, located

SCHEMA_ID = re.compile(r"^([a-z][a-z0-9]*(?:-[a-z0-9]+)*)\.v([1-9]\d*)$")
KEYS = {"content_type", "from", "to", "sunset", "description", "operations"}


class MigrationFileError(ConfigError):
    """A migration file that cannot be used; ``errors`` name the file, pointer and line."""

    type_slug = "migration-file"
    title = "Invalid migration file"


@dataclass(frozen=True)
class Step:
    name: str
    args: dict[str, Any]
    operation: Operation = field(compare=False, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {self.name: self.args}


@dataclass(frozen=True)
class Migration:
    file: str
    content_type: str
    from_id: str
    to_id: str
    steps: tuple[Step, ...]
    sunset: datetime | None = None
    description: str = ""

    @property
    def from_major(self) -> int:
        return int(self.from_id.rsplit(".v", 1)[1])

    @property
    def to_major(self) -> int:
        return int(self.to_id.rsplit(".v", 1)[1])

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "content_type": self.content_type,
            "from": self.from_id,
            "to": self.to_id,
            "sunset": self.sunset.isoformat() if self.sunset else None,
            "description": self.description,
            "operations": [s.to_dict() for s in self.steps],
        }


def operation_factories(pm: pluggy.PluginManager) -> dict[str, OperationFactory]:
    from charter.plugins import collect

    return collect(pm, "register_migration_operations")


def _sunset(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime.combine(value, time(0, 0), tzinfo=UTC)
    if isinstance(value, str):
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    raise ValueError(f"{value!r} is not a date")


def load_migration(path: Path, factories: dict[str, OperationFactory]) -> Migration:
    """Parse and check one migration file; MigrationFileError lists every problem with its line."""
    file = str(path)
    try:
        data, line_of = load_yaml(path)
    except YamlError as exc:
        raise MigrationFileError(detail=f"{file}: {exc}", errors=[exc.detail])
    errors: list[ErrorDetail] = []

    def err(ptr: str, message: str, keyword: str) -> None:
        errors.append(located(file, line_of, ptr, message, keyword))

    if not isinstance(data, dict):
        raise MigrationFileError(
            detail=f"{file}: a migration file is a mapping",
            errors=[located(file, line_of, "", "expected keys content_type, from, to, operations", "type")],
        )
    for key in sorted(set(data) - KEYS):
        err(f"/{key}", f"unknown key {key!r}; expected {', '.join(sorted(KEYS))}", "key")
    ids: dict[str, tuple[str, int] | None] = {}
    for key in ("from", "to"):
        value = data.get(key)
        m = SCHEMA_ID.match(value) if isinstance(value, str) else None
        if not m:
            err(f"/{key}", f"{key} must be a schema id such as 'page.v1', not {value!r}", key)
            ids[key] = None
        else:
            ids[key] = (m.group(1), int(m.group(2)))
    content_type = data.get("content_type")
    if not isinstance(content_type, str):
        to_id = ids.get("to")
        content_type = to_id[0] if to_id else None
        if content_type is None:
            err("/content_type", "content_type is required (e.g. 'page')", "content_type")
    if ids.get("from") and ids.get("to"):
        (fn, fm), (tn, tm) = ids["from"], ids["to"]  # type: ignore[misc]
        if content_type and (fn != content_type or tn != content_type):
            err("/to", f"from and to must both be majors of {content_type!r} ({content_type}.vN)", "to")
        if tm <= fm:
            err("/to", f"to ({data['to']}) must be a later major than from ({data['from']})", "to")
    sunset = None
    try:
        sunset = _sunset(data.get("sunset"))
    except ValueError as exc:
        err("/sunset", f"sunset must be a date such as 2027-06-30: {exc}", "sunset")
    description = data.get("description", "")
    if not isinstance(description, str):
        err("/description", "description must be a string", "description")
    steps: list[Step] = []
    ops = data.get("operations")
    if not isinstance(ops, list) or not ops:
        err("/operations", "operations must be a non-empty list, e.g. [{rename: {from: a, to: b}}]", "operations")
        ops = []
    for i, op in enumerate(ops):
        ptr = f"/operations/{i}"
        if not isinstance(op, dict) or len(op) != 1:
            err(ptr, "each operation is a mapping with exactly one key, e.g. {drop: {path: legacy}}", "operation")
            continue
        ((name, args),) = op.items()
        if name not in factories:
            err(f"{ptr}/{name}", f"unknown operation {name!r}; known: {', '.join(sorted(factories))}", "operation")
            continue
        if not isinstance(args, dict):
            err(f"{ptr}/{name}", f"{name} takes a mapping of arguments", "operation")
            continue
        try:
            steps.append(Step(str(name), args, factories[name](args)))
        except ValueError as exc:
            err(f"{ptr}/{name}", f"{name}: {exc}", "operation")
    if errors:
        raise MigrationFileError(detail=f"{len(errors)} problem(s) in {file}", errors=errors)
    assert isinstance(content_type, str)
    return Migration(file, content_type, data["from"], data["to"], tuple(steps), sunset, description)


def load_migrations(directory: Path, factories: dict[str, OperationFactory]) -> list[Migration]:
    """Every ``*.yaml``/``*.yml`` migration in ``directory`` (none when it does not exist)."""
    if not directory.is_dir():
        return []
    files = sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")])
    return [load_migration(f, factories) for f in files]


def migrate_data(migration: Migration, data: dict[str, Any], default_locale: str) -> dict[str, Any]:
    """A migrated deep copy of per-locale entry ``data``; MigrationStepError names the step."""
    out = copy.deepcopy(data)
    for locale, doc in out.items():
        if not isinstance(doc, dict):
            continue
        for i, step in enumerate(migration.steps):
            try:
                step.operation.apply(doc, locale == default_locale)
            except MigrationStepError as exc:
                raise MigrationStepError(f"operation {i + 1} ({step.name}) in locale {locale!r}: {exc}") from None
    return out
