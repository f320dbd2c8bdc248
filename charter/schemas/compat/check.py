"""``charter schema check``: every content type in the working tree against its last release.

For each type the check lists every change with its pointer and level under the type's policy,
compares the version bump the file declares with the bump the changes require, and explains each
shortfall change by change. A major bump must come with a new ``$id`` major (``page.v2``). With a
TRANSITIVE policy the new version is also compared with every earlier release of its major.

:func:`check_types` is pure (schemas in, report out); :func:`registry_state` reads the released
versions from a project's database. :func:`charter.content.schema_check.run_schema_check` runs the
whole check for a project: it adds the consumer contracts and, on request, the stored content as
evidence (:mod:`charter.schemas.compat.tolerance`), the static contract checks and a dry run of
every stored entry against the new schemas.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from charter.schemas.compat.baselines import Released
from charter.schemas.compat.diff import SchemaDiffError, canonical, diff_schemas
from charter.schemas.compat.model import DEFAULT_POLICY, POLICIES, Change, ReleaseReport, check_policy, max_level
from charter.schemas.compat.semver import Version, bump_between, bump_rank

if TYPE_CHECKING:
    from charter.config import Settings
    from charter.schemas.registry import ContentType, Registry


@dataclass
class Problem:
    """One reason the check fails, for people and for machines."""

    kind: str
    message: str
    changes: list[Change] = field(default_factory=list)

    def to_dict(self, policy: str) -> dict[str, Any]:
        return {"kind": self.kind, "message": self.message, "changes": [c.to_dict(policy) for c in self.changes]}


@dataclass
class TypeCheck:
    """The result for one content type."""

    name: str
    schema_id: str
    version: str
    policy: str
    domain: str
    file: str | None
    baseline_version: str | None = None
    baseline_schema_id: str | None = None
    baseline_source: str | None = None
    declared_bump: str = "new"
    report: ReleaseReport | None = None
    #: For TRANSITIVE policies: (earlier version, its report) for every earlier release compared.
    transitive: list[tuple[str, ReleaseReport]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def changes(self) -> list[Change]:
        return self.report.changes if self.report else []

    @property
    def required_bump(self) -> str:
        levels = [self.report.required_bump] if self.report else []
        levels += [r.required_bump for _, r in self.transitive]
        return max_level(levels) if levels else "none"

    @property
    def status(self) -> str:
        """new, unchanged, ok or failed."""
        if self.problems:
            return "failed"
        if self.baseline_version is None:
            return "new"
        return "unchanged" if not self.changes else "ok"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "schema_id": self.schema_id,
            "version": self.version,
            "policy": self.policy,
            "domain": self.domain,
            "file": self.file,
            "status": self.status,
            "baseline": {
                "version": self.baseline_version,
                "schema_id": self.baseline_schema_id,
                "source": self.baseline_source,
            },
            "declared_bump": self.declared_bump,
            "required_bump": self.required_bump,
            "changes": [c.to_dict(self.policy) for c in self.changes],
            "transitive": [
                {
                    "version": v,
                    "required_bump": r.required_bump,
                    "breaking": [c.to_dict(self.policy) for c in r.breaking],
                }
                for v, r in self.transitive
            ],
            "problems": [p.to_dict(self.policy) for p in self.problems],
            "notes": self.notes,
        }


def _explain(changes: list[Change], policy: str, level: str) -> list[Change]:
    return [c for c in changes if c.level(policy) == level]


def _why(change: Change, policy: str) -> str:
    level = change.level(policy)
    if level == "major":
        return f"breaks {change.breaks} compatibility, which policy {policy} protects"
    if level == "minor":
        return f"changes what content may hold without breaking policy {policy}"
    return "documentation only"


def check_type(
    name: str,
    schema: dict[str, Any],
    history: list[Released],
    *,
    file: str | None = None,
    policy: str | None = None,
    rolled_back: set[str] | None = None,
    evidence: Callable[[list[Change]], list[Change]] | None = None,
) -> TypeCheck:
    """Check one content type's schema against its released ``history`` (oldest first).

    ``evidence`` refines the changes before they are judged (consumer contracts, stored
    content: see :mod:`charter.schemas.compat.tolerance`).

    ``rolled_back``: later majors (``page.v2``) whose migration from this schema's major was
    rolled back; returning to an exact earlier release of this major is then allowed."""
    raw_opts = schema.get("x-charter")
    opts: dict[str, Any] = raw_opts if isinstance(raw_opts, dict) else {}
    pol = check_policy(policy or str(opts.get("policy", DEFAULT_POLICY)))
    result = TypeCheck(
        name=name,
        schema_id=str(schema.get("$id", "")),
        version=str(schema.get("version", "")),
        policy=pol,
        domain=str(opts.get("domain", name)),
        file=file,
    )
    new_v = Version.parse(result.version)
    earlier = [r for r in history if r.semver < new_v or r.version == result.version]
    later = [r for r in history if r.semver > new_v]
    same = next((r for r in history if r.version == result.version), None)
    if (
        later
        and same is not None
        and canonical(same.schema) == canonical(schema)
        and all(r.schema_id in (rolled_back or set()) for r in later)
    ):
        result.notes.append(
            f"back on the released {result.version} after rolling back the migration to "
            f"{', '.join(sorted({r.schema_id for r in later}))}"
        )
        later = []
    if later:
        result.problems.append(
            Problem(
                "downgrade",
                f"version {result.version} is lower than the released {later[-1].version}: versions only go up",
            )
        )
    if not earlier:
        if not later:
            result.notes.append("first release of this content type: nothing to compare with")
        return result
    last = earlier[-1]
    result.baseline_version, result.baseline_schema_id, result.baseline_source = (
        last.version,
        last.schema_id,
        last.source,
    )
    try:
        changes = diff_schemas(last.schema, schema)
        changes = evidence(changes) if evidence else changes
    except SchemaDiffError as exc:
        raise exc.in_file(file or name) if exc.side == "new" else exc.in_file(f"{name} {last.version} ({last.source})")
    report = ReleaseReport(pol, changes, last.version, result.version)
    result.report = report
    declared = bump_between(last.semver, new_v)
    result.declared_bump = declared
    required = report.required_bump
    if declared == "none":
        if changes:
            result.problems.append(
                Problem(
                    "not-bumped",
                    f"the schema changed but its version is still {result.version}: "
                    f"bump it to at least a {required} release ({_next(last.semver, required)})",
                    [c for c in changes if c.level(pol) == required],
                )
            )
    elif bump_rank(declared) < bump_rank(required):
        needing = _explain(changes, pol, required)
        lines = "; ".join(f"{c.pointer or '/'}: {c.message} ({_why(c, pol)})" for c in needing)
        result.problems.append(
            Problem(
                "bump-too-small",
                f"{last.version} -> {result.version} is a {declared} bump, but {len(needing)} change(s) require a "
                f"{required} bump ({_next(last.semver, required)}) under policy {pol}: {lines}",
                needing,
            )
        )
    _check_id_major(result, last, new_v, declared)
    _, _, transitive = POLICIES[pol]
    if transitive and declared != "major":
        same_major = [r for r in earlier[:-1] if r.semver.major == new_v.major]
        for older in same_major:
            try:
                older_changes = diff_schemas(older.schema, schema)
                older_changes = evidence(older_changes) if evidence else older_changes
                older_report = ReleaseReport(pol, older_changes, older.version, result.version)
            except SchemaDiffError as exc:
                raise exc.in_file(f"{name} {older.version} ({older.source})")
            result.transitive.append((older.version, older_report))
            if older_report.breaking:
                lines = "; ".join(f"{c.pointer or '/'}: {c.message}" for c in older_report.breaking)
                result.problems.append(
                    Problem(
                        "transitive",
                        f"policy {pol} compares with every release of major {new_v.major}: {result.version} breaks "
                        f"compatibility with {older.version}: {lines}",
                        older_report.breaking,
                    )
                )
    if declared == "major" and required != "major" and changes:
        result.notes.append(f"a major bump although the changes only require {required}")
    return result


def _check_id_major(result: TypeCheck, last: Released, new_v: Version, declared: str) -> None:
    expected = f"{result.name}.v{new_v.major}"
    if result.schema_id != expected:
        result.problems.append(
            Problem("id-major", f"$id is {result.schema_id!r} but version {result.version} needs $id {expected!r}")
        )
    elif declared == "major" and last.schema_id == result.schema_id:
        result.problems.append(
            Problem("id-major", f"a major release needs a new $id major: {last.schema_id} -> {expected}")
        )


def _next(v: Version, bump: str) -> str:
    if bump == "major":
        return f"{v.major + 1}.0.0"
    if bump == "minor":
        return f"{v.major}.{v.minor + 1}.0"
    return f"{v.major}.{v.minor}.{v.patch + 1}"


def check_types(
    registry: Registry,
    history: dict[str, list[Released]],
    *,
    policy: str | None = None,
    rolled_back: dict[str, set[str]] | None = None,
    evidence: dict[str, Callable[[list[Change]], list[Change]]] | None = None,
) -> list[TypeCheck]:
    """Check every content type of ``registry`` against ``history`` (name -> released versions);
    ``evidence``: name -> the refinement :func:`check_type` applies to that type's changes."""
    out = []
    for ct in sorted(registry, key=lambda t: t.name):
        out.append(
            check_type(
                ct.name,
                ct.schema,
                history.get(ct.name, []),
                file=_file(ct),
                policy=policy,
                rolled_back=(rolled_back or {}).get(ct.schema_id),
                evidence=(evidence or {}).get(ct.name),
            )
        )
    return out


def _file(ct: ContentType) -> str | None:
    return str(ct.path) if ct.path else None


def pinned_schemas(history: dict[str, list[Released]]) -> dict[str, dict[str, Any]]:
    """schema id -> the last released schema of that major (what a pinning consumer receives)."""
    out: dict[str, dict[str, Any]] = {}
    for versions in history.values():
        for r in versions:  # oldest first: the last one of each major wins
            out[r.schema_id] = r.schema
    return out


def registry_history(settings: Settings) -> dict[str, list[Released]]:
    """The released versions in the project's registry database (empty when there is none)."""
    return registry_state(settings)[0]


def registry_state(settings: Settings) -> tuple[dict[str, list[Released]], dict[str, set[str]]]:
    """The released versions and the rolled-back majors in the project's registry database (both
    empty when there is none)."""
    from pathlib import Path

    from charter.db.engine import make_engine
    from charter.schemas.compat.baselines import registry_history, rolled_back_majors

    url = settings.resolved_database_url()
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        return {}, {}
    engine = make_engine(url)
    try:
        return registry_history(engine), rolled_back_majors(engine)
    finally:
        engine.dispose()
