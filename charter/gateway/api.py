"""HTTP doors into the gateway.

``/v1/chat/completions`` and ``/v1/models`` speak the OpenAI wire format (errors included:
``{"error": {"message", "type", "param", "code"}}``), so the official clients work unchanged.
``/v1/prompts...`` are Charter's own routes and answer errors as problem+json.

The chat route parses the body itself with orjson: it is the hot path, and OpenAI clients
expect OpenAI-shaped validation errors rather than FastAPI's.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, Field

from charter.gateway import get_gateway
from charter.gateway.resilience import KeyState
from charter.gateway.service import Gateway, GatewayError
from charter.gateway.types import Completion

router = APIRouter(tags=["gateway"])

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
        "service_level",
        "store",
    }
)
KNOWN = PASSTHROUGH | {"model", "messages", "stream", "stream_options", "user", "metadata", "n"}
JSON = "application/json"

_chat_body = {
    "content": {
        JSON: {
            "schema": {
                "type": "object",
                "required": ["model", "messages"],
                "properties": {
                    "model": {"type": "string", "description": "a route or model name from GET /v1/models"},
                    "messages": {"type": "array", "items": {"type": "object"}},
                    "stream": {"type": "boolean"},
                    "user": {"type": "string"},
                    "metadata": {"type": "object"},
                },
            }
        }
    },
    "required": True,
}
_openai_error = {"content": {JSON: {"schema": {"type": "object", "properties": {"error": {"type": "object"}}}}}}


def _gateway(request: Request) -> Gateway:
    return get_gateway(request.app.state.runtime)


def _error(exc: GatewayError) -> Response:
    return Response(orjson.dumps(exc.to_openai()), status_code=exc.status, media_type=JSON, headers=exc.headers)


def _bad(message: str, param: str | None = None, code: str | None = None) -> GatewayError:
    return GatewayError(400, message, type="invalid_request_error", param=param, code=code)


def _token(request: Request) -> str | None:
    auth = request.headers.get("authorization")
    if auth:
        scheme, _, value = auth.partition(" ")
        return value.strip() if scheme.lower() == "bearer" and value.strip() else None
    return request.headers.get("api-key") or request.headers.get("x-api-key")


def parse_chat(body: bytes) -> dict[str, Any]:
    """The request as a dict, or :class:`GatewayError` 400 naming the offending parameter."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise _bad(f"We could not parse the JSON body of your request: {exc}", code="invalid_json") from None
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
    if data.get("n", 1) != 1:
        raise _bad("only n=1 is supported", param="n")
    t = data.get("temperature")
    if t is not None and (not isinstance(t, int | float) or isinstance(t, bool) or not 0 <= t <= 2):
        raise _bad("temperature must be a number between 0 and 2", param="temperature")
    for name in ("max_tokens", "max_completion_tokens"):
        v = data.get(name)
        if v is not None and (not isinstance(v, int) or isinstance(v, bool) or v < 1):
            raise _bad(f"{name} must be a positive integer", param=name)
    if data.get("user") is not None and not isinstance(data["user"], str):
        raise _bad("user must be a string", param="user")
    if data.get("metadata") is not None and not isinstance(data["metadata"], dict):
        raise _bad("metadata must be an object", param="metadata")
    return data


def _headers(
    c: Completion | None, route: str, model: str, provider: str, chain: list[dict[str, Any]]
) -> dict[str, str]:
    return {
        "x-charter-route": route,
        "x-charter-model": model,
        "x-charter-provider": provider,
        "x-charter-attempts": str(len(chain)),
    }


@router.post(
    "/v1/chat/completions",
    operation_id="createChatCompletion",
    summary="OpenAI-compatible chat completions (JSON or server-sent events)",
    openapi_extra={"requestBody": _chat_body},
    responses={400: _openai_error, 401: _openai_error, 404: _openai_error, 429: _openai_error, 502: _openai_error},
)
async def chat_completions(request: Request) -> Response:
    gw = _gateway(request)
    try:
        data = parse_chat(await request.body())
        key = gw.authenticate(_token(request))
        params = {k: v for k, v in data.items() if k in PASSTHROUGH}
        metadata = data.get("metadata") or {}
        if data.get("stream"):
            return await _stream(gw, data, params, metadata, key)
        c = await gw.complete(
            data["model"],
            data["messages"],
            metadata=metadata,
            user=data.get("user"),
            params=params,
            key=key,
            endpoint="chat",
        )
    except GatewayError as exc:
        return _error(exc)
    message: dict[str, Any] = {"role": "assistant", "content": c.text}
    if c.tool_calls:
        message["tool_calls"] = c.tool_calls
    body: dict[str, Any] = {
        "id": "chatcmpl-" + (c.audit_id.replace("-", "") or uuid.uuid4().hex),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": c.model,
        "choices": [{"index": 0, "message": message, "finish_reason": c.finish_reason, "logprobs": None}],
        "usage": {**c.usage, "total_tokens": c.usage.get("prompt_tokens", 0) + c.usage.get("completion_tokens", 0)},
        "system_fingerprint": c.model_version or None,
    }
    if c.citations:
        body["citations"] = c.citations
    return Response(
        orjson.dumps(body), media_type=JSON, headers=_headers(c, c.route, c.model, c.provider, c.fallback_chain)
    )


async def _stream(
    gw: Gateway, data: dict[str, Any], params: dict[str, Any], metadata: dict[str, Any], key: KeyState
) -> Response:
    include_usage = bool((data.get("stream_options") or {}).get("include_usage"))
    agen = gw.stream(data["model"], data["messages"], metadata=metadata, user=data.get("user"), params=params, key=key)
    # Pull the first delta before answering: routing failures then get a real status code.
    model, first = await anext(agen)
    chunk_id = "chatcmpl-" + uuid.uuid4().hex
    created = int(time.time())

    def chunk(delta: dict[str, Any], finish: str | None) -> bytes:
        return (
            b"data: "
            + orjson.dumps(
                {
                    "id": chunk_id,
                    "object": "chat.completion.chunk",
                    "created": created,
                    "model": model.name,
                    "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}],
                }
            )
            + b"\n\n"
        )

    async def events() -> AsyncIterator[bytes]:
        usage: dict[str, int] | None = None
        finish = None
        try:
            yield chunk({"role": "assistant", "content": first.text}, None)
            usage, finish = first.usage or usage, first.finish_reason or finish
            async for _, delta in agen:
                if delta.text or delta.tool_calls:
                    d: dict[str, Any] = {"content": delta.text} if delta.text else {}
                    if delta.tool_calls:
                        d["tool_calls"] = delta.tool_calls
                    yield chunk(d, None)
                usage, finish = delta.usage or usage, delta.finish_reason or finish
        except GatewayError as exc:
            yield b"data: " + orjson.dumps(exc.to_openai()) + b"\n\n"
            return
        finally:
            await agen.aclose()
        yield chunk({}, finish or "stop")
        if include_usage:
            u = usage or {"prompt_tokens": 0, "completion_tokens": 0}
            total = u.get("prompt_tokens", 0) + u.get("completion_tokens", 0)
            yield (
                b"data: "
                + orjson.dumps(
                    {
                        "id": chunk_id,
                        "object": "chat.completion.chunk",
                        "created": created,
                        "model": model.name,
                        "choices": [],
                        "usage": {**u, "total_tokens": total},
                    }
                )
                + b"\n\n"
            )
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


@router.get(
    "/v1/models", operation_id="listModels", summary="Routes and models (OpenAI format)", responses={401: _openai_error}
)
async def list_models(request: Request) -> Response:
    gw = _gateway(request)
    try:
        gw.authenticate(_token(request))
    except GatewayError as exc:
        return _error(exc)
    return Response(orjson.dumps({"object": "list", "data": gw.models()}), media_type=JSON)


@router.get(
    "/v1/models/{model_id}",
    operation_id="retrieveModel",
    summary="One route or model (OpenAI format)",
    responses={401: _openai_error, 404: _openai_error},
)
async def retrieve_model(request: Request, model_id: str) -> Response:
    gw = _gateway(request)
    try:
        gw.authenticate(_token(request))
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


class PromptRunIn(BaseModel):
    variables: dict[str, Any] = Field(default_factory=dict)
    version: str | None = Field(None, description="run this exact version (e.g. for an eval)")
    label: str | None = Field(None, description="run the version a label points at")
    user: str | None = Field(None, description="end-user id; hashed (HMAC) before it is stored")
    locale: str | None = None
    market: str | None = None
    save_draft: bool | None = Field(None, description="override the prompt's output.save_draft")


class PromptRunOut(BaseModel):
    id: str
    prompt: str
    version: str
    selected_by: str
    output: str
    data: dict[str, Any] | None = None
    validation: dict[str, Any] | None = None
    risk: dict[str, Any] | None = None
    draft: dict[str, Any] | None = None
    model: str
    model_version: str
    provider: str
    route: str
    fallback_chain: list[dict[str, Any]]
    citations: list[str]
    usage: dict[str, int]
    cost: float
    latency_ms: float


@router.post(
    "/v1/prompts/{name}/run",
    operation_id="runPrompt",
    response_model=PromptRunOut,
    summary="Render a registered prompt version and run it",
)
async def run_prompt_route(request: Request, name: str, body: PromptRunIn) -> dict[str, Any]:
    from charter.gateway.prompts.run import run_prompt

    gw = _gateway(request)
    key = gw.authenticate(_token(request))
    return await run_prompt(
        gw,
        name,
        body.variables,
        version=body.version,
        label=body.label,
        user=body.user,
        locale=body.locale,
        market=body.market,
        key=key,
        save_draft=body.save_draft,
    )


@router.get("/v1/prompts", operation_id="listPrompts", summary="Registered prompts, versions and labels")
async def list_prompts(request: Request) -> list[dict[str, Any]]:
    from charter.gateway.prompts.labels import labels_of

    gw = _gateway(request)
    out = []
    with gw.rt.read() as conn:
        for prompt in gw.prompts.prompts.values():
            out.append(
                {
                    "name": prompt.name,
                    "description": prompt.description,
                    "versions": list(prompt.versions),
                    "labels": labels_of(conn, prompt.name),
                    "flags": [f.name for f in prompt.flags],
                }
            )
    return out
