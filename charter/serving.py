"""How ``charter serve`` runs uvicorn: uvloop, httptools, and one socket write per response.

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
