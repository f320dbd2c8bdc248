"""``charter serve``: run the server (uvicorn)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from charter.cli.context import DemoOption, ProjectOption
from charter.cli.errors import fail

console = Console(stderr=True)


def serve(
    project: ProjectOption = None,
    demo: DemoOption = False,
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 8000,
    workers: Annotated[
        int,
        typer.Option(
            help="Server processes; > 1 needs the worker or cache = redis (SQLite: keep 1 writer-heavy).", min=1
        ),
    ] = 1,
    log_level: Annotated[str, typer.Option(help="Log level.")] = "info",
) -> None:
    """Start Charter (the delivery, management and gateway APIs, and the admin)."""
    import os

    import uvicorn

    from charter.config import load_settings
    from charter.observability.logging import configure_logging
    from charter.serving import uvicorn_options

    settings = load_settings(project, demo=demo)
    configure_logging(log_level, settings.log_json)
    if workers > 1 and settings.cache == "memory" and not settings.worker:
        # Each worker process has its own in-process cache; only the worker's tail of the event
        # log tells it about a publish made through another process (docs/delivery-api.md).
        raise fail("--workers > 1 with cache = memory needs the in-process worker (worker = true) or cache = redis")
    if demo:
        from charter.demo import load_demo_content
        from charter.runtime import Runtime

        rt = Runtime.open(settings)
        n = load_demo_content(rt)
        rt.close()
        if n:
            console.print(f"Loaded {n} demo entries into {settings.resolved_database_url()}")
        os.environ["CHARTER_DEMO"] = "1"
    if project:
        os.environ["CHARTER_PROJECT"] = str(Path(project).resolve())
    console.print(f"Charter on http://{host}:{port}  (try /v1/pages/home, /docs)")
    uvicorn.run(
        "charter.cli.commands.serve:app_factory",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
        **uvicorn_options(),
    )


def app_factory() -> object:
    """Used by uvicorn (also in each worker process)."""
    import os

    from charter.app import create_app
    from charter.config import load_settings

    app = create_app(load_settings(os.environ.get("CHARTER_PROJECT"), demo=os.environ.get("CHARTER_DEMO") == "1"))
    # What start-up built lives as long as the server: keep it out of the cyclic collector's
    # full passes, which would otherwise walk every module and route object again and again.
    import gc

    gc.collect()
    gc.freeze()
    return app
