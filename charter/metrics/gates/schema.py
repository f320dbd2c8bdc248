"""Gate ``schema``: content types lint clean, and every type passes the schema-evolution check
against its last release (the registry, or ``--base-ref`` in git): each change classified, the
declared semver bump at least the required one.

Domain functions: ``charter.schemas.lint:lint_directory`` and
``charter.content.schema_check:run_schema_check`` (contracts run in their own gate).
"""

from __future__ import annotations

from charter.metrics.gates.base import CIContext, GateResult, domain

NAME = "schema"
TITLE = "Schema check"


def run(ctx: CIContext) -> GateResult:
    folder = ctx.settings.content_types_dir
    if not folder.is_dir():
        return GateResult(NAME, TITLE, "not_applicable", f"no {folder.name}/ folder in the project")
    with domain("charter.schemas"):
        from charter.schemas.lint import lint_directory
    types, errors = lint_directory(folder, tuple(ctx.settings.intents))
    if errors:
        details = [f"{e.file or ''}#{e.pointer or '/'}: {e.message}" for e in errors]
        return GateResult(NAME, TITLE, "failed", f"{len(errors)} lint problem(s) in content types", details)
    with domain("charter.content"):
        from charter.content.schema_check import run_schema_check
    report = run_schema_check(ctx.settings, against=ctx.base_ref, contracts=False)
    details = []
    for t in report.types:
        base = f"{t.baseline_version} → " if t.baseline_version else ""
        details += [f"{t.name} {base}{t.version}: {p.message}" for p in t.problems]
    statuses = [t.status for t in report.types]
    summary = f"{len(types)} content type(s) against {report.baseline}: " + ", ".join(
        f"{statuses.count(s)} {s}" for s in ("ok", "new", "unchanged", "failed") if statuses.count(s)
    )
    return GateResult(NAME, TITLE, "passed" if report.ok else "failed", summary, details, report.to_dict())
