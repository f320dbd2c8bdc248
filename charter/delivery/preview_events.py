"""Live preview: ``GET /v1/preview/events``, a server-sent event stream (WHATWG HTML §9.2) that tells a
front end showing a preview when what its token shows has changed, so it can re-read without a reload.

The token is the ordinary preview token (docs/preview.md), in the ``Charter-Preview`` header or the
``preview`` query parameter (``EventSource`` cannot send headers). The stream answers:

- ``event: ready`` once, with the current state: ``{"scope", "id", "version"}``;
- ``event: change`` whenever the state changes (an entry token: a new draft revision of the entry; a
  release token: any change to the release), with the same fields;
- ``event: end`` with ``{"reason"}`` when the token expires, is revoked or its target is deleted, and then
  the stream closes;
- a ``:`` comment line every ``heartbeat`` seconds, so proxies keep the connection open.

The state is read from the database every ``interval`` seconds, so a draft saved on any instance is seen
by streams on every instance. A token that is forged, expired, revoked or not on record is a 401 problem
before the stream starts.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from charter.auth.preview import MAX_LENGTH, PreviewToken, token_from, verify
from charter.auth.preview_register import check_live
from charter.content import store
from charter.content.releases import get_release
from charter.exceptions import NotFound, Unauthorized
from charter.observability.errors import problem_responses
from charter.runtime import Runtime

router = APIRouter(tags=["delivery"])

#: How often the state is read (seconds), and how often a keep-alive comment is sent.
INTERVAL = 0.5
HEARTBEAT = 15.0


def state_of(rt: Runtime, token: PreviewToken) -> str:
    """An opaque version of what the token shows; it changes whenever the preview would."""
    with rt.engine.connect() as conn:
        check_live(conn, token)
        if token.scope == "entry":
            entry = store.get_entry(conn, token.id)
            return f"{entry.current_revision}"
        release = get_release(conn, token.id)
        return f"{release.status}:{release.updated_at.isoformat()}:{len(release.items)}"


def _event(name: str, data: dict[str, Any]) -> bytes:
    return b"event: " + name.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"


async def stream(
    request: Request, rt: Runtime, token: PreviewToken, first: str, interval: float, heartbeat: float
) -> AsyncIterator[bytes]:
    facts = {"scope": token.scope, "id": token.id}
    version = first
    yield b"retry: 2000\n" + _event("ready", {**facts, "version": version})
    beat = time.monotonic()
    while True:
        await asyncio.sleep(interval)
        if await request.is_disconnected():
            return
        if time.time() >= token.expires_at:
            yield _event("end", {**facts, "reason": "expired"})
            return
        try:
            current = await run_in_threadpool(state_of, rt, token)
        except (Unauthorized, NotFound) as exc:
            yield _event("end", {**facts, "reason": exc.detail})
            return
        if current != version:
            version = current
            yield _event("change", {**facts, "version": version})
            beat = time.monotonic()
        elif time.monotonic() - beat >= heartbeat:
            yield b": keep-alive\n\n"
            beat = time.monotonic()


@router.get(
    "/v1/preview/events",
    operation_id="previewEvents",
    summary="Live preview: a server-sent event stream of changes to what a preview token shows",
    responses={
        200: {"content": {"text/event-stream": {"schema": {"type": "string"}}}, "description": "The stream."},
        **problem_responses(401, 404),
    },
    response_class=StreamingResponse,
)
async def preview_events(
    request: Request,
    preview: Annotated[str | None, Query(max_length=MAX_LENGTH, description="The preview token.")] = None,
) -> StreamingResponse:
    rt: Runtime = request.app.state.runtime
    raw = token_from(request.headers, {"preview": preview} if preview else {})
    if raw is None:
        raise Unauthorized("a preview token is required (Charter-Preview header or ?preview=)")
    token = verify(rt.settings, raw)
    first = await run_in_threadpool(state_of, rt, token)  # 401/404 before the stream starts
    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return StreamingResponse(
        stream(request, rt, token, first, INTERVAL, HEARTBEAT), media_type="text/event-stream", headers=headers
    )
