"""``charter serve``: run the server (granian or uvicorn: ``charter.serving``)."""

from __future__ import annotations

from typing import Annotated, Any

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
    server: Annotated[
        str,
        typer.Option(
            "--server",
            envvar="CHARTER_SERVER",
            help="HTTP server: granian (the default: least CPU per request) or uvicorn.",
        ),
    ] = "granian",
    interface: Annotated[
        str | None,
        typer.Option(
            "--interface",
            envvar="CHARTER_INTERFACE",
            help="How granian runs the app: rsgi (its default: least CPU per request) or asgi. uvicorn runs asgi.",
        ),
    ] = None,
) -> None:
    """Start Charter (the delivery, management and gateway APIs, and the admin)."""
    import os

    from charter.config import load_settings, require_secret
    from charter.observability.logging import configure_logging
    from charter.serving import DEFAULT_INTERFACE, INTERFACES, SERVERS, run

    if server not in SERVERS:
        raise fail(f"--server {server!r}: one of {', '.join(SERVERS)}", code=2)
    interface = interface or (DEFAULT_INTERFACE if server == "granian" else "asgi")
    if interface not in INTERFACES or (server == "uvicorn" and interface != "asgi"):
        raise fail(f"--interface {interface!r}: granian runs {' or '.join(INTERFACES)}, uvicorn asgi", code=2)

    settings = load_settings(project, demo=demo)
    require_secret(settings)
    check_port(host, port)  # before the start-up work, so a busy port is said at once
    configure_logging(log_level, settings.log_json)
    if workers > 1 and settings.cache == "memory" and not settings.worker:
        # Each worker process has its own in-process cache; only the worker's tail of the event
        # log tells it about a publish made through another process (docs/delivery-api.md).
        raise fail("--workers > 1 with cache = memory needs the in-process worker (worker = true) or cache = redis")
    if demo:
        from charter.demo import load_demo_content
        from charter.runtime import Runtime

        rt = Runtime.open(settings)
        try:
            n = load_demo_content(rt)
            if n:  # a fresh demo store: give it a past, so the overview and the metrics show something
                from charter.demo.history import record_demo_history

                record_demo_history(rt)
        finally:
            rt.close()
        if n:
            console.print(f"Loaded {n} demo entries into {settings.resolved_database_url()}")
        os.environ["CHARTER_DEMO"] = "1"
    else:
        os.environ["CHARTER_PROJECT"] = str(settings.project_dir)
    console.print(f"Charter on http://{host}:{port}  (try /v1/pages/home, /docs)")
    factory = {"uvicorn": "app_factory", "granian": f"granian_{interface}_app_factory"}[server]
    run(
        server,
        f"charter.cli.commands.serve:{factory}",
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
        settings=settings,
        interface=interface,
    )


def check_port(host: str, port: int) -> None:
    """Fail now, with the reason, when ``host:port`` cannot be listened on (uvicorn would say so only
    after the whole start-up). Probed with SO_REUSEADDR as uvicorn binds, so a port in TIME_WAIT is free."""
    import errno
    import socket

    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except socket.gaierror as exc:
        raise fail(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            hint = " (another server runs there? pick another --port, or `make run PORT=8001`)"
            raise fail(
                f"cannot listen on {host}:{port}: {exc.strerror}{hint if exc.errno == errno.EADDRINUSE else ''}"
            ) from None


def granian_rsgi_app_factory() -> object:
    """Used by granian on its RSGI interface (the default): :func:`granian_asgi_app_factory`'s
    app through the ASGI-over-RSGI bridge, which answers the delivery fast path's cached hits
    itself, with their CORS headers when ``[charter.cors]`` is set (:func:`rsgi_doors`,
    :class:`charter.http.rsgi.RSGIApp`)."""
    from charter.http.rsgi import RSGIApp
    from charter.serving import die_with_server, with_forwarded_headers

    die_with_server()
    app: Any = app_factory()
    return RSGIApp(with_forwarded_headers(app, app.state.runtime.settings), *rsgi_doors(app))


def rsgi_doors(app: Any) -> tuple[Any, Any]:
    """The delivery fast path :class:`charter.http.rsgi.RSGIApp` may answer hits for, and the CORS
    layer in front of it (``[charter.cors]``): ``(fast, cors)``, each None when absent. The fast path
    is usable when it is the app's front door, or right behind the CORS layer."""
    from charter.delivery.fastpath import DeliveryFastPath
    from charter.http.cors import CorsLayer

    front, cors = app.front, None
    if isinstance(front, CorsLayer):
        cors, front = front, front.app
    if not isinstance(front, DeliveryFastPath):
        return None, None
    return front, cors


def granian_asgi_app_factory() -> object:
    """Used by granian on its ASGI interface (``--interface asgi``): :func:`app_factory` with
    forwarded headers honoured from ``forwarded_allow_ips`` (uvicorn does that itself), in a
    process that dies with the server's main process (:func:`charter.serving.die_with_server`)."""
    from charter.serving import die_with_server, with_forwarded_headers

    die_with_server()
    app = app_factory()
    return with_forwarded_headers(app, app.state.runtime.settings)  # type: ignore[attr-defined]


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
