"""``charter users``: admin users who sign in to ``/admin`` (create, list, set-role, set-password,
disable, enable). The password is prompted for (hidden, asked twice) on a terminal; without one it is
``$CHARTER_PASSWORD``, else the first line of stdin when something is piped, else (``create`` only) a
generated one printed once on stdout. It is never a command-line argument, which would land in shell
history."""

from __future__ import annotations

import os
import secrets
import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from charter.cli.context import DemoOption, ProjectOption, open_runtime
from charter.cli.errors import fail

app = typer.Typer(no_args_is_help=True)
console = Console()
err = Console(stderr=True)

PasswordStdin = Annotated[
    bool, typer.Option("--password-stdin", help="Read the password from the first line of stdin (for scripts).")
]


def _password(from_stdin: bool, generate: bool = False) -> tuple[str, bool]:
    """(password, generated?) from stdin, $CHARTER_PASSWORD, a prompt, or a generated one."""
    if from_stdin:
        line = sys.stdin.readline()
        if not line:
            raise fail("--password-stdin given but stdin is empty")
        return line.rstrip("\r\n"), False
    if env := os.environ.get("CHARTER_PASSWORD"):
        return env, False
    if sys.stdin.isatty():
        password: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
        return password, False
    line = sys.stdin.readline().rstrip("\r\n")
    if line:
        return line, False
    if not generate:
        raise fail("no terminal to prompt for a password on: pipe it on stdin or set CHARTER_PASSWORD")
    return secrets.token_urlsafe(12), True


def _find(rt: object, username: str) -> object:
    from charter.auth.users import find_user

    user = find_user(rt, username)  # type: ignore[arg-type]
    if user is None:
        raise fail(f"no user named {username!r}")
    return user


@app.command()
def create(
    username: Annotated[str, typer.Argument(help="Lowercase letters, digits, '.', '_' or '-'.")],
    role: Annotated[str, typer.Option(help="viewer, editor, publisher or admin.")] = "editor",
    name: Annotated[str | None, typer.Option("--name", help="Display name (default: the username).")] = None,
    password_stdin: PasswordStdin = False,
    project: ProjectOption = None,
    demo: DemoOption = False,
) -> None:
    """Create a user who can sign in to the web admin with the given role."""
    from charter.auth.roles import SYSTEM
    from charter.auth.users import check_password, create_user

    password, generated = _password(password_stdin, generate=True)
    check_password(password, username)
    with open_runtime(project, demo) as rt:
        user = create_user(rt, SYSTEM, username, password, role, name)
    if generated:
        typer.echo(password)
    shown = "; the generated password (printed on stdout) is shown only once" if generated else ""
    err.print(f"created {user.role.value} user {user.username!r} (id {user.id}){shown}; sign in at /admin/login")


@app.command("list")
def list_(project: ProjectOption = None, demo: DemoOption = False) -> None:
    """List users (never their password hashes)."""
    from charter.auth.users import list_users

    with open_runtime(project, demo) as rt:
        users = list_users(rt)
    table = Table("username", "name", "role", "created", "last sign-in", "state")
    for u in users:
        table.add_row(
            u.username,
            u.display_name,
            u.role.value,
            u.created_at.isoformat(timespec="seconds"),
            u.last_login_at.isoformat(timespec="seconds") if u.last_login_at else "never",
            "active" if u.active else "disabled",
        )
    console.print(table)


@app.command("set-role")
def set_role(
    username: str,
    role: Annotated[str, typer.Argument(help="viewer, editor, publisher or admin.")],
    project: ProjectOption = None,
    demo: DemoOption = False,
) -> None:
    """Change a user's role."""
    from charter.auth.roles import SYSTEM
    from charter.auth.users import update_user

    with open_runtime(project, demo) as rt:
        user = update_user(rt, SYSTEM, _find(rt, username).id, role=role)  # type: ignore[attr-defined]
    err.print(f"{user.username} is now {user.role.value}")


@app.command("set-password")
def set_password_(
    username: str, password_stdin: PasswordStdin = False, project: ProjectOption = None, demo: DemoOption = False
) -> None:
    """Set a user's password; every session of theirs ends."""
    from charter.auth.roles import SYSTEM
    from charter.auth.users import set_password

    password, _ = _password(password_stdin)
    with open_runtime(project, demo) as rt:
        set_password(rt, SYSTEM, _find(rt, username).id, password)  # type: ignore[attr-defined]
    err.print(f"password of {username} changed; their sessions ended")


def _toggle(username: str, disabled: bool, project: object, demo: bool) -> None:
    from charter.auth.roles import SYSTEM
    from charter.auth.users import update_user

    with open_runtime(project, demo) as rt:  # type: ignore[arg-type]
        update_user(rt, SYSTEM, _find(rt, username).id, disabled=disabled)  # type: ignore[attr-defined]
    err.print(f"{username} {'disabled; their sessions ended' if disabled else 'enabled'}")


@app.command()
def disable(username: str, project: ProjectOption = None, demo: DemoOption = False) -> None:
    """Disable a user: they can no longer sign in and their sessions end."""
    _toggle(username, True, project, demo)


@app.command()
def enable(username: str, project: ProjectOption = None, demo: DemoOption = False) -> None:
    """Enable a disabled user again."""
    _toggle(username, False, project, demo)
