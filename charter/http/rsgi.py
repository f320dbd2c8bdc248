"""Charter on granian's RSGI interface: the ASGI app, served through a small ASGI-over-RSGI bridge.

granian runs an application over one of two interfaces. Over ASGI every request costs a scope
dictionary built in Rust, a ``receive`` and two ``send`` calls that each cross from Python into
the server and back through an awaitable. RSGI (granian's own interface, ``docs/spec/RSGI.md`` in
the granian repository) hands the app a scope object and a protocol object, and a complete
response is one synchronous call, ``protocol.response_bytes(status, headers, body)``. Charter's
cached delivery hits (:mod:`charter.delivery.fastpath`) are a dictionary lookup and a prepared
header list: on RSGI the server's share of such a hit shrinks, and nothing in the app changes.

:class:`RSGIApp` is the bridge. It presents the RSGI call to the ASGI app exactly as an ASGI
server would (ASGI 3.0, HTTP spec 2.3), so every request, a fast-path hit or a full render, runs
the same code and telemetry as under ``--interface asgi``:

- **scope**: ``type``, ``http_version``, ``method``, ``scheme``, ``path`` (percent-decoded, as
  granian gives it), ``query_string`` (raw), ``root_path`` (empty), ``headers`` (lower-case
  names as bytes, in the order received), ``client`` and ``server`` as ``(host, port)``, and a
  copy of the lifespan ``state``. Not provided: ``raw_path`` (optional in ASGI; RSGI only gives
  the decoded path), and a header whose value is not visible ASCII (granian drops it).
- **receive**: the body in chunks (``http.request``, ``more_body``), read from the protocol only
  when the request has one (an HTTP/1.x request has a body only with ``Content-Length`` or
  ``Transfer-Encoding``, RFC 9112 §6.3); after the body, ``http.disconnect`` once the client has
  gone (one waiter per request, shared by every ``receive``, so Starlette's
  ``request.is_disconnected()`` polling in a cancelled scope does not pile up waiters).
- **send**: ``http.response.start`` then ``http.response.body``; a body without ``more_body`` is
  one ``response_bytes`` call; a body with ``more_body`` (server-sent events, a streamed file)
  becomes ``response_stream`` and each chunk is sent as it comes. A chunk sent after the client
  went raises :class:`OSError`, as ASGI servers do.
- **errors**: an app that raises or returns before starting a response gets a plain ``500``, and
  the exception is logged (``charter.http``); a stream already started is ended.
- **lifespan**: run once per worker process, started in ``__rsgi_init__`` (before the first
  request) and shut down in ``__rsgi_del__`` (after the last); a start-up that fails stops the
  process, as it does under ASGI.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from typing import TYPE_CHECKING, Any

from starlette.types import ASGIApp, Message

from charter.delivery.fastpath import BYPASS
from charter.http.cors import CorsLayer
from charter.observability.requests import finish_request

if TYPE_CHECKING:
    from charter.delivery.cache import CachedResponse
    from charter.delivery.fastpath import DeliveryFastPath

log = logging.getLogger("charter.http")
#: The request headers that send a request past the delivery fast path (its BYPASS), as RSGI names them.
_BYPASS = tuple(name.decode("latin-1") for name in BYPASS)
#: Where a cached response keeps the text form of the fast path's header lists (``CachedResponse.wire``).
_TEXT = b"rsgi:text-headers"

ASGI = {"version": "3.0", "spec_version": "2.3"}
#: What an app that failed before answering gets (the exception is logged, never shown).
FAILED = (500, [("content-type", "text/plain; charset=utf-8")], b"Internal Server Error")
_NO_BODY: Message = {"type": "http.request", "body": b"", "more_body": False}
_DISCONNECT: Message = {"type": "http.disconnect"}


def _address(text: str) -> tuple[str, int] | None:
    """``host:port`` (``[::1]:8000`` for IPv6) as ASGI's ``(host, port)``; None when it is not one."""
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit():
        return None
    return host.strip("[]"), int(port)


#: ``_Exchange.body`` states besides "an async iterator over the body's chunks".
_UNREAD, _EMPTY, _READ = 0, 1, 2


class _Exchange:
    """One request: the ASGI ``receive`` and ``send`` over an RSGI protocol object."""

    __slots__ = ("body", "disconnect", "done", "headers", "protocol", "started", "status", "stream")

    def __init__(self, protocol: Any, body: bool) -> None:
        self.protocol = protocol
        #: _UNREAD (a body to read from the protocol), an iterator over it while it is read,
        #: _EMPTY (no body: one empty ``http.request`` to deliver) or _READ (all delivered).
        self.body: Any = _UNREAD if body else _EMPTY
        self.disconnect: asyncio.Task[None] | None = None
        self.started = False
        self.done = False
        self.status = 500
        self.headers: list[tuple[str, str]] = []
        self.stream: Any = None

    async def receive(self) -> Message:
        body = self.body
        if body == _EMPTY:
            self.body = _READ
            return _NO_BODY
        if body != _READ:
            if body == _UNREAD:
                body = self.body = self.protocol.__aiter__()
            try:
                chunk = await body.__anext__()
            except StopAsyncIteration:
                self.body = _READ
                return _NO_BODY
            return {"type": "http.request", "body": chunk, "more_body": True}
        waiter = self.disconnect
        if waiter is None:
            waiter = self.disconnect = asyncio.get_running_loop().create_task(self._disconnected())
        if not waiter.done():
            await asyncio.shield(waiter)
        return _DISCONNECT

    async def _disconnected(self) -> None:
        await self.protocol.client_disconnect()

    async def send(self, message: Message) -> None:
        kind = message["type"]
        if kind == "http.response.body":
            if not self.started or self.done:
                raise RuntimeError("http.response.body before http.response.start, or after the response ended")
            body = message.get("body", b"")
            more = message.get("more_body", False)
            if self.stream is None:
                if not more:
                    self.done = True
                    self.protocol.response_bytes(self.status, self.headers, body)
                    return
                self.stream = self.protocol.response_stream(self.status, self.headers)
            if body:
                try:
                    await self.stream.send_bytes(body)
                except RuntimeError as exc:  # granian's RSGIProtocolClosed: the client went
                    raise OSError("the client disconnected") from exc
            if not more:
                self.done = True
                self.stream = None  # dropping the transport ends the body
        elif kind == "http.response.start":
            if self.started:
                raise RuntimeError("http.response.start sent twice")
            self.started = True
            self.status = message["status"]
            self.headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in message.get("headers", ())]
        else:
            raise RuntimeError(f"unexpected ASGI message {kind!r}")

    def finish(self, failed: bool) -> None:
        """After the app returned (or raised): answer 500 when nothing was answered yet, end a stream."""
        if not self.started:
            self.done = True
            self.protocol.response_bytes(*FAILED)
            if not failed:
                log.error("the ASGI app returned without starting a response")
        elif not self.done:
            if self.stream is None:  # started, but no body sent: an empty one ends it
                self.protocol.response_bytes(self.status, self.headers, b"")
            self.done = True
            self.stream = None
        if self.disconnect is not None:
            self.disconnect.cancel()


class _Lifespan:
    """The ASGI lifespan protocol, driven by the server side: one task for the app's lifespan."""

    def __init__(self, app: ASGIApp, state: dict[str, Any]) -> None:
        self.app = app
        self.state = state
        self.task: asyncio.Task[None] | None = None
        self.inbox: asyncio.Queue[Message] | None = None
        self.outbox: asyncio.Queue[Message] | None = None

    async def _run(self) -> None:
        assert self.inbox is not None and self.outbox is not None
        scope = {"type": "lifespan", "asgi": ASGI, "state": self.state}
        try:
            await self.app(scope, self.inbox.get, self.outbox.put)
        except BaseException as exc:  # reported as a failed start-up (or shutdown)
            await self.outbox.put({"type": "charter.lifespan.raised", "message": repr(exc), "error": exc})
            if not isinstance(exc, Exception):
                raise
        else:
            await self.outbox.put({"type": "charter.lifespan.returned"})

    async def _step(self, name: str) -> None:
        assert self.inbox is not None and self.outbox is not None
        await self.inbox.put({"type": f"lifespan.{name}"})
        reply = await self.outbox.get()
        if reply["type"] == f"lifespan.{name}.complete":
            return
        error = reply.get("error")
        raise RuntimeError(f"ASGI lifespan {name} failed: {reply.get('message', reply['type'])}") from error

    async def startup(self) -> None:
        self.inbox, self.outbox = asyncio.Queue(), asyncio.Queue()
        self.task = asyncio.get_running_loop().create_task(self._run())
        await self._step("startup")

    async def shutdown(self) -> None:
        if self.task is None or self.task.done():
            return
        await self._step("shutdown")
        await self.task


def _text_headers(
    cached: CachedResponse,
    headers: list[tuple[bytes, bytes]],
    change: tuple[bool, list[tuple[bytes, bytes]]] | None = None,
) -> list[tuple[str, str]]:
    """``headers`` (one of the fast path's prepared lists, kept in ``cached.wire``) as RSGI's text
    pairs, with the CORS layer's ``change`` applied when there is one (:meth:`CorsLayer.simple`);
    converted on first use and kept with ``cached`` like the list itself, one form per list and
    CORS answer (an allowed origin is echoed, so there are as many as the policy allows, plus one)."""
    forms: dict[tuple[int, bytes | None], list[tuple[str, str]]] | None = cached.wire.get(_TEXT)
    if forms is None:
        forms = cached.wire[_TEXT] = {}
    # The list lives as long as ``cached``: its id stays its own. The allowed origin names the change.
    key = (id(headers), None if change is None else b"".join(v for _, v in change[1][:1]) or b"-")
    text = forms.get(key)
    if text is None:
        if change is not None:
            headers = CorsLayer.decorate(headers, change)
        text = forms[key] = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in headers]
    return text


class RSGIApp:
    """``app`` (ASGI) as an RSGI application: ``__rsgi__(scope, protocol)``, with its lifespan run
    by ``__rsgi_init__(loop)`` and ``__rsgi_del__(loop)`` (granian calls them once per worker).

    ``fast``: the delivery fast path when it is the app's front door (no CORS layer in front of
    it). A learnt cached hit is then answered here, before any ASGI scope is built: the fast
    path decides what it answers (:meth:`DeliveryFastPath.reply`: status, its prepared headers,
    body, request id, span), this sends it with one ``response_bytes`` call and finishes the
    request's telemetry as the ASGI door does (:func:`finish_request`). Everything else,
    including every request the fast path would let through, goes through the bridge to ``app``."""

    def __init__(self, app: ASGIApp, fast: DeliveryFastPath | None = None, cors: CorsLayer | None = None) -> None:
        self.app = app
        self.fast = fast
        #: The CORS layer in front of ``fast`` (``[charter.cors]``), whose headers a hit then carries.
        self.cors = cors
        #: The lifespan state (ASGI): a shallow copy goes into every request's scope.
        self.state: dict[str, Any] = {}
        self._lifespan = _Lifespan(app, self.state)

    def __rsgi_init__(self, loop: asyncio.AbstractEventLoop) -> None:
        try:
            loop.run_until_complete(self._lifespan.startup())
        except Exception:
            log.exception("ASGI lifespan startup failed")
            sys.exit(1)

    def __rsgi_del__(self, loop: asyncio.AbstractEventLoop) -> None:
        try:
            loop.run_until_complete(self._lifespan.shutdown())
        except Exception:
            log.exception("ASGI lifespan shutdown failed")

    async def __rsgi__(self, scope: Any, protocol: Any) -> None:
        fast = self.fast
        if fast is not None:
            method = scope.method
            if (method == "GET" or method == "HEAD") and self._hit(fast, self.cors, scope, protocol, method):
                return
        headers = scope.headers
        if scope.http_version == "2":
            body = True  # HTTP/2 frames the body itself: read what comes
        else:
            length = headers.get("content-length")
            body = (length is not None and length != "0") or "transfer-encoding" in headers
        asgi_scope: dict[str, Any] = {
            "type": "http",
            "asgi": ASGI,
            "http_version": scope.http_version,
            "method": scope.method,
            "scheme": scope.scheme,
            "path": scope.path,
            "query_string": scope.query_string.encode(),
            "root_path": "",
            "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()],
            "client": _address(scope.client),
            "server": _address(scope.server),
        }
        if self.state:
            asgi_scope["state"] = dict(self.state)
        exchange = _Exchange(protocol, body)
        failed = False
        try:
            await self.app(asgi_scope, exchange.receive, exchange.send)
        except Exception:
            failed = True
            log.exception("Exception in ASGI application")
        finally:
            exchange.finish(failed)

    @staticmethod
    def _hit(fast: DeliveryFastPath, cors: CorsLayer | None, scope: Any, protocol: Any, method: str) -> bool:
        """Answer a learnt cached hit as :meth:`DeliveryFastPath.__call__` would; False (nothing
        sent) when it is not one, or a request header sends it to the app."""
        start = time.perf_counter()
        path = scope.path
        known = fast.targets.get((path, scope.query_string.encode()))
        if known is None:
            return False
        cached = fast.rt.cache.get(known[0])
        if cached is None:
            return False
        headers = scope.headers
        for name in _BYPASS:
            if name in headers:
                return False
        length = headers.get("content-length")
        if length is not None and length != "0":
            return False
        # As the ASGI door reads them: the first If-None-Match, the last X-Request-ID and traceparent.
        match = headers.get("if-none-match")
        given = headers.get_all("x-request-id")
        parent = headers.get_all("traceparent")
        status, sent, body, request_id, span = fast.reply(
            method,
            path,
            cached,
            known[1],
            match.encode("latin-1") if match is not None else None,
            given[-1].encode("latin-1") if given else None,
            parent[-1].encode("latin-1") if parent else None,
        )
        change = None
        if cors is not None and cors.policy.applies(path):
            origins = headers.get_all("origin")  # the last one, as the CORS layer reads it
            change = cors.simple(origins[-1] if origins else None)
        try:
            text = _text_headers(cached, sent, change)
            protocol.response_bytes(status, [*text, ("x-request-id", request_id)], body)
        finally:
            finish_request(
                fast.rt.telemetry,
                span,
                method=method,
                path=path,
                route=known[1],
                status=status,
                start=start,
                request_id=request_id,
            )
        return True
