"""``charter tokens``: API tokens (create, list, revoke), plus the design-token commands."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from charter.cli.commands import design_tokens
from charter.cli.context import DemoOption, ProjectOption, open_runtime

app = typer.Typer(no_args_is_help=True)
console = Console()
app.registered_commands.extend(design_tokens.app.registered_commands)


@app.command()
def create(
    role: Annotated[str, typer.Option(help="viewer, editor, publisher or admin.")] = "editor",
    name: Annotated[str, typer.Option(help="What the token is for.")] = "cli",
    project: ProjectOption = None,
    demo: DemoOption = False,
) -> None:
    """Create an API token and print it once (it is stored only as a hash)."""
    from charter.auth.roles import SYSTEM
    from charter.auth.tokens import create_token

    with open_runtime(project, demo) as rt:
        secret, info = create_token(rt, SYSTEM, name, role)
    typer.echo(secret)
    Console(stderr=True).print(
        f"created {info.role.value} token {info.name!r} (id {info.id}); it will not be shown again"
    )


@app.command("list")
def list_(project: ProjectOption = None, demo: DemoOption = False) -> None:
    """List API tokens (never their secrets)."""
    from charter.auth.tokens import list_tokens

    with open_runtime(project, demo) as rt:
        tokens = list_tokens(rt)
    table = Table("id", "name", "role", "prefix", "created", "revoked")
    for t in tokens:
        table.add_row(
            t.id,
            t.name,
            t.role.value,
            t.prefix,
            t.created_at.isoformat(timespec="seconds"),
            t.revoked_at.isoformat(timespec="seconds") if t.revoked_at else "",
        )
    console.print(table)


@app.command()
def revoke(token_id: str, project: ProjectOption = None, demo: DemoOption = False) -> None:
    """Revoke an API token by id."""
    from charter.auth.roles import SYSTEM
    from charter.auth.tokens import revoke_token

    with open_runtime(project, demo) as rt:
        revoke_token(rt, SYSTEM, token_id)
    console.print(f"revoked {token_id}")
