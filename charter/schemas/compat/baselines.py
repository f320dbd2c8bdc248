"""Where the last released versions of content types come from: the schema registry in the
database (what a server has released) or a git ref (what a branch had).

Both give, per content-type name, every released version in semver order, oldest first, so a
check can compare with the last one (and, for TRANSITIVE policies, with all of them).
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from charter.exceptions import BadRequest, ErrorDetail, SchemaFileError
from charter.schemas.compat.semver import SemverError, Version


@dataclass(frozen=True)
class Released:
    """One released version of a content type."""

    name: str
    schema_id: str
    version: str
    schema: dict[str, Any]
    #: ``registry`` or ``git:<ref>`` (with the commit for history from git).
    source: str

    @property
    def semver(self) -> Version:
        return Version.parse(self.version)


def _ordered(items: list[Released]) -> list[Released]:
    by_version: dict[str, Released] = {}
    for item in items:
        by_version.setdefault(item.version, item)
    out = []
    for item in by_version.values():
        try:
            item.semver  # noqa: B018 - skip versions that are not semver
        except SemverError:
            continue
        out.append(item)
    return sorted(out, key=lambda r: r.semver)


def registry_history(engine: sa.Engine) -> dict[str, list[Released]]:
    """Every version recorded in the ``content_types`` table, by name. Empty when the database
    has no registry yet (never started); nothing is created or migrated."""
    if not sa.inspect(engine).has_table("content_types"):
        return {}
    from charter.db.tables import content_types

    with engine.connect() as conn:
        rows = conn.execute(sa.select(content_types).order_by(content_types.c.id)).all()
    grouped: dict[str, list[Released]] = {}
    for r in rows:
        grouped.setdefault(r.name, []).append(Released(r.name, r.schema_id, r.version, r.schema, "registry"))
    return {name: _ordered(items) for name, items in grouped.items()}


def rolled_back_majors(engine: sa.Engine) -> dict[str, set[str]]:
    """from schema id -> the later majors whose migration from it was rolled back (and not
    applied again since): a working tree back on the old major is a rollback, not a downgrade."""
    if not sa.inspect(engine).has_table("schema_migrations"):
        return {}
    from charter.schemas.tables import schema_migrations as sm

    latest: dict[tuple[str, str], str] = {}
    with engine.connect() as conn:
        for r in conn.execute(sa.select(sm.c.from_schema_id, sm.c.to_schema_id, sm.c.status).order_by(sm.c.id)):
            latest[(r.from_schema_id, r.to_schema_id)] = r.status
    out: dict[str, set[str]] = {}
    for (old, new), status in latest.items():
        if status == "rolled_back":
            out.setdefault(old, set()).add(new)
    return out


def _git(directory: Path, *args: str) -> str:
    try:
        proc = subprocess.run(
            ["git", "-C", str(directory), *args], capture_output=True, text=True, check=False, timeout=60
        )
    except FileNotFoundError:
        raise BadRequest("git is not installed; install it or compare with the registry (omit --against)")
    if proc.returncode != 0:
        raise BadRequest(f"git {' '.join(args)} failed in {directory}: {proc.stderr.strip() or proc.stdout.strip()}")
    return proc.stdout


def check_git_ref(directory: Path, ref: str) -> str:
    """The commit ``ref`` names, or a clear BadRequest (not a repository, unknown ref)."""
    if ref.startswith("-"):
        raise BadRequest(f"{ref!r} is not a git ref")
    _git(directory, "rev-parse", "--git-dir")  # a clear error outside a repository
    proc = subprocess.run(
        ["git", "-C", str(directory), "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    if proc.returncode != 0 or not proc.stdout.strip():
        raise BadRequest(f"unknown git ref {ref!r} in {directory}")
    return proc.stdout.strip()


def _parse(text: str, label: str) -> dict[str, Any] | None:
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None


def git_history(content_types_dir: Path, ref: str, names: list[str], *, transitive: bool) -> dict[str, list[Released]]:
    """The versions of ``<name>.schema.json`` at ``ref`` (and, with ``transitive``, at every
    earlier commit that touched the file). A file absent at ``ref`` is a new content type."""
    check_git_ref(content_types_dir, ref)
    out: dict[str, list[Released]] = {}
    for name in names:
        filename = f"{name}.schema.json"
        commits = (
            [c for c in _git(content_types_dir, "log", "--format=%H", ref, "--", filename).split() if c]
            if transitive
            else [ref]
        )
        found: list[Released] = []
        for commit in commits:
            proc = subprocess.run(
                ["git", "-C", str(content_types_dir), "show", f"{commit}:./{filename}"],
                capture_output=True,
                text=True,
                check=False,
                timeout=60,
            )
            if proc.returncode != 0:
                continue  # the file did not exist there
            schema = _parse(proc.stdout, f"{commit}:{filename}")
            if schema is None or not isinstance(schema.get("version"), str):
                if commit == ref:
                    raise SchemaFileError(
                        detail=f"{ref}:{filename} is not a valid content-type file",
                        errors=[ErrorDetail("", "not a JSON object with a version", None, f"{ref}:{filename}")],
                    )
                continue
            label = f"git:{ref}" if commit == ref else f"git:{commit[:12]}"
            found.append(Released(name, str(schema.get("$id", "")), schema["version"], schema, label))
        if found:
            out[name] = _ordered(found)
    return out


def read_schema_spec(spec: str, cwd: Path | None = None) -> tuple[dict[str, Any], str]:
    """A schema named by a file path or a git ``REF:path`` (path relative to ``cwd``).
    Raises SchemaFileError naming the file for unreadable, non-JSON or invalid JSON Schema."""
    from jsonschema import Draft7Validator, Draft202012Validator
    from jsonschema.validators import validator_for

    from charter.schemas.compat.diff.drafts import draft_of

    base = cwd or Path.cwd()
    path = Path(spec)
    if not path.is_absolute():
        path = base / path
    if path.exists():
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise SchemaFileError(detail=f"cannot read {spec}: {exc}")
        label = spec
    elif ":" in spec:
        ref, _, rel = spec.partition(":")
        check_git_ref(base, ref)
        text = _git(base, "show", f"{ref}:./{rel}" if not rel.startswith("/") else f"{ref}:{rel[1:]}")
        label = spec
    else:
        raise SchemaFileError(detail=f"{spec}: no such file (use a path or REF:path)")
    try:
        schema = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SchemaFileError(
            detail=f"{label} is not valid JSON",
            errors=[ErrorDetail("", f"line {exc.lineno} column {exc.colno}: {exc.msg}", "json", label)],
        )
    if not isinstance(schema, dict):
        raise SchemaFileError(
            detail=f"{label} is not a schema", errors=[ErrorDetail("", "a schema must be a JSON object", "type", label)]
        )
    draft = draft_of(schema)
    meta = validator_for(schema, default=Draft7Validator) if draft else Draft202012Validator
    problems: dict[tuple[str, str], ErrorDetail] = {}
    for e in meta(meta.META_SCHEMA).iter_errors(schema):
        # The 2020-12 meta-schema reaches a keyword through several vocabularies: one line each.
        where = "".join(f"/{p}" for p in e.absolute_path)
        problems.setdefault(
            (where, e.message), ErrorDetail(where, f"invalid JSON Schema: {e.message}", "schema", label)
        )
    if problems:
        name = f"{draft} (read as such)" if draft else "2020-12"
        raise SchemaFileError(detail=f"{label} is not a valid JSON Schema {name} document", errors=[*problems.values()])
    return schema, label
