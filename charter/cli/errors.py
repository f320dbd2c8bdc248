"""Library errors become clean CLI errors: a message on stderr and exit 1 (bad input) or 2 (usage)."""

from __future__ import annotations

import sys

import click
import typer
from rich.console import Console
from typer._click import exceptions as typer_click

from charter.exceptions import CharterError

err_console = Console(stderr=True)


def fail(message: str, code: int = 1) -> typer.Exit:
    err_console.print(f"[bold red]error:[/] {message}", highlight=False)
    return typer.Exit(code)


# typer 0.29 runs on its own vendored click: its usage errors are not ``click``'s classes.
_USAGE_ERRORS = (click.exceptions.UsageError, typer_click.UsageError)
_ABORTS = (click.exceptions.Abort, typer.Abort)


def run_cli(app: typer.Typer, argv: list[str]) -> None:
    try:
        # With standalone_mode=False click returns the code of a raised Exit instead of exiting.
        code = app(argv, standalone_mode=False)
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
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False)
        for e in exc.errors:
            where = f"{e.file}#{e.pointer}" if e.file else e.pointer or "/"
            err_console.print(f"  {where}: {e.message}", highlight=False)
        sys.exit(1)
