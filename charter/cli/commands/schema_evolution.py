"""``charter schema diff | check | registry | migrate | rollback | migrations``: schema evolution.

Thin doors into :mod:`charter.schemas.compat`, :mod:`charter.schemas.releases` and
:mod:`charter.content.actions.migrate`; exit 1 when a check fails or input is bad.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from charter.cli.context import DemoOption, ProjectOption, open_runtime, settings_for
from charter.cli.errors import fail

app = typer.Typer(no_args_is_help=True)
console = Console()

JsonOption = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]
PolicyOption = Annotated[
    str | None,
    typer.Option(
        "--policy",
        help="Override each type's x-charter.policy: TOLERANT (default), BACKWARD, FORWARD, FULL, "
        "their _TRANSITIVE forms, or NONE.",
    ),
]
LEVEL_STYLE = {"major": "bold red", "minor": "yellow", "patch": "cyan", "none": "dim"}


def _changes_table(changes: list[dict[str, Any]], title: str) -> Table:
    table = Table("level", "breaks", "pointer", "change", title=title, title_justify="left", show_lines=False)
    for c in changes:
        breaks = "/".join(d for d, on in (("BACKWARD", c["breaks_backward"]), ("FORWARD", c["breaks_forward"])) if on)
        level = c["level"]
        table.add_row(f"[{LEVEL_STYLE[level]}]{level}[/]", breaks or "-", c["pointer"] or "/", c["message"])
    return table


@app.command()
def diff(
    old: Annotated[
        str, typer.Argument(help="Old schema: a file, or REF:path from git (e.g. main:content-types/page.schema.json).")
    ],
    new: Annotated[str, typer.Argument(help="New schema: a file or REF:path.")],
    policy: PolicyOption = None,
    as_json: JsonOption = False,
) -> None:
    """List every change from OLD to NEW with its JSON pointer, the directions it breaks and its
    semver level under the policy (default: NEW's x-charter.policy, else TOLERANT)."""
    from charter.schemas.compat import DEFAULT_POLICY, classify_release
    from charter.schemas.compat.baselines import read_schema_spec
    from charter.schemas.compat.diff import SchemaDiffError

    old_schema, old_label = read_schema_spec(old)
    new_schema, new_label = read_schema_spec(new)
    chosen = policy or str((new_schema.get("x-charter") or {}).get("policy", DEFAULT_POLICY))
    try:
        report = classify_release(old_schema, new_schema, chosen)
    except SchemaDiffError as exc:
        raise exc.in_file(old_label if exc.side == "old" else new_label)
    except ValueError as exc:
        raise fail(f"--policy: {exc!s}", 2)
    data = report.to_dict()
    if as_json:
        print(json.dumps(data, indent=2))
        return
    for note in report.notes:
        console.print(f"[dim]{note}[/]", highlight=False)
    if not report.changes:
        console.print(f"no changes between {old_label} and {new_label}")
        return
    console.print(_changes_table(data["changes"], f"{old_label} -> {new_label} (policy {report.policy})"))
    console.print(f"required bump: [{LEVEL_STYLE[report.required_bump]}]{report.required_bump}[/]")


@app.command()
def check(
    against: Annotated[
        str | None,
        typer.Option("--against", help="Compare with the content types at this git ref instead of the registry."),
    ] = None,
    content: Annotated[
        bool, typer.Option("--content", help="Also validate every stored entry against the new schemas (dry run).")
    ] = False,
    no_contracts: Annotated[bool, typer.Option("--no-contracts", help="Skip the static contract checks.")] = False,
    policy: PolicyOption = None,
    project: ProjectOption = None,
    demo: DemoOption = False,
    as_json: JsonOption = False,
) -> None:
    """Check every content type against its last release: changes and their levels, the declared
    version bump against the required one, registered consumer contracts, and with --content the
    stored entries. Exit 1 when anything fails."""
    from charter.content.schema_check import run_schema_check

    settings = settings_for(project, demo)
    if demo:
        # The demo's database is made on first use (as `charter serve --demo` does), so its
        # content types are released and its entries exist for --content.
        open_runtime(project, demo).close()
    try:
        report = run_schema_check(settings, against=against, content=content, contracts=not no_contracts, policy=policy)
    except ValueError as exc:
        raise fail(f"--policy: {exc!s}", 2)
    if as_json:
        print(json.dumps(report.to_dict(), indent=2, default=str))
    else:
        _print_check(report)
    if not report.ok:
        raise typer.Exit(1)


def _print_check(report: Any) -> None:
    console.print(f"baseline: {report.baseline}", highlight=False)
    for note in report.notes:
        console.print(f"[dim]{note}[/]", highlight=False)
    for t in report.types:
        style = {"failed": "bold red", "new": "cyan", "unchanged": "dim", "ok": "green"}[t.status]
        base = f"{t.baseline_version} -> " if t.baseline_version else ""
        console.print(
            f"[{style}]{t.status:9}[/] {t.name}  {base}{t.version}  policy {t.policy}  "
            f"declared {t.declared_bump}, required {t.required_bump}",
            highlight=False,
        )
        if t.changes:
            console.print(_changes_table([c.to_dict(t.policy) for c in t.changes], ""))
        for p in t.problems:
            console.print(f"  [red]✗[/] {p.message}", highlight=False)
        for note in t.notes:
            console.print(f"  [dim]{note}[/]", highlight=False)
    if report.contracts is not None:
        c = report.contracts
        console.print(
            f"contracts: {len(c.contracts)} file(s), {c.checked} expectation(s), {len(c.failures)} failure(s)",
            highlight=False,
        )
        for f in c.failures:
            tag = " (introduced by this change)" if f.introduced else ""
            console.print(f"  [red]✗[/] {f.describe()}{tag}", highlight=False)
    if report.content is not None:
        ct = report.content
        console.print(
            f"content: {ct.checked} revision(s) checked, {len(ct.failing_entries)} entr(ies) would break",
            highlight=False,
        )
        for p in ct.problems:
            where = f"{p.locale}{p.pointer}" if p.locale else p.pointer or "/"
            console.print(
                f"  [red]✗[/] {p.type} {p.slug or p.entry_id} ({p.which} revision {p.revision}) {where}: {p.message}",
                highlight=False,
            )
    for name, diff in report.type_diffs.items():
        console.print(f"TypeScript types of {name} (charter types generate):", highlight=False)
        for line in diff.splitlines():
            style = "green" if line.startswith("+") else "red" if line.startswith("-") else "dim"
            console.print(f"  [{style}]{escape(line)}[/]", highlight=False, soft_wrap=True)
    console.print("[green]schema check passed[/]" if report.ok else "[bold red]schema check failed[/]")


@app.command()
def registry(project: ProjectOption = None, demo: DemoOption = False, as_json: JsonOption = False) -> None:
    """The schema registry: every content type with its released versions."""
    from charter.schemas.releases import registry_status

    with open_runtime(project, demo) as rt:
        status = registry_status(rt)
    if as_json:
        print(json.dumps([s.to_dict() for s in status], indent=2))
        return
    table = Table("type", "domain", "policy", "current", "released versions", "drift")
    for s in status:
        versions = ", ".join(f"{r['version']}" for r in s.releases)
        table.add_row(s.name, s.domain, s.policy, f"{s.schema_id} {s.version}", versions, "yes" if s.drift else "")
    console.print(table)


@app.command()
def migrate(
    file: Annotated[Path, typer.Argument(help="A migration file (migrations/<type>.v<major>.yaml).", dir_okay=False)],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Report what would happen; write nothing.")] = False,
    project: ProjectOption = None,
    demo: DemoOption = False,
    as_json: JsonOption = False,
) -> None:
    """Migrate every entry of a type to its new major as new revisions (all or nothing)."""
    from charter.auth.roles import SYSTEM
    from charter.content.actions.migrate import apply_migration, plan_migration
    from charter.exceptions import ValidationFailed
    from charter.schemas.migrations import load_migration, operation_factories

    with open_runtime(project, demo) as rt:
        migration = load_migration(file, operation_factories(rt.plugins))
        if dry_run:
            plan = plan_migration(rt, migration)
            if as_json:
                print(json.dumps(plan.to_dict(), indent=2))
            else:
                _print_plan(plan.to_dict())
            if not plan.ok:
                raise typer.Exit(1)
            return
        try:
            run = apply_migration(rt, SYSTEM, migration)
        except ValidationFailed as exc:
            if as_json:
                print(json.dumps(exc.to_problem(), indent=2))
                raise typer.Exit(1)
            raise
    if as_json:
        print(json.dumps(run.to_dict(), indent=2))
    else:
        console.print(
            f"migration run {run.id}: {run.entry_count} {run.content_type} entries migrated "
            f"{run.from_schema_id} -> {run.to_schema_id}; roll back with `charter schema rollback {run.id}`",
            highlight=False,
        )


def _print_plan(plan: dict[str, Any]) -> None:
    m = plan["migration"]
    console.print(f"dry run of {m['file']}: {m['from']} -> {m['to']}", highlight=False)
    for e in plan["entries"]:
        label = e["slug"] or e["entry_id"]
        if e["status"] == "ok":
            console.print(f"  [green]ok[/]      {label}", highlight=False)
        elif e["status"] == "skipped":
            console.print(f"  [dim]skipped[/] {label}: {e['skipped']}", highlight=False)
        else:
            for err in e["errors"]:
                console.print(f"  [red]fails[/]   {label} {err['pointer'] or '/'}: {err['message']}", highlight=False)
    c = plan["counts"]
    console.print(f"{c['migrate']} would migrate, {c['fail']} fail, {c['skip']} skipped", highlight=False)


@app.command()
def rollback(
    run_id: Annotated[int, typer.Argument(help="The migration run id (see `charter schema migrations`).")],
    project: ProjectOption = None,
    demo: DemoOption = False,
) -> None:
    """Roll a migration run back: restore each entry's earlier content as new revisions."""
    from charter.auth.roles import SYSTEM
    from charter.content.actions.migrate import rollback_migration

    with open_runtime(project, demo) as rt:
        run = rollback_migration(rt, SYSTEM, run_id)
    console.print(
        f"rolled back run {run.id}: {run.entry_count} {run.content_type} entries restored to {run.from_schema_id}; "
        f"revert content-types/{run.content_type}.schema.json to {run.from_schema_id} too",
        highlight=False,
    )


@app.command()
def migrations(project: ProjectOption = None, demo: DemoOption = False, as_json: JsonOption = False) -> None:
    """Migration runs, newest first."""
    from charter.content.actions.migrate import list_runs

    with open_runtime(project, demo) as rt:
        runs = list_runs(rt)
    if as_json:
        print(json.dumps([r.to_dict() for r in runs], indent=2))
        return
    table = Table("run", "type", "from", "to", "entries", "status", "applied", "sunset")
    for r in runs:
        table.add_row(
            str(r.id),
            r.content_type,
            r.from_schema_id,
            r.to_schema_id,
            str(r.entry_count),
            r.status,
            r.applied_at.isoformat(timespec="seconds"),
            r.sunset.date().isoformat() if r.sunset else "",
        )
    console.print(table)
