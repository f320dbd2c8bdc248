"""A raw ASGI front door for cached delivery hits: bytes out of a dict.

A cached ``GET`` (or ``HEAD``) of ``/v1/pages/{slug}``, ``/v1/entries/{type}/{id}`` or
``/v1/entries/{type}`` needs no routing, no dependency injection, no middleware stack and no
response object: the body, the ETag and the surrogate keys are already in the response cache, and
the header list is built once per cached response. :class:`DeliveryFastPath` sits in front of the
whole FastAPI app (:class:`charter.app.CharterApp` calls it first) and answers such a hit, or a
matching ``If-None-Match`` with 304 (:mod:`charter.delivery.http_caching`), with exactly the headers
the route sends, plus what the observability middleware adds: the request id (``X-Request-ID``
echoed when it is a plain token), the server span (W3C ``traceparent`` honoured), the request
metrics and the debug access log line.

What counts as a hit is decided by the routes, never re-implemented here: when a delivery route
answers from (or fills) the cache, it tells the fast path which cache key that exact request
target (path and raw query string) maps to (:meth:`DeliveryFastPath.learn`). The mapping depends
on the target only, so a later request for the same target is a hit exactly when the route would
have answered it from the cache. Everything else goes to the full app, which renders, fills the
cache and owns every error: a target not seen yet, a cache miss, another method, a request pinning
a schema major (``Charter-Schema``), a preview (``Charter-Preview`` header or ``?preview=``, never
learnt: a preview is rendered fresh), or a request carrying a body. A purge removes the cached
response, so the next request misses and goes to the route: invalidation stays the cache's.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.types import Receive, Scope, Send

from charter.delivery.cache import CachedResponse
from charter.delivery.http_caching import if_none_match, public_cache_control
from charter.observability.requests import answer, request_id_from, server_span
from charter.runtime import Runtime

ASGICall = Callable[[Scope, Receive, Send], Awaitable[None]]

#: The scope key under which a request the fast path let through carries ``(fast path, target)``.
SCOPE_KEY = "charter.fastpath"
#: Paths the delivery routes serve (only these are ever learnt).
PREFIXES = ("/v1/pages/", "/v1/entries/")
#: Request headers that send a request to the full app whatever the cache holds: a pinned schema
#: major (charter.delivery.pinning), a preview token (docs/preview.md), a body.
BYPASS = frozenset({b"charter-schema", b"charter-preview", b"transfer-encoding"})
VARY = (b"vary", b"Charter-Schema")  # as charter.delivery.api.respond sends it
JSON = (b"content-type", b"application/json")


class DeliveryFastPath:
    """``await fast_path(scope, receive, send)``: answer a learnt cache hit, else call ``app``."""

    def __init__(self, app: ASGICall, runtime: Runtime, max_targets: int | None = None) -> None:
        self.app = app
        self.rt = runtime
        s = runtime.settings
        self.cache_control = public_cache_control(s.cache_max_age, s.cache_stale_while_revalidate).encode()
        #: (path, raw query string) -> (cache key, route template), as the routes reported them.
        self.targets: dict[tuple[str, bytes], tuple[str, str]] = {}
        self.max_targets = max_targets or max(2 * s.cache_max_entries, 1000)
        # With a sampler that never records a root span the SDK would only build a non-recording
        # span (unless a sampled parent says otherwise), and without a span processor a span nobody
        # sees: skip both.
        self.sampling = runtime.telemetry.sampling
        #: Requests answered here (the rest went to the app).
        self.hits = 0

    def learn(self, scope: Scope, key: str) -> None:
        """Called by a delivery route answering ``scope`` from the cache entry ``key`` (or filling it)."""
        target = scope.get(SCOPE_KEY)
        route = scope.get("route")
        if target is None or route is None:
            return
        if len(self.targets) >= self.max_targets:
            self.targets.clear()  # odd targets cannot grow the map without bound
        self.targets[target[1]] = (key, route.path)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        method = scope["method"]
        if method == "GET" or method == "HEAD":
            path = scope["path"]
            target = (path, scope.get("query_string", b""))
            known = self.targets.get(target)
            if known is not None:
                cached = self.rt.cache.get(known[0])
                if cached is not None and await self._serve(scope, send, method, cached, known[1]):
                    return
            if path.startswith(PREFIXES):
                scope[SCOPE_KEY] = (self, target)
        await self.app(scope, receive, send)

    async def _serve(self, scope: Scope, send: Send, method: str, cached: CachedResponse, template: str) -> bool:
        """Send ``cached``; False (nothing sent) when a request header sends it to the full app."""
        start = time.perf_counter()
        match = given_id = traceparent = None
        for name, value in scope["headers"]:
            if name in BYPASS:
                return False
            if name == b"if-none-match":
                if match is None:  # the route reads the first one
                    match = value
            elif name == b"x-request-id":  # the observability middleware keeps the last one
                given_id = value
            elif name == b"traceparent":
                traceparent = value
            elif name == b"content-length" and value != b"0":
                return False
        status, headers, body, request_id, span = self.reply(
            method, scope["path"], cached, template, match, given_id, traceparent
        )
        await answer(
            send,
            self.rt.telemetry,
            span,
            status=status,
            headers=headers,
            body=body,
            method=method,
            path=scope["path"],
            route=template,
            start=start,
            request_id=request_id,
        )
        return True

    def reply(
        self,
        method: str,
        path: str,
        cached: CachedResponse,
        template: str,
        match: bytes | None,
        given_id: bytes | None,
        traceparent: bytes | None,
    ) -> tuple[int, list[tuple[bytes, bytes]], bytes, str, Any]:
        """What a hit answers, whichever front door sends it (this ASGI one, or
        :class:`charter.http.rsgi.RSGIApp`): ``(status, headers, body, request id, span)``, given
        the request's first ``If-None-Match``, last ``X-Request-ID`` and ``traceparent``. The
        caller sends it (with ``X-Request-ID``), then finishes the request's telemetry
        (:func:`charter.observability.requests.finish_request`)."""
        headers, not_modified = self._headers(cached)
        if if_none_match(match, cached.etag):
            status, body = 304, b""
            headers = not_modified
        else:
            status, body = cached.status, (b"" if method == "HEAD" else cached.body)
        self.hits += 1
        request_id = request_id_from(given_id)
        telemetry = self.rt.telemetry
        telemetry.delivery_hits += 1
        span = None
        if traceparent is not None:
            # The caller's sampling decision rules (parent-based): the SDK's sampler reads it.
            span = server_span(telemetry, method, path, request_id, traceparent, template)
        elif self.sampling:
            root = telemetry.root_tracer
            if root is None:
                span = server_span(telemetry, method, path, request_id, None, template)
            elif telemetry.sample_root():
                # Drawn here: the requests not drawn build no span at all (see Telemetry.sample_root).
                span = server_span(telemetry, method, path, request_id, None, template, tracer=root)
        return status, headers, body, request_id, span

    def _headers(self, cached: CachedResponse) -> tuple[list[tuple[bytes, bytes]], list[tuple[bytes, bytes]]]:
        """The 200 and 304 header lists of ``cached``, built on its first hit and kept with it."""
        prepared = cached.wire.get(self.cache_control)
        if prepared is None:
            common = [
                (b"etag", cached.etag.encode("latin-1")),
                (b"cache-control", self.cache_control),
                (b"surrogate-key", " ".join(cached.surrogate_keys).encode("latin-1")),
                VARY,
            ]
            prepared = ([*common, (b"content-length", str(len(cached.body)).encode()), JSON], common)
            cached.wire[self.cache_control] = prepared
        return prepared


def learn(scope: Scope, key: str) -> None:
    """Tell the fast path in front of this request (if any) that its target maps to cache ``key``."""
    front: Any = scope.get(SCOPE_KEY)
    if front is not None:
        front[0].learn(scope, key)


def install(app: Any, runtime: Runtime) -> None:
    """Put the fast path in front of a :class:`charter.app.CharterApp` (its ``front`` door)."""
    app.front = DeliveryFastPath(app.call_stack, runtime)
