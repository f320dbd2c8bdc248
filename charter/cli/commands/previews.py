"""``charter previews``: mint, list and revoke preview tokens (docs/preview.md).

The same actions as ``/v1/manage/previews`` (:mod:`charter.content.actions.preview`);
``charter releases preview RELEASE_ID`` is a shortcut for ``create --release``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, cast

import typer
from rich.console import Console
from rich.table import Table

from charter.cli.commands.actor import AsOption, cli_actor
from charter.cli.context import DemoOption, ProjectOption, open_runtime
from charter.cli.errors import fail

app = typer.Typer(no_args_is_help=True)
out = Console()
console = Console(stderr=True, soft_wrap=True)

TtlOption = Annotated[int, typer.Option(help="Lifetime in seconds (at most 604800, 7 days).", min=1)]
STATUSES = ("active", "revoked", "expired")


def mint(scope: str, target_id: str, ttl: int, as_: str | None, project: Path | None, demo: bool) -> None:
    """Issue a token, print it on stdout (``TOKEN=$(charter previews create …)``), its id on stderr."""
    from charter.content.actions.preview import issue_preview

    with open_runtime(project, demo) as rt:
        issued = issue_preview(rt, cli_actor(as_), scope, target_id, ttl)
    typer.echo(issued.token)
    console.print(
        f"preview token {issued.jti} for {scope} {target_id}, valid until {issued.claims.expires.isoformat()}"
        f" (revoke: charter previews revoke {issued.jti})",
        highlight=False,
    )


@app.command()
def create(
    entry: Annotated[str | None, typer.Option("--entry", help="Preview this entry's current draft.")] = None,
    release: Annotated[str | None, typer.Option("--release", help="Preview this release as it will publish.")] = None,
    ttl: TtlOption = 3600,
    as_: AsOption = None,
    project: ProjectOption = None,
    demo: DemoOption = False,
) -> None:
    """Print a new preview token (send it as Charter-Preview or ?preview=)."""
    if (entry is None) == (release is None):
        raise fail("give exactly one of --entry ENTRY_ID or --release RELEASE_ID", 2)
    scope, target = ("entry", entry) if entry is not None else ("release", release or "")
    mint(scope, target, ttl, as_, project, demo)


@app.command("list")
def list_(
    entry: Annotated[str | None, typer.Option("--entry", help="Only tokens for this entry.")] = None,
    release: Annotated[str | None, typer.Option("--release", help="Only tokens for this release.")] = None,
    status: Annotated[str | None, typer.Option(help="Only active, revoked or expired tokens.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many, newest first.", min=1, max=500)] = 100,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON, as GET /v1/manage/previews.")] = False,
    project: ProjectOption = None,
    demo: DemoOption = False,
) -> None:
    """List issued preview tokens, newest first (never the tokens themselves)."""
    from charter.auth.preview_register import Status, list_records

    if entry is not None and release is not None:
        raise fail("give --entry or --release, not both", 2)
    if status is not None and status not in STATUSES:
        raise fail(f"unknown status {status!r}; use one of {', '.join(STATUSES)}", 2)
    scope = "entry" if entry is not None else "release" if release is not None else None
    with open_runtime(project, demo) as rt, rt.read() as conn:
        found = list_records(
            conn, scope=scope, target_id=entry or release, status=cast("Status | None", status), limit=limit
        )
    if as_json:
        from charter.content.preview_api import PreviewTokenOut

        typer.echo(json.dumps([PreviewTokenOut.of(r).model_dump() for r in found], indent=2))
        return
    # No box and never squeezed: ids and targets are meant to be copied whole (into `revoke`).
    table = Table("id", "status", "scope", "target", "issued by", "issued (UTC)", "expires (UTC)", box=None)
    for r in found:
        state: str = r.status()
        if r.revoked_at is not None:
            state += f" {r.revoked_at:%Y-%m-%d %H:%M} by {r.revoked_by}"
        table.add_row(
            r.jti,
            state,
            r.scope,
            r.target_id,
            r.issued_by,
            f"{r.issued_at:%Y-%m-%d %H:%M}",
            f"{r.expires_at:%Y-%m-%d %H:%M}",
        )
    natural = out.measure(table, options=out.options.update(max_width=1000)).maximum
    Console(width=max(out.width, natural)).print(table)


@app.command()
def revoke(token_id: str, as_: AsOption = None, project: ProjectOption = None, demo: DemoOption = False) -> None:
    """Revoke one preview token by id: the delivery API refuses it from now on, on every instance."""
    from charter.content.actions.preview import revoke_preview

    with open_runtime(project, demo) as rt:
        record = revoke_preview(rt, cli_actor(as_), token_id)
    console.print(f"revoked preview token {record.jti} ({record.scope} {record.target_id})", highlight=False)
