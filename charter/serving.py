"""How ``charter serve`` runs its HTTP server: granian or uvicorn (``--server``), tuned alike.

- **granian** (Rust HTTP/1.1 core, the ASGI app on uvloop): no access log, HTTP/1.1 only (no
  HTTP/2 upgrade probing), the app built by the same factory; forwarded headers through the same
  trust list as uvicorn's (:func:`with_forwarded_headers`).
- **uvicorn**: uvloop, httptools, and one socket write per response (below).

Which is the default (:data:`DEFAULT_SERVER`) is decided by ``bench/delivery --servers``
(BENCHMARKS.md): server CPU per cached request and throughput against nginx in one run.

uvicorn's httptools protocol writes the status line and headers of a response, then its body, each
straight to the socket: two ``send`` syscalls and two TCP segments for every small response, the
largest single cost of a cached delivery hit. :class:`HttpProtocol` hands it a transport that holds
the writes of one event-loop step and sends them together: at the end of each response, and for a
streamed response (server-sent events, chunked bodies) when the loop next runs, so nothing waits
longer than one loop step.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

if TYPE_CHECKING:
    from charter.config import Settings

#: The servers ``charter serve --server`` can run.
SERVERS = ("granian", "uvicorn")
DEFAULT_SERVER = "granian"
#: The interfaces granian can run the app over (``charter serve --interface``): RSGI, granian's own,
#: through :class:`charter.http.rsgi.RSGIApp`, or ASGI. uvicorn runs ASGI only.
INTERFACES = ("rsgi", "asgi")
DEFAULT_INTERFACE = "rsgi"


class CorkedTransport:
    """A transport that sends the writes of one loop step as one write (the rest is delegated)."""

    __slots__ = ("_buffer", "_loop", "_transport")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._buffer: list[bytes] = []

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not self._buffer:
            self._loop.call_soon(self.flush)
        self._buffer.append(bytes(data))

    def writelines(self, lines: Iterable[bytes]) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        buffer = self._buffer
        if buffer:
            self._buffer = []
            self._transport.write(buffer[0] if len(buffer) == 1 else b"".join(buffer))

    def write_eof(self) -> None:
        self.flush()
        self._transport.write_eof()

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def abort(self) -> None:
        self._buffer = []
        self._transport.abort()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class HttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol on a :class:`CorkedTransport`."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(CorkedTransport(transport, self.loop))  # type: ignore[arg-type]

    def on_response_complete(self) -> None:
        self.transport.flush()  # type: ignore[attr-defined]
        super().on_response_complete()


def uvicorn_options(settings: Settings | None = None) -> dict[str, Any]:
    """The uvicorn settings every ``charter serve`` uses (besides host, port and workers).

    Forwarded headers (``X-Forwarded-For``, ``X-Forwarded-Proto``) are honoured only from the
    addresses in ``settings.forwarded_allow_ips``; with none (the default, and without settings)
    uvicorn's proxy-headers middleware is off, where uvicorn would otherwise trust loopback, so a
    client next to the server cannot claim another address (the admin's sign-in lock keys on it).
    """
    allowed = settings.forwarded_allow_ips if settings is not None else ()
    # "auto" is uvloop where it is installed (pinned, not on Windows), else asyncio.
    return {
        "loop": "auto",
        "http": HttpProtocol,
        "access_log": False,
        "lifespan": "on",
        "proxy_headers": bool(allowed),
        "forwarded_allow_ips": ",".join(allowed) if allowed else "",
    }


#: Set by :func:`run` in the server's main process for its granian workers (:func:`die_with_server`).
SERVER_PID = "CHARTER_SERVER_PID"


def die_with_server() -> None:
    """In a granian worker process: be killed when the server's main process dies, whatever kills it.

    granian serves from child processes; a ``kill -9`` of the main process (what a process manager
    or an operator does to a hung server) would otherwise leave the worker serving, mid-transaction
    and holding the port. Linux only (``prctl(PR_SET_PDEATHSIG)``); elsewhere a no-op."""
    import os
    import sys

    expected = os.environ.get(SERVER_PID)
    if sys.platform != "linux" or not expected:
        return
    import ctypes
    import signal

    pr_set_pdeathsig = 1
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)
    if str(os.getppid()) != expected:  # the server died before the line above
        os._exit(1)


def with_forwarded_headers(app: Any, settings: Settings) -> Any:
    """``app`` behind uvicorn's proxy-headers middleware when ``forwarded_allow_ips`` names any
    proxy (what uvicorn does itself with :func:`uvicorn_options`), for servers that do not."""
    allowed = settings.forwarded_allow_ips
    if not allowed:
        return app
    from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

    return ProxyHeadersMiddleware(app, trusted_hosts=list(allowed))


def run(
    server: str,
    target: str,
    *,
    host: str,
    port: int,
    workers: int,
    log_level: str,
    settings: Settings,
    interface: str = "asgi",
) -> None:
    """Serve the app built by the factory ``target`` (``module:function``) until stopped: an ASGI
    app, or with granian and ``interface="rsgi"`` an RSGI one (:class:`charter.http.rsgi.RSGIApp`).

    ``target`` must apply :func:`with_forwarded_headers` itself when ``server`` is granian."""
    if interface not in INTERFACES or (server == "uvicorn" and interface != "asgi"):
        raise ValueError(f"interface {interface!r} on {server}: granian runs rsgi or asgi, uvicorn asgi")
    if server == "uvicorn":
        import uvicorn

        uvicorn.run(
            target,
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level=log_level,
            **uvicorn_options(settings),
        )
        return
    if server != "granian":
        raise ValueError(f"unknown server {server!r}; one of {', '.join(SERVERS)}")
    import os

    from granian.constants import HTTPModes, Interfaces, Loops
    from granian.log import LogLevels
    from granian.server import Server

    os.environ[SERVER_PID] = str(os.getpid())

    Server(
        target,
        address=host,
        port=port,
        interface=Interfaces.RSGI if interface == "rsgi" else Interfaces.ASGI,
        workers=workers,
        factory=True,
        loop=Loops.auto,  # uvloop where installed
        http=HTTPModes.http1,
        websockets=False,
        log_level=LogLevels(log_level.lower()) if log_level.lower() in LogLevels.__members__ else LogLevels.info,
        log_access=False,
        backlog=2048,
    ).serve()
