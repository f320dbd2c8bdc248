"""``charter edge varnish``: write the VCL for a Varnish in front of Charter (docs/edge.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from charter.cli.context import DemoOption, ProjectOption
from charter.cli.errors import fail

app = typer.Typer(no_args_is_help=True)
console = Console(stderr=True)


@app.command()
def varnish(
    project: ProjectOption = None,
    demo: DemoOption = False,
    backend: Annotated[
        list[str] | None,
        typer.Option(
            "--backend",
            help="A Charter instance as HOST:PORT; repeat for several (round-robin). Default 127.0.0.1:8000.",
        ),
    ] = None,
    purger: Annotated[
        list[str] | None,
        typer.Option(
            "--purger",
            help="An address, network or host allowed to purge; repeat. Default: loopback and every backend host.",
        ),
    ] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write the VCL here (default: print it).")] = None,
) -> None:
    """Write a VCL that caches the delivery API by Charter's headers and takes purges from Charter only.

    The purge secret is the project's ([charter.edge] purge_secret, else derived from secret_key),
    so the instances of this project and the VCL agree; run varnishd with it:
    varnishd -a :6081 -f charter.vcl -s malloc,256m
    """
    from charter.config import load_settings
    from charter.edge.settings import purge_secret
    from charter.edge.vcl import Backend, render
    from charter.exceptions import ConfigError

    try:
        settings = load_settings(project, demo=demo)
        backends = [Backend.parse(b) for b in (backend or ["127.0.0.1:8000"])]
        text = render(backends, purge_secret(settings), purger)
    except (ValueError, ConfigError) as exc:
        raise fail(str(exc)) from None
    if out is None:
        typer.echo(text, nl=False)
        return
    out.write_text(text, encoding="utf-8")
    out.chmod(0o600)  # it holds the purge secret
    console.print(f"Wrote {out} ({len(backends)} backend{'s' if len(backends) > 1 else ''})")
