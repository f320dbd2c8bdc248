"""Every error leaves as ``application/problem+json`` (RFC 9457)."""

from __future__ import annotations

from typing import Any

import orjson
import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException

from charter.exceptions import PROBLEM_BASE, BadRequest, CharterError, ErrorDetail, ValidationFailed
from charter.schemas.validation import pointer

log = structlog.get_logger("charter.errors")
PROBLEM = "application/problem+json"

_problem_schema = {
    "content": {
        PROBLEM: {
            "schema": {
                "type": "object",
                "required": ["type", "title", "status", "detail"],
                "properties": {
                    "type": {"type": "string"},
                    "title": {"type": "string"},
                    "status": {"type": "integer"},
                    "detail": {"type": "string"},
                    "instance": {"type": "string"},
                    "errors": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {"pointer": {"type": "string"}, "message": {"type": "string"}},
                        },
                    },
                },
            }
        }
    }
}
#: The title of every status a Charter route may answer with a problem (RFC 9457).
PROBLEM_TITLES: dict[int, str] = {
    400: "Bad request",
    401: "Authentication required",
    403: "Forbidden",
    404: "Not found",
    409: "Conflict",
    410: "Gone",
    412: "Precondition failed",
    413: "Payload too large",
    415: "Unsupported media type",
    422: "Validation failed",
    428: "Precondition required",
    429: "Too many requests",
    502: "Upstream error",
    503: "Service unavailable",
    504: "Upstream timeout",
}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses=`` for a route: each status documented as ``application/problem+json``.

    Use it for every status a route can answer besides its success, so the OpenAPI document (and
    the schemathesis fuzz test, which checks status-code conformance) tells clients the truth::

        @router.post("/v1/things", responses=problem_responses(400, 401, 404, 422))
    """
    return {code: {"description": PROBLEM_TITLES.get(code, "Error"), **_problem_schema} for code in statuses}


#: Public read routes: bad input, not found, invalid parameters.
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = problem_responses(400, 404, 422)
#: Authenticated routes (reads and writes).
WRITE_RESPONSES: dict[int | str, dict[str, Any]] = problem_responses(400, 401, 403, 404, 409, 412, 413, 415, 422, 428)


def problem_response(problem: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(problem), status_code=problem["status"], media_type=PROBLEM, headers=headers)


def _in_body(body: Any, path: list[Any]) -> list[Any]:
    """``path`` as a pointer into ``body``: without the tag pydantic puts in a location for the
    member of a discriminated union (``items/0/create/data`` is ``/items/0/data``): a step that is
    not in the body but is the value of one of its members (``"action": "create"``)."""
    out: list[Any] = []
    node = body
    for i, step in enumerate(path):
        if (isinstance(node, dict) and step in node) or (
            isinstance(node, list) and isinstance(step, int) and 0 <= step < len(node)
        ):
            node = node[step]
        elif isinstance(node, dict) and i < len(path) - 1 and isinstance(step, str) and step in node.values():
            continue
        else:
            return out + path[i:]
        out.append(step)
    return out


def _from_validation(exc: RequestValidationError) -> CharterError:
    errors = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        detail = next((e.get("ctx", {}).get("error") for e in errors if e.get("type") == "json_invalid"), None)
        return BadRequest(f"malformed JSON body{': ' + str(detail) if detail else ''}")
    details = []
    for e in errors:
        loc = list(e.get("loc", ()))
        where = loc[0] if loc else "body"
        path = _in_body(exc.body, loc[1:]) if where == "body" else loc[1:]
        ptr = pointer(path) if where == "body" else pointer(loc)
        details.append(ErrorDetail(ptr, str(e.get("msg", "invalid")), str(e.get("type", ""))))
    return ValidationFailed(detail=f"{len(details)} invalid input(s)", errors=details)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(CharterError)
    async def charter_error(request: Request, exc: CharterError) -> Response:
        if exc.status >= 500:
            log.error("server_error", error=str(exc), path=request.url.path)
        headers = {"WWW-Authenticate": 'Bearer realm="charter"'} if exc.status == 401 else None
        return problem_response(exc.to_problem(request.url.path), headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        return problem_response(_from_validation(exc).to_problem(request.url.path))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        slug = {404: "not-found", 405: "method-not-allowed"}.get(exc.status_code, "http-error")
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"no route matches {request.method} {request.url.path}"
        elif exc.status_code == 400 and detail == "There was an error parsing the body":
            detail = "malformed request body: send UTF-8 encoded JSON"
        problem = {
            "type": PROBLEM_BASE + slug,
            "title": detail if exc.status_code != 404 else "Not found",
            "status": exc.status_code,
            "detail": detail,
            "instance": request.url.path,
        }
        return problem_response(problem, getattr(exc, "headers", None))

    @app.exception_handler(sa_exc.DataError)
    async def data_error(request: Request, exc: sa_exc.DataError) -> Response:
        # The database refused a value that got past validation (a number out of range, a byte the
        # backend cannot store): the input was bad, not the server. Logged, since validation should
        # have caught it first.
        log.warning("database_refused_input", path=request.url.path, error=str(exc.orig))
        return problem_response(BadRequest("the database refused a value in this request").to_problem(request.url.path))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled_error", path=request.url.path)
        openai_error_path = getattr(request.app.state, "openai_error_path", None)
        if openai_error_path is not None and openai_error_path(request.url.path):
            # The gateway's paths answer OpenAI error objects, even for a bug (charter.gateway.api).
            error = {
                "message": "an unexpected error occurred; it has been logged",
                "type": "api_error",
                "param": None,
                "code": "internal_error",
            }
            return JSONResponse({"error": error}, 500)
        problem = {
            "type": PROBLEM_BASE + "internal",
            "title": "Internal error",
            "status": 500,
            "detail": "an unexpected error occurred; it has been logged",
            "instance": request.url.path,
        }
        return problem_response(problem)
