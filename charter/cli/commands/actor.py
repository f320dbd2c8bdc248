"""Who a CLI command acts as: ``--as NAME`` (default: the login name), recorded in the audit log."""

from __future__ import annotations

import getpass
from typing import Annotated

import typer

from charter.auth.roles import Actor, Role

AsOption = Annotated[
    str | None,
    typer.Option("--as", help="Who is acting, for the audit log and approval rules (default: your login name)."),
]


def cli_actor(name: str | None) -> Actor:
    """An admin-role actor of kind ``cli``: the CLI is run by someone with access to the project's
    database, so it may do anything, but approval policies (no self-approval, distinct
    approvers) still apply to the name given."""
    try:
        who = name or getpass.getuser()
    except (KeyError, OSError):
        who = "cli"
    return Actor(name=who, role=Role.ADMIN, kind="cli")
