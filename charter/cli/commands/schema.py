"""``charter schema``: lint content types, import them from another CMS (and, from schema evolution,
diff and check)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from charter.cli.commands import schema_evolution
from charter.cli.context import DemoOption, ProjectOption, settings_for

app = typer.Typer(no_args_is_help=True)
console = Console()
app.registered_commands.extend(schema_evolution.app.registered_commands)


@app.command()
def validate(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="Schema files or folders (default: content-types/).")
    ] = None,
    project: ProjectOption = None,
    demo: DemoOption = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print problems as JSON.")] = False,
) -> None:
    """Lint content-type files: JSON Schema validity, $id and version, locale rules, intents."""
    from charter.config import find_project
    from charter.schemas.lint import lint_directory, lint_file

    # Files given outside any project are linted with the built-in intents only.
    outside = bool(paths) and not (project or demo or os.environ.get("CHARTER_PROJECT") or find_project())
    intents = () if outside else tuple(settings_for(project, demo).intents)
    targets = paths or [settings_for(project, demo).content_types_dir]
    types, errors = [], []
    for target in targets:
        if target.is_dir():
            found, errs = lint_directory(target, intents)
            types.extend(found)
            errors.extend(errs)
        else:
            ct, errs = lint_file(target, intents)
            errors.extend(errs)
            if ct:
                types.append(ct)
    if as_json:
        print(json.dumps({"valid": [t.schema_id for t in types], "errors": [e.to_dict() for e in errors]}, indent=2))
    else:
        for ct in types:
            console.print(
                f"[green]ok[/]     {_shown(ct.path)}  {ct.schema_id} {ct.version}", highlight=False, soft_wrap=True
            )
        # One problem per line, `file#pointer: message`, never truncated (editors and CI annotate these).
        for e in errors:
            where = f"{_shown(e.file)}#{e.pointer}" if e.file else e.pointer or "/"
            console.print(f"[red]error[/]  {where}: {e.message}", highlight=False, soft_wrap=True, markup=True)
        if errors:
            console.print(f"{len(errors)} problem(s) in {len({e.file for e in errors})} file(s)", highlight=False)
    if errors:
        raise typer.Exit(1)


@app.command("import")
def import_(
    vendor: Annotated[
        str,
        typer.Option(
            "--from", help="The CMS whose models to read: directus, strapi or wagtail (inferred from its live pages)."
        ),
    ],
    out: Annotated[
        Path | None, typer.Option("--out", help="Write the schemas here instead of the project's content-types/.")
    ] = None,
    project: ProjectOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Write Charter content types from a vendor CMS's models ([charter.sources.<vendor>] in charter.toml),
    so a model change in the vendor shows in `git diff` and `charter schema check` (docs/sources.md)."""
    from charter.cli.context import open_runtime
    from charter.delivery.schema_import import import_content_types

    with open_runtime(project) as rt:
        done = import_content_types(rt, vendor, out)
    if as_json:
        rows = [
            {
                "type": d.name,
                "path": str(d.path),
                "changed": d.changed,
                "added": d.added,
                "removed": d.removed,
                "inferred_from_pages": d.inferred_from_pages,
                "kept": d.kept,
                "skipped": d.skipped,
            }
            for d in done
        ]
        print(json.dumps(rows, indent=2))
        return
    for d in done:
        if d.skipped:
            console.print(f"{'skipped':9} {d.name}: {d.skipped}", highlight=False, soft_wrap=True)
            continue
        what = "changed" if d.changed else "unchanged"
        extra = "".join(
            [
                f", added {', '.join(d.added)}" if d.added else "",
                f", removed {', '.join(d.removed)}" if d.removed else "",
                f", inferred from {d.inferred_from_pages} live page(s), not read from the model"
                if d.inferred_from_pages is not None
                else "",
            ]
        )
        console.print(f"{what:9} {_shown(d.path)}  {d.name}{extra}", highlight=False, soft_wrap=True)
    console.print("next: `charter schema check` says which version bump the changes need", highlight=False)


def _shown(path: object) -> str:
    """A path relative to the working folder when it is inside it."""
    p = Path(str(path))
    try:
        return str(p.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(p)
