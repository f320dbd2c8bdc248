"""``charter assets``: upload and list media assets (the same actions as ``/v1/manage/assets``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from charter.cli.commands.actor import AsOption, cli_actor
from charter.cli.context import DemoOption, ProjectOption, open_runtime
from charter.cli.errors import fail

app = typer.Typer(no_args_is_help=True)
out = Console()
console = Console(stderr=True)


@app.command("list")
def list_(
    q: Annotated[str | None, typer.Option(help="Part of the file name.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=200)] = 50,
    project: ProjectOption = None,
    demo: DemoOption = False,
) -> None:
    """List assets, newest first."""
    from charter.assets.actions import list_assets

    with open_runtime(project, demo) as rt, rt.read() as conn:
        found = list_assets(conn, q=q, limit=limit)
    table = Table("id", "file", "type", "size", "alt", "version")
    for a in found:
        size = f"{a.width}×{a.height}" if a.width else ""
        table.add_row(a.id, a.filename, a.media_type, size, a.alt_for(None) or "", str(a.version))
    out.print(table)


@app.command()
def upload(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="The file to upload.")],
    alt: Annotated[str | None, typer.Option(help="Alt text (in --locale).")] = None,
    locale: Annotated[str, typer.Option(help="The locale of --alt.")] = "en",
    decorative: Annotated[bool, typer.Option(help="A decorative image: no alt text.")] = False,
    as_: AsOption = None,
    project: ProjectOption = None,
    demo: DemoOption = False,
) -> None:
    """Upload a file (checked from its bytes, like the API); prints the asset's id."""
    from charter.assets.actions import upload_asset
    from charter.assets.settings import asset_settings

    meta: dict[str, object] = {"decorative": decorative}
    if alt:
        meta["alt"] = {locale: alt}
    with open_runtime(project, demo) as rt:
        limit = asset_settings(rt.settings).max_upload_bytes
        if file.stat().st_size > limit:
            raise fail(f"{file} is larger than max_upload_bytes ({limit})", 1)
        asset, created = upload_asset(rt, cli_actor(as_), file.read_bytes(), file.name, meta)
    typer.echo(asset.id)
    note = "uploaded" if created else "already in the library (same bytes)"
    console.print(f"{asset.filename}: {asset.media_type} {asset.width}×{asset.height}, {note}; {asset.path}")
