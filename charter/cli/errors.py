"""Library errors become clean CLI errors: a message on stderr and exit 1 (bad input) or 2 (usage)."""

from __future__ import annotations

import sys

import click
import typer
from rich.console import Console
from rich.markup import escape
from typer._click import exceptions as typer_click

from charter.exceptions import CharterError

err_console = Console(stderr=True, soft_wrap=True)


def fail(message: str, code: int = 1) -> typer.Exit:
    err_console.print(f"[bold red]error:[/] {message}", highlight=False)
    return typer.Exit(code)


# typer 0.29 runs on its own vendored click: its usage errors are not ``click``'s classes.
_USAGE_ERRORS = (click.exceptions.UsageError, typer_click.UsageError)
_ABORTS = (click.exceptions.Abort, typer.Abort)


def run_cli(app: typer.Typer, argv: list[str]) -> None:
    """Run ``app`` as ``charter``: a usage mistake is Typer's message and exit 2; a CharterError is
    one ``error:`` line plus one line per problem (``file#pointer: message``), exit 1. Logs go to
    stderr at WARNING, so a command's stdout stays machine-readable (``TOKEN=$(charter tokens create)``)."""
    from charter.observability.logging import ensure_logging

    ensure_logging("WARNING", json=False)
    try:
        # With standalone_mode=False click returns the code of a raised Exit instead of exiting.
        code = app(argv, standalone_mode=False, prog_name="charter")
        if isinstance(code, int) and code:
            sys.exit(code)
    except _USAGE_ERRORS as exc:
        exc.show()
        sys.exit(2)
    except _ABORTS:
        err_console.print("aborted")
        sys.exit(1)
    except (typer.Exit, click.exceptions.Exit) as exc:
        sys.exit(exc.exit_code)
    except CharterError as exc:
        err_console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False)
        for e in exc.errors:
            where = f"{e.file}#{e.pointer}" if e.file else e.pointer or "/"
            err_console.print(f"  {where}: {e.message}", highlight=False, markup=False)
        sys.exit(1)
