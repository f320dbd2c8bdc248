"""HTTP doors into the gateway.

``/v1/chat/completions`` and ``/v1/models`` speak the OpenAI wire format (errors included:
``{"error": {"message", "type", "param", "code"}}``), so the official clients work unchanged;
they authenticate with the gateway's own client keys (``keys`` in configs/model.yaml).
``/v1/prompts...`` are Charter's own routes (:mod:`charter.gateway.prompts.api`): Charter API
tokens, problem+json errors.

The chat route parses the body itself with orjson: it is the hot path, and OpenAI clients
expect OpenAI-shaped validation errors rather than FastAPI's.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import orjson
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from charter import strictjson
from charter.gateway import get_gateway
from charter.gateway.calls_api import router as calls_router
from charter.gateway.embeddings import MAX_DIMENSIONS, MAX_INPUTS, audit_inputs, encode, parse_embeddings
from charter.gateway.prompts.api import router as prompts_router
from charter.gateway.resilience import KeyState
from charter.gateway.service import Gateway, GatewayError
from charter.gateway.tools.offer import ToolOffer
from charter.gateway.types import new_id
from charter.http.openapi import NOT_BLANK, rules
from charter.http.routes import CharterRoute, is_json, media_type
from charter.rawroutes import RawRoute
from charter.runtime import Runtime

router = APIRouter(tags=["gateway"], route_class=CharterRoute)
openai_router = APIRouter(tags=["gateway"], route_class=RawRoute)

ROLES = frozenset({"system", "user", "assistant", "tool", "developer", "function"})
#: OpenAI chat parameters passed to providers unchanged.
PASSTHROUGH = frozenset(
    {
        "temperature",
        "top_p",
        "max_tokens",
        "max_completion_tokens",
        "stop",
        "tools",
        "tool_choice",
        "parallel_tool_calls",
        "response_format",
        "seed",
        "presence_penalty",
        "frequency_penalty",
        "logit_bias",
        "logprobs",
        "top_logprobs",
        "reasoning_effort",
        "modalities",
        "prediction",
        "service_tier",
        "store",
    }
)
KNOWN = PASSTHROUGH | {"model", "messages", "stream", "stream_options", "user", "metadata", "n"}
RISK_LEVELS = ("low", "medium", "high")
JSON = "application/json"

_error_schema = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["message", "type"],
            "properties": {
                "message": {"type": "string"},
                "type": {"type": "string"},
                "param": {"type": ["string", "null"]},
                "code": {"type": ["string", "null"]},
            },
        }
    },
}
_chat_request = {
    "type": "object",
    "required": ["model", "messages"],
    "additionalProperties": False,  # an unknown argument is a 400, as on OpenAI's API
    "properties": {
        "model": {"type": "string", "minLength": 1, "description": "a route or model name from GET /v1/models"},
        "messages": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["role"],
                "properties": {
                    "role": {"type": "string", "enum": sorted(ROLES)},
                    "content": {"type": ["string", "array", "null"]},
                },
            },
        },
        "stream": {"type": "boolean"},
        "stream_options": {"type": "object", "properties": {"include_usage": {"type": "boolean"}}},
        "temperature": {"type": "number", "minimum": 0, "maximum": 2},
        "max_tokens": {"type": "integer", "minimum": 1},
        "user": {"type": "string", "description": "end-user id; stored only as a keyed HMAC"},
        "metadata": {
            "type": "object",
            "description": 'routing hints: {"risk": "low"|"medium"|"high"} raises the risk level on a by-risk route',
            "properties": {"risk": {"enum": list(RISK_LEVELS)}},
        },
    },
}
_chat_completion = {
    "type": "object",
    "required": ["id", "object", "created", "model", "choices"],
    "properties": {
        "id": {"type": "string"},
        "object": {"type": "string", "enum": ["chat.completion"]},
        "created": {"type": "integer"},
        "model": {"type": "string"},
        "choices": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["index", "message", "finish_reason"],
                "properties": {
                    "index": {"type": "integer"},
                    "message": {"type": "object", "required": ["role"]},
                    "finish_reason": {"type": ["string", "null"]},
                },
            },
        },
        "usage": {"type": "object"},
        "citations": {"type": "array", "items": {"type": "string"}},
    },
}
_model = {
    "type": "object",
    "required": ["id", "object", "owned_by"],
    "properties": {
        "id": {"type": "string"},
        "object": {"type": "string", "enum": ["model"]},
        "created": {"type": "integer"},
        "owned_by": {"type": "string"},
        "kind": {"type": "string", "enum": ["route", "model"]},
    },
}


def _errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    names = {
        400: "Malformed request",
        401: "Missing or wrong client key",
        403: "The key may not use this route",
        404: "Unknown route or model",
        413: "The request body is larger than the server's limit (max_body_bytes)",
        415: "The body is not declared as JSON (Content-Type: application/json)",
        429: "Rate limit or budget exceeded (or every upstream rate-limited)",
        502: "Every target failed",
        503: "No target available (circuits open, keys unset), or the shared limits store (Redis) unreachable",
    }
    return {c: {"description": names[c], "content": {JSON: {"schema": _error_schema}}} for c in codes}


def _gateway(request: Request) -> Gateway:
    return get_gateway(request.app.state.runtime)


def _error(exc: GatewayError) -> Response:
    return Response(orjson.dumps(exc.to_openai()), status_code=exc.status, media_type=JSON, headers=exc.headers)


def _bad(message: str, param: str | None = None, code: str | None = None) -> GatewayError:
    return GatewayError(400, message, type="invalid_request_error", param=param, code=code)


def client_key(request: Request) -> str | None:
    """The client key: ``Authorization: Bearer``, or ``api-key`` (Azure) / ``x-api-key``."""
    auth = request.headers.get("authorization")
    if auth:
        scheme, _, value = auth.partition(" ")
        return value.strip() if scheme.lower() == "bearer" and value.strip() else None
    return request.headers.get("api-key") or request.headers.get("x-api-key")


def read_json(body: bytes, content_type: str | None) -> Any:
    """A request body through Charter's strict JSON gate (:mod:`charter.strictjson`), or
    :class:`GatewayError`: 415 for a body not declared JSON (a cross-site ``text/plain`` or form
    post is refused), 400 ``invalid_json`` naming where it broke."""
    media = media_type(content_type)
    if not is_json(media):
        raise GatewayError(
            415,
            f"Send the request body as JSON (Content-Type: application/json), not {media or 'no Content-Type'!r}.",
            type="invalid_request_error",
            code="unsupported_media_type",
        )
    try:
        data = strictjson.loads(body)
    except strictjson.InvalidJSON as exc:
        where = exc.errors[0].pointer if exc.errors else ""
        raise _bad(
            f"We could not parse the JSON body of your request: {exc.detail}", param=where or None, code="invalid_json"
        ) from None
    return data


def _refused_body(gw: Gateway, endpoint: str, key: Any, data: Any, exc: GatewayError, inputs: str) -> None:
    """Audit a request refused for its body, before routing: one record with what it named (its
    model when a string; its ``inputs`` member, messages or embeddings input, bounded as
    :func:`audit_inputs` keeps them), whatever the body held, JSON or not."""
    named = data if isinstance(data, dict) else {}
    model = named.get("model")
    kept = audit_inputs(named[inputs]) if inputs in named else []
    gw.refused(endpoint, key, {"model": model if isinstance(model, str) else ""}, exc, kept)


def parse_chat(body: bytes, content_type: str | None = "application/json") -> dict[str, Any]:
    """The request as a dict, or :class:`GatewayError` 400 naming the offending parameter (415 for
    a body that is not declared JSON). The body goes through Charter's strict JSON gate."""
    return check_chat(read_json(body, content_type))


def check_chat(data: Any) -> dict[str, Any]:
    """A parsed chat request checked as OpenAI does (:func:`parse_chat`): the dict, or a 400."""
    if not isinstance(data, dict):
        raise _bad("The request body must be a JSON object.")
    unknown = [k for k in data if k not in KNOWN]
    if unknown:
        raise _bad(f"Unrecognized request argument supplied: {unknown[0]}", param=unknown[0])
    if not isinstance(data.get("model"), str) or not data["model"]:
        raise _bad("you must provide a model parameter", param="model", code="missing_required_parameter")
    messages = data.get("messages")
    if not isinstance(messages, list) or not messages:
        raise _bad("messages must be a non-empty array", param="messages")
    for i, m in enumerate(messages):
        if not isinstance(m, dict) or m.get("role") not in ROLES:
            raise _bad(f"messages[{i}].role must be one of {', '.join(sorted(ROLES))}", param=f"messages[{i}].role")
        content = m.get("content")
        if content is not None and not isinstance(content, str | list):
            raise _bad(f"messages[{i}].content must be a string or an array of parts", param=f"messages[{i}].content")
    if "stream" in data and not isinstance(data["stream"], bool):
        raise _bad("stream must be a boolean", param="stream")
    if data.get("stream_options") is not None and not isinstance(data["stream_options"], dict):
        raise _bad("stream_options must be an object", param="stream_options")
    if data.get("n", 1) != 1:
        raise _bad("only n=1 is supported", param="n")
    t = data.get("temperature")
    if t is not None and (not isinstance(t, int | float) or isinstance(t, bool) or not 0 <= t <= 2):
        raise _bad("temperature must be a number between 0 and 2", param="temperature")
    for name in ("max_tokens", "max_completion_tokens"):
        v = data.get(name)
        if isinstance(v, float) and v.is_integer():  # 256.0 is the integer 256 in JSON
            data[name] = v = int(v)
        if v is not None and (not isinstance(v, int) or isinstance(v, bool) or v < 1):
            raise _bad(f"{name} must be a positive integer", param=name)
    if data.get("user") is not None and not isinstance(data["user"], str):
        raise _bad("user must be a string", param="user")
    metadata = data.get("metadata")
    if metadata is not None:
        if not isinstance(metadata, dict):
            raise _bad("metadata must be an object", param="metadata")
        if "risk" in metadata and metadata["risk"] not in RISK_LEVELS:
            raise _bad("metadata.risk must be low, medium or high", param="metadata.risk")
    return data


def _hints(data: dict[str, Any]) -> dict[str, Any]:
    """What the gateway takes from a client's ``metadata``: only routing hints, never audit fields."""
    metadata = data.get("metadata") or {}
    return {"risk": metadata["risk"]} if "risk" in metadata else {}


@openai_router.post(
    "/v1/chat/completions",
    operation_id="createChatCompletion",
    summary="OpenAI-compatible chat completions (JSON or server-sent events)",
    openapi_extra={"requestBody": {"required": True, "content": {JSON: {"schema": _chat_request}}}},
    responses={
        200: {
            "description": "A chat.completion object, or with stream: true a text/event-stream of chunks",
            "content": {JSON: {"schema": _chat_completion}, "text/event-stream": {"schema": {"type": "string"}}},
        },
        **_errors(400, 401, 403, 404, 415, 429, 502, 503),
        **_errors(413),  # from the body-size limit (charter.observability.middleware), OpenAI-shaped here
    },
)
async def chat_completions(request: Request) -> Response:
    gw = _gateway(request)
    try:
        key = gw.authenticate(client_key(request))
        data: Any = None
        try:
            data = read_json(await request.body(), request.headers.get("content-type"))
            data = check_chat(data)
        except GatewayError as exc:
            _refused_body(gw, "chat", key, data, exc, "messages")  # like a refused offer below
            raise
        try:
            offer = gw.offer(data, key)
        except GatewayError as exc:
            gw.refused("chat", key, data, exc)
            raise
        params = {k: v for k, v in data.items() if k in PASSTHROUGH}
        if data.get("stream"):
            return await _stream(gw, data, params, _hints(data), key, offer)
        c = await gw.complete(
            data["model"],
            data["messages"],
            metadata=_hints(data),
            user=data.get("user"),
            params=params,
            key=key,
            endpoint="chat",
            offer=offer,
        )
    except GatewayError as exc:
        return _error(exc)
    message: dict[str, Any] = {"role": "assistant", "content": c.text}
    if c.tool_calls:
        message["tool_calls"] = c.tool_calls
    body: dict[str, Any] = {
        "id": "chatcmpl-" + (c.audit_id or new_id()).replace("-", ""),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": c.model,
        "choices": [{"index": 0, "message": message, "finish_reason": c.finish_reason, "logprobs": None}],
        "usage": {**c.usage, "total_tokens": c.usage.get("prompt_tokens", 0) + c.usage.get("completion_tokens", 0)},
        "system_fingerprint": c.model_version or None,
    }
    if c.citations:
        body["citations"] = c.citations
    headers = {
        "x-charter-route": c.route,
        "x-charter-model": c.model,
        "x-charter-provider": c.provider,
        "x-charter-attempts": str(len(c.fallback_chain)),
    }
    return Response(orjson.dumps(body), media_type=JSON, headers=headers)


async def _stream(
    gw: Gateway,
    data: dict[str, Any],
    params: dict[str, Any],
    metadata: dict[str, Any],
    key: KeyState,
    offer: ToolOffer | None,
) -> Response:
    include_usage = bool((data.get("stream_options") or {}).get("include_usage"))
    call_id = new_id()
    agen = gw.stream(
        data["model"],
        data["messages"],
        metadata={**metadata, "call_id": call_id},
        user=data.get("user"),
        params=params,
        key=key,
        offer=offer,
    )
    # Pull the first delta before answering: routing failures then get a real status code.
    model, first = await anext(agen)
    chunk_id = "chatcmpl-" + call_id.replace("-", "")
    created = int(time.time())

    def chunk(delta: dict[str, Any], finish: str | None) -> bytes:
        body = {
            "id": chunk_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model.name,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}],
        }
        return b"data: " + orjson.dumps(body) + b"\n\n"

    def content(d: Any) -> dict[str, Any]:
        out: dict[str, Any] = {"content": d.text} if d.text else {}
        if d.tool_calls:
            out["tool_calls"] = d.tool_calls
        return out

    async def events() -> AsyncIterator[bytes]:
        usage: dict[str, int] | None = first.usage
        finish = first.finish_reason
        try:
            yield chunk({"role": "assistant", **({"content": ""} if not first.text else {}), **content(first)}, None)
            async for _, delta in agen:
                if delta.text or delta.tool_calls:
                    yield chunk(content(delta), None)
                usage, finish = delta.usage or usage, delta.finish_reason or finish
        except GatewayError as exc:
            # Headers are gone: an OpenAI-style error event, which the openai client raises.
            yield b"data: " + orjson.dumps(exc.to_openai()) + b"\n\n"
            return
        finally:
            await agen.aclose()
        yield chunk({}, finish or "stop")
        if include_usage:
            u = usage or {"prompt_tokens": 0, "completion_tokens": 0}
            total = u.get("prompt_tokens", 0) + u.get("completion_tokens", 0)
            tail = {
                "id": chunk_id,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model.name,
                "choices": [],
                "usage": {**u, "total_tokens": total},
            }
            yield b"data: " + orjson.dumps(tail) + b"\n\n"
        yield b"data: [DONE]\n\n"

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={
            "cache-control": "no-cache",
            "x-accel-buffering": "no",
            "x-charter-model": model.name,
            "x-charter-provider": model.provider,
        },
    )


@openai_router.get(
    "/v1/models",
    operation_id="listModels",
    summary="Routes and models (OpenAI format)",
    responses={
        200: {
            "description": "Routes first, then models",
            "content": {
                JSON: {
                    "schema": {
                        "type": "object",
                        "required": ["object", "data"],
                        "properties": {"object": {"type": "string"}, "data": {"type": "array", "items": _model}},
                    }
                }
            },
        },
        **_errors(401),
    },
)
async def list_models(request: Request) -> Response:
    gw = _gateway(request)
    try:
        gw.authenticate(client_key(request))
    except GatewayError as exc:
        return _error(exc)
    return Response(orjson.dumps({"object": "list", "data": gw.models()}), media_type=JSON)


@openai_router.get(
    "/v1/models/{model_id}",
    operation_id="retrieveModel",
    summary="One route or model (OpenAI format)",
    responses={200: {"description": "The route or model", "content": {JSON: {"schema": _model}}}, **_errors(401, 404)},
)
async def retrieve_model(request: Request, model_id: str) -> Response:
    gw = _gateway(request)
    try:
        gw.authenticate(client_key(request))
        found = next((m for m in gw.models() if m["id"] == model_id), None)
        if found is None:
            raise GatewayError(
                404,
                f"The model {model_id!r} does not exist",
                type="invalid_request_error",
                param="model",
                code="model_not_found",
            )
    except GatewayError as exc:
        return _error(exc)
    return Response(orjson.dumps(found), media_type=JSON)


_embedding_input = {"type": "string", "minLength": 1, "pattern": NOT_BLANK}
_embeddings_request = {
    "type": "object",
    "required": ["model", "input"],
    "additionalProperties": False,  # an unknown argument is a 400, as on OpenAI's API
    "properties": {
        "model": {
            "type": "string",
            "minLength": 1,
            "description": "an embedding route or model (mode: embedding in model.yaml)",
        },
        "input": {
            "oneOf": [
                _embedding_input,
                {"type": "array", "minItems": 1, "maxItems": MAX_INPUTS, "items": _embedding_input},
            ]
        },
        "encoding_format": {"type": "string", "enum": ["float", "base64"]},
        "dimensions": {"type": "integer", "minimum": 1, "maximum": MAX_DIMENSIONS},
        "user": {"type": "string"},
    },
}
_embeddings_response = {
    "type": "object",
    "required": ["object", "data", "model", "usage"],
    "properties": {
        "object": {"type": "string", "enum": ["list"]},
        "data": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["object", "index", "embedding"],
                "properties": {
                    "object": {"type": "string", "enum": ["embedding"]},
                    "index": {"type": "integer"},
                    "embedding": {"oneOf": [{"type": "array", "items": {"type": "number"}}, {"type": "string"}]},
                },
            },
        },
        "model": {"type": "string"},
        "usage": {"type": "object"},
    },
}


@openai_router.post(
    "/v1/embeddings",
    operation_id="createEmbedding",
    summary="OpenAI-compatible embeddings (the packaged MiniLM model, or an upstream provider)",
    # ``openapi_extra`` below also declares the rule JSON Schema cannot state.
    openapi_extra={
        "requestBody": {"required": True, "content": {JSON: {"schema": _embeddings_request}}},
        **rules(
            (
                "unsupported_dimensions",
                400,
                "dimensions must be the size of a model of the route when every model has a fixed size (the local "
                "MiniLM: 384); OpenAI-shaped, as error.code.",
            )
        ),
    },
    responses={
        200: {
            "description": "One embedding per input, in input order",
            "content": {JSON: {"schema": _embeddings_response}},
        },
        **_errors(400, 401, 403, 404, 415, 429, 502, 503),
        **_errors(413),
    },
)
async def create_embeddings(request: Request) -> Response:
    gw = _gateway(request)
    try:
        key = gw.authenticate(client_key(request))
        data: Any = None
        try:
            data = read_json(await request.body(), request.headers.get("content-type"))
            model, inputs, params = parse_embeddings(data)
        except GatewayError as exc:
            _refused_body(gw, "embeddings", key, data, exc, "input")
            raise
        result = await gw.embed(
            model,
            inputs,
            params={k: v for k, v in params.items() if k == "dimensions"},
            key=key,
            user=data.get("user"),
        )
    except GatewayError as exc:
        return _error(exc)
    fmt = params["encoding_format"]
    body = {
        "object": "list",
        "data": [
            {"object": "embedding", "index": i, "embedding": encode(v, fmt)} for i, v in enumerate(result.vectors)
        ],
        "model": result.model,
        "usage": {"prompt_tokens": result.prompt_tokens, "total_tokens": result.prompt_tokens},
    }
    headers = {
        "x-charter-route": result.route,
        "x-charter-model": result.model,
        "x-charter-provider": result.provider,
        "x-charter-audit-id": result.audit_id,
    }
    return Response(orjson.dumps(body), media_type=JSON, headers=headers)


#: OpenAI API families: a path under one that no route serves is answered with an OpenAI error
#: object (as OpenAI does: 404 "Invalid URL"), not problem+json, so OpenAI clients raise NotFoundError.
OPENAI_FAMILIES = (
    "chat",
    "completions",
    "responses",
    "embeddings",
    "models",
    "moderations",
    "audio",
    "images",
    "files",
    "uploads",
    "batches",
    "fine_tuning",
    "assistants",
    "threads",
    "vector_stores",
    "realtime",
)
ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]


async def unknown_gateway_url(request: Request) -> Response:
    return _error(
        GatewayError(
            404,
            f"Invalid URL ({request.method} {request.url.path})",
            type="invalid_request_error",
            code="unknown_url",
        )
    )


router.include_router(openai_router)
router.include_router(prompts_router)
router.include_router(calls_router)


def _paths(routes: list[Any], prefix: str) -> list[str]:
    """Every route path, through included routers (FastAPI keeps them nested, with their prefix)."""
    out: list[str] = []
    for route in routes:
        original = getattr(route, "original_router", None)
        if original is not None:
            out += _paths(list(original.routes), prefix + route.include_context.prefix)
        elif isinstance(getattr(route, "path", None), str):
            out.append(prefix + route.path)
    return out


def charter_families(app: FastAPI) -> frozenset[str]:
    """The first path segments under ``/v1/`` that Charter's own APIs serve (``entries``,
    ``manage``, ``prompts``, ``ask`` ...): their errors stay problem+json (RFC 9457)."""
    out = set()
    for path in _paths(app.routes, ""):
        if path.startswith("/v1/"):
            family = path[4:].split("/", 1)[0]
            if family and "{" not in family and family not in OPENAI_FAMILIES:
                out.add(family)
    return frozenset(out)


def install_unknown_urls(app: FastAPI) -> None:
    """Answer OpenAI error objects wherever the gateway speaks: the OpenAI-shaped 404 for every
    path under an OpenAI API family that no route serves (catch-alls, added after every router
    so they come last), for every other unknown ``/v1/...`` path outside Charter's own API
    families (the router's not-found answer), and for bodies over the size limit on those
    paths (``app.state.openai_error_path``, read by the observability middleware)."""
    for family in OPENAI_FAMILIES:
        for path in (f"/v1/{family}", f"/v1/{family}/{{rest:path}}"):
            app.add_route(path, unknown_gateway_url, methods=ALL_METHODS, include_in_schema=False)
    own = charter_families(app)

    def openai_error_path(path: str) -> bool:
        if path == "/v1" or path.startswith("/v1/"):
            return path[4:].split("/", 1)[0] not in own
        return False

    app.state.openai_error_path = openai_error_path
    not_found = app.router.default

    async def default(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and openai_error_path(scope["path"]):
            response = await unknown_gateway_url(Request(scope, receive, send))
            await response(scope, receive, send)
            return
        await not_found(scope, receive, send)

    app.router.default = default


async def startup(app: FastAPI, rt: Runtime) -> Callable[[], Awaitable[None]]:
    """Build the gateway at start-up (a bad model.yaml or prompt file stops the server, rather
    than failing its first request) and close it at shutdown."""
    gw = get_gateway(rt)
    _ = gw.prompts

    async def shutdown() -> None:
        await gw.aclose()

    return shutdown


async def limits_ready(rt: Runtime) -> str | None:
    """Readiness of the gateway's shared limits store (Redis), when it has one: keys with limits
    are refused while it is unreachable (docs/gateway.md), so the instance is not ready. A gateway
    that cannot be built (a broken model.yaml) answers its own routes with that error; readiness
    leaves it out (None)."""
    from starlette.concurrency import run_in_threadpool

    try:
        gateway = await run_in_threadpool(get_gateway, rt)  # built once, then cached on the runtime
    except Exception:  # readiness reports, it does not raise
        return None
    return await gateway.limits.ready()
