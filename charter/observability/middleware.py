"""One raw ASGI middleware for every request: request id, body-size limit, a server span with
W3C trace-context propagation, Prometheus metrics and an access log. Raw ASGI (not
BaseHTTPMiddleware) keeps the per-request cost to a few microseconds."""

from __future__ import annotations

import itertools
import os
import re
import time
from contextlib import nullcontext

import structlog
from fastapi import FastAPI
from opentelemetry.trace import INVALID_SPAN, SpanKind
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from charter.exceptions import BadRequest, PayloadTooLarge
from charter.observability.errors import problem_response
from charter.runtime import Runtime

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


class BodyTooLarge(PayloadTooLarge):
    """Raised by the middleware's ``receive`` once a body (chunked ones included) passes the limit:
    a :class:`~charter.exceptions.CharterError`, so a route reading the body answers 413 wherever it
    reads it (:class:`charter.http.routes.CharterRoute` reads it before FastAPI's parser would turn
    any failure into a 400)."""


class ObservabilityMiddleware:
    def __init__(self, app: ASGIApp, runtime: Runtime) -> None:
        self.app = app
        self.rt = runtime
        self.max_body = runtime.settings.max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        headers = dict(scope["headers"])
        request_id = request_id_from(headers.get(b"x-request-id"))
        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_body:
            await self._too_large(scope, receive, send, request_id)
            return
        if "\x00" in scope["path"] or b"%00" in scope.get("query_string", b""):
            # No store keeps NUL in text (PostgreSQL refuses it): say so instead of failing deep down.
            err = BadRequest("NUL characters are not allowed in the path or query")
            await problem_response(err.to_problem(scope["path"]), {"x-request-id": request_id})(scope, receive, send)
            return
        telemetry = self.rt.telemetry
        carrier = {"traceparent": headers[b"traceparent"].decode("latin-1")} if b"traceparent" in headers else {}
        ctx = _propagator.extract(carrier) if carrier else None
        status = 500
        seen = 0
        max_body = self.max_body

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > max_body:
                    raise BodyTooLarge(f"request body larger than {max_body} bytes")
            return message

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode("latin-1"))]
            await send(message)

        structlog.contextvars.bind_contextvars(request_id=request_id)
        method = scope["method"]
        spans = (
            telemetry.tracer.start_as_current_span(
                f"{method} {scope['path']}",
                context=ctx,
                kind=SpanKind.SERVER,
                attributes={"http.request.method": method, "url.path": scope["path"], "charter.request_id": request_id},
            )
            if telemetry.exporting()
            else nullcontext(INVALID_SPAN)  # a span nobody would see is not built
        )
        with spans as span:
            try:
                await self.app(scope, counting_receive, send_with_id)
            except BodyTooLarge:
                await self._too_large(scope, receive, send, request_id)
                status = 413
            finally:
                route = scope.get("route")
                template = getattr(route, "path", "unmatched")
                if span.is_recording():
                    span.update_name(f"{method} {template}")
                    span.set_attributes({"http.route": template, "http.response.status_code": status})
                elapsed = time.perf_counter() - start
                telemetry.observe_request(method, template, status, elapsed)
                structlog.contextvars.unbind_contextvars("request_id")
        log.debug(
            "request",
            method=method,
            path=scope["path"],
            status=status,
            ms=round(elapsed * 1000, 3),
            request_id=request_id,
        )

    async def _too_large(self, scope: Scope, receive: Receive, send: Send, request_id: str) -> None:
        err = PayloadTooLarge(f"request body larger than {self.max_body} bytes")
        response = problem_response(err.to_problem(scope["path"]), {"x-request-id": request_id})
        await response(scope, receive, send)


def install_middleware(app: FastAPI, runtime: Runtime) -> None:
    app.add_middleware(ObservabilityMiddleware, runtime=runtime)
