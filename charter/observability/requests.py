"""The telemetry of one HTTP request, written once: the request id, the server span (W3C trace
context), the request metrics and the access log line. The observability middleware
(:mod:`charter.observability.middleware`) and the delivery fast path
(:mod:`charter.delivery.fastpath`) both call it, so a request answered by either looks the same
to logs, traces and metrics.
"""

from __future__ import annotations

import itertools
import os
import re
import time
from typing import TYPE_CHECKING

import structlog
from opentelemetry.trace import Span, SpanKind, Tracer
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from charter.observability.tracer import LeanTracer

if TYPE_CHECKING:
    from starlette.types import Send

    from charter.observability.telemetry import Telemetry

log = structlog.get_logger("charter.http")
_propagator = TraceContextTextMapPropagator()
#: A client-supplied X-Request-ID is echoed only when it is a plain token (no header injection).
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


class _RequestIds:
    """Request ids need to be unique, not secret: 16 random hex digits per process (drawn again in
    a forked child) and a 16-digit counter, 32 hex digits in all, without a syscall per request."""

    def __init__(self) -> None:
        self.reseed()
        os.register_at_fork(after_in_child=self.reseed)

    def reseed(self) -> None:
        self.prefix = os.urandom(8).hex()
        self.counter = itertools.count(1)

    def __call__(self) -> str:
        return f"{self.prefix}{next(self.counter):016x}"


new_request_id = _RequestIds()


def request_id_from(given: bytes | None) -> str:
    """The client's ``X-Request-ID`` when it is a plain token of at most 64 characters, else a new id."""
    if given:
        value = given.decode("latin-1")[:64]
        if _REQUEST_ID.match(value):
            return value
    return new_request_id()


class DrawnSpan:
    """The server span of a request a hot path has drawn for recording without a parent
    (``Telemetry.sample_root``): nothing is built until :func:`finish_request` knows the route and
    status, then the span is recorded in one go (:meth:`LeanTracer.record`). A hot path that makes
    no call under its span does not need it current, so this is all the span it needs."""

    __slots__ = ("method", "path", "request_id", "start", "tracer")

    def __init__(self, tracer: LeanTracer, method: str, path: str, request_id: str) -> None:
        self.tracer = tracer
        self.method = method
        self.path = path
        self.request_id = request_id
        self.start = time.time_ns()


def server_span(
    telemetry: Telemetry,
    method: str,
    path: str,
    request_id: str,
    traceparent: bytes | None,
    route: str | None = None,
    *,
    tracer: Tracer | None = None,
) -> Span | DrawnSpan | None:
    """Start the request's server span, a child of the client's ``traceparent`` when it sent one;
    None when no span processor would receive it (nothing is built). Named ``METHOD route`` once
    the route is known (:func:`finish_request` renames it), ``METHOD path`` until then.

    ``tracer``: a hot path's pre-drawn root tracer (``Telemetry.root_tracer``, the request drawn
    for recording and without a parent): then a :class:`DrawnSpan`, built when the request ends."""
    if isinstance(tracer, LeanTracer) and traceparent is None and telemetry.exporting():
        return DrawnSpan(tracer, method, path, request_id)
    return request_span(telemetry, method, path, request_id, traceparent, route, tracer=tracer)


def request_span(
    telemetry: Telemetry,
    method: str,
    path: str,
    request_id: str,
    traceparent: bytes | None,
    route: str | None = None,
    *,
    tracer: Tracer | None = None,
) -> Span | None:
    """:func:`server_span` as a started span (never a :class:`DrawnSpan`): for the middleware,
    which makes it current while the app runs."""
    if not telemetry.exporting():
        return None
    context = _propagator.extract({"traceparent": traceparent.decode("latin-1")}) if traceparent else None
    attributes = {"http.request.method": method, "url.path": path, "charter.request_id": request_id}
    if route is not None:
        attributes["http.route"] = route
    return (tracer or telemetry.tracer).start_span(
        f"{method} {route or path}", context=context, kind=SpanKind.SERVER, attributes=attributes
    )


def finish_request(
    telemetry: Telemetry,
    span: Span | DrawnSpan | None,
    *,
    method: str,
    path: str,
    route: str,
    status: int,
    start: float,
    request_id: str,
) -> None:
    """End the request: the span's route and status, the request metrics (by route template, so
    the series stay few) and the debug access log line. ``start`` is ``time.perf_counter()``."""
    if span is not None:
        if isinstance(span, DrawnSpan):
            span.tracer.record(
                f"{method} {route}",
                SpanKind.SERVER,
                {
                    "http.request.method": method,
                    "url.path": path,
                    "charter.request_id": request_id,
                    "http.route": route,
                    "http.response.status_code": status,
                },
                span.start,
                time.time_ns(),
            )
        else:
            if span.is_recording():
                span.update_name(f"{method} {route}")
                span.set_attributes({"http.route": route, "http.response.status_code": status})
            span.end()
    elapsed = time.perf_counter() - start
    telemetry.observe_request(method, route, status, elapsed)
    log.debug("request", method=method, path=path, status=status, ms=round(elapsed * 1000, 3), request_id=request_id)


async def answer(
    send: Send,
    telemetry: Telemetry,
    span: Span | DrawnSpan | None,
    *,
    status: int,
    headers: list[tuple[bytes, bytes]],
    body: bytes,
    method: str,
    path: str,
    route: str,
    start: float,
    request_id: str,
) -> None:
    """Send a complete response from an ASGI fast path (with its ``X-Request-ID``), then
    :func:`finish_request`, even when the client has gone."""
    try:
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [*headers, (b"x-request-id", request_id.encode("latin-1"))],
            }
        )
        await send({"type": "http.response.body", "body": body})
    finally:
        finish_request(
            telemetry, span, method=method, path=path, route=route, status=status, start=start, request_id=request_id
        )
