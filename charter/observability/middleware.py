"""One raw ASGI middleware for every request: request id, body-size limit, a server span with
W3C trace-context propagation, Prometheus metrics and an access log. Raw ASGI (not
BaseHTTPMiddleware) keeps the per-request cost to a few microseconds."""

from __future__ import annotations

import time
from contextlib import nullcontext

import structlog
from fastapi import FastAPI
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from charter.exceptions import BadRequest, PayloadTooLarge
from charter.observability.errors import problem_response
from charter.observability.requests import finish_request, request_id_from, request_span
from charter.observability.tracer import CurrentSpan
from charter.runtime import Runtime


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
        scope.setdefault("state", {})["request_id"] = request_id  # request.state.request_id for routes
        max_body = self.rt.body_limits.get((scope["method"], scope["path"]), self.max_body)
        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and int(length) > max_body:
            await self._too_large(scope, receive, send, request_id, max_body)
            return
        if "\x00" in scope["path"] or b"%00" in scope.get("query_string", b""):
            # No store keeps NUL in text (PostgreSQL refuses it): say so instead of failing deep down.
            err = BadRequest("NUL characters are not allowed in the path or query")
            await problem_response(err.to_problem(scope["path"]), {"x-request-id": request_id})(scope, receive, send)
            return
        telemetry = self.rt.telemetry
        status = 500
        seen = 0

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
        span = request_span(telemetry, method, scope["path"], request_id, headers.get(b"traceparent"))
        with CurrentSpan(span, end_on_exit=False) if span is not None else nullcontext():
            try:
                await self.app(scope, counting_receive, send_with_id)
            except BodyTooLarge:
                await self._too_large(scope, receive, send, request_id, max_body)
                status = 413
            finally:
                route = getattr(scope.get("route"), "path", "unmatched")
                finish_request(
                    telemetry,
                    span,
                    method=method,
                    path=scope["path"],
                    route=route,
                    status=status,
                    start=start,
                    request_id=request_id,
                )
                structlog.contextvars.unbind_contextvars("request_id")

    async def _too_large(self, scope: Scope, receive: Receive, send: Send, request_id: str, max_body: int) -> None:
        message = f"request body larger than {max_body} bytes"
        openai_error_path = getattr(getattr(scope.get("app"), "state", None), "openai_error_path", None)
        response: Response
        if openai_error_path is not None and openai_error_path(scope["path"]):
            # The gateway's paths speak OpenAI's error format (charter.gateway.api.install_unknown_urls).
            error = {"message": message, "type": "invalid_request_error", "param": None, "code": "request_too_large"}
            response = JSONResponse({"error": error}, 413, {"x-request-id": request_id})
        else:
            response = problem_response(
                PayloadTooLarge(message).to_problem(scope["path"]), {"x-request-id": request_id}
            )
        await response(scope, receive, send)


def install_middleware(app: FastAPI, runtime: Runtime) -> None:
    app.add_middleware(ObservabilityMiddleware, runtime=runtime)
