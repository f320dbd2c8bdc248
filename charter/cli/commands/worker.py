"""``charter worker``: run the background worker without the HTTP server."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from charter.cli.context import ProjectOption

console = Console(stderr=True)


def worker(
    project: ProjectOption = None,
    interval: Annotated[float, typer.Option(help="Seconds between ticks (the lateness bound).", min=0.01)] = 0.25,
    log_level: Annotated[str, typer.Option(help="Log level.")] = "info",
) -> None:
    """Run the worker: scheduled publishing, the webhook outbox relay and deliveries, cache purges.

    Every `charter serve` runs one too (unless CHARTER_WORKER=false); run more with PostgreSQL for
    throughput or to keep schedules and webhooks going while no server runs. Stops on SIGINT/SIGTERM.
    """
    import asyncio
    import os
    import signal

    from charter.config import load_settings, require_secret
    from charter.observability.logging import configure_logging
    from charter.runtime import Runtime
    from charter.worker import Worker

    settings = load_settings(project)
    require_secret(settings)
    configure_logging(log_level, settings.log_json)
    rt = Runtime.open(settings)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        w = Worker(rt, interval=interval)
        await w.start()
        console.print(f"worker started (pid {os.getpid()}, {len(w.duties)} duties, every {interval}s)", highlight=False)
        await stop.wait()
        await w.stop()

    try:
        asyncio.run(main())
    finally:
        rt.close()
    console.print("worker stopped")
