"""``charter content``: import and export entries as JSON Lines."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from charter.cli.context import DemoOption, ProjectOption, open_runtime

app = typer.Typer(no_args_is_help=True)
console = Console(stderr=True)


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=False,
    )


@app.command("import")
def import_(
    file: Annotated[
        Path, typer.Argument(help="A JSONL file: {id?, type, status?, data} per line.", exists=True, dir_okay=False)
    ],
    project: ProjectOption = None,
    demo: DemoOption = False,
) -> None:
    """Import entries (create or update by id; publish those marked published). All or nothing."""
    from charter.auth.roles import SYSTEM
    from charter.content.transfer import import_entries, read_lines

    rows = read_lines(file)
    with open_runtime(project, demo) as rt, _progress() as progress:
        task = progress.add_task(f"importing {file.name}", total=len(rows))
        counts = import_entries(rt, SYSTEM, rows, lambda n: progress.advance(task, n), source=str(file))
    console.print(f"created {counts['created']}, updated {counts['updated']}, published {counts['published']}")


@app.command("export")
def export(
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Output file (default: stdout).")] = None,
    type_name: Annotated[str | None, typer.Option("--type", help="Only this content type.")] = None,
    source: Annotated[
        str | None,
        typer.Option(
            "--from",
            help="Export the published content of another CMS ([charter.sources.<name>]: directus, strapi) "
            "instead of Charter's store, ready for `charter content import`.",
        ),
    ] = None,
    project: ProjectOption = None,
    demo: DemoOption = False,
) -> None:
    """Export every live entry's current revision as JSONL (or, with --from, another CMS's content)."""
    from charter.content.transfer import export_entries

    if source is not None:
        _export_from(source, out, type_name, project, demo)
        return
    with open_runtime(project, demo) as rt:
        if out is None:
            n = export_entries(rt, sys.stdout, type_name)
        else:
            tmp = out.with_suffix(out.suffix + ".tmp")
            with tmp.open("w", encoding="utf-8") as fh, _progress() as progress:
                task = progress.add_task(f"exporting to {out.name}", total=None)
                n = export_entries(rt, fh, type_name, lambda k: progress.advance(task, k))
            tmp.replace(out)
    console.print(f"exported {n} entries")


def _export_from(source: str, out: Path | None, type_name: str | None, project: Path | None, demo: bool) -> None:
    from charter.delivery.source_export import export_from_source

    with open_runtime(project, demo) as rt:
        if out is None:
            counts = export_from_source(rt, source, sys.stdout, type_name)
        else:
            tmp = out.with_suffix(out.suffix + ".tmp")
            with tmp.open("w", encoding="utf-8") as fh:
                counts = export_from_source(rt, source, fh, type_name)
            tmp.replace(out)
    moved = ", ".join(f"{n} {t}" for t, n in counts.exported.items())
    console.print(f"exported from {source}: {moved or 'nothing'}; not exported: {len(counts.skipped)}")
    for why in counts.skipped:
        console.print(f"  skipped {why}", highlight=False, soft_wrap=True)
