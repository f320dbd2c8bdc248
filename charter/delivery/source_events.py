"""Webhooks from the CMS behind the delivery API: ``POST /v1/sources/{source}/events``.

When another CMS is the content source (docs/sources.md), its own webhooks tell Charter what
changed: a Directus Flow posting ``{{$trigger}}``, a Strapi webhook. Each call is checked against
the source's ``webhook_secret`` (header ``Charter-Source-Secret``, compared in constant time),
turned into :class:`~charter.delivery.sources.vendor.SourceChange` records by the source, and
recorded as ``source.changed`` events in one transaction (:func:`record_source_changes`). That
event is a purging event: this instance's cache purges at commit, other instances and the worker
follow the outbox, a ``cache.purge`` webhook tells the CDN, and webhook subscribers of
``source.changed`` hear of it like of any other event.
"""

from __future__ import annotations

import hmac
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from charter import strictjson
from charter.delivery.sources.vendor import SourceChange
from charter.events import SourceChanged, record
from charter.exceptions import BadRequest, NotFound, Unauthorized, UnsupportedMediaType
from charter.http.routes import CharterRoute, is_json, media_type
from charter.observability.errors import problem_responses
from charter.runtime import Runtime

router = APIRouter(tags=["delivery"], route_class=CharterRoute)

SECRET_HEADER = "Charter-Source-Secret"


class SourceEventsOut(BaseModel):
    events: int
    keys: list[str]


def record_source_changes(rt: Runtime, source: str, changes: list[SourceChange]) -> list[str]:
    """Record one ``source.changed`` event per change (one transaction); the surrogate keys they
    purge (at commit, through the event bus: :mod:`charter.delivery.purge`)."""
    keys: list[str] = []
    with rt.write() as (conn, pending):
        for change in changes:
            ct = rt.registry.get(change.type)
            change_keys = change.surrogate_keys(source)
            keys.extend(change_keys)
            event = SourceChanged(
                source=source,
                type=change.type,
                id=change.entry_id,
                vendor_id=change.vendor_id,
                action=change.action,
                keys=change_keys,
                changed_at=change.changed_at.isoformat() if change.changed_at else None,
            ).event(domain=ct.domain)
            pending.append(record(conn, event))
    return list(dict.fromkeys(keys))


@router.post(
    "/v1/sources/{source}/events",
    operation_id="receiveSourceEvents",
    response_model=SourceEventsOut,
    status_code=202,
    responses=problem_responses(400, 401, 404, 415, 502),
    summary="A webhook from the CMS behind the delivery API (purges the cache, records source.changed)",
)
async def receive_source_events(request: Request, source: str) -> SourceEventsOut:
    rt: Runtime = request.app.state.runtime
    if source != rt.settings.source:
        raise NotFound(f"this server delivers from {rt.settings.source!r}, not {source[:40]!r}")
    adapter: Any = rt.source
    secret = getattr(adapter, "webhook_secret", "")
    if not secret:
        raise NotFound(f"source {source!r} has no webhook_secret, so it takes no webhooks (docs/sources.md)")
    given = request.headers.get(SECRET_HEADER, "")
    if not hmac.compare_digest(given.encode(), secret.encode()):
        raise Unauthorized(f"missing or wrong {SECRET_HEADER} header")
    media = media_type(request.headers.get("content-type"))
    if not is_json(media):
        raise UnsupportedMediaType(f"send the webhook body as JSON (Content-Type: application/json), not {media!r}")
    try:
        payload = strictjson.loads(await request.body())
    except strictjson.InvalidJSON as exc:
        raise BadRequest(f"the webhook body is not JSON: {exc.detail}") from None

    def apply() -> SourceEventsOut:
        changes: list[SourceChange] = adapter.webhook_changes(payload)
        keys = record_source_changes(rt, source, changes) if changes else []
        return SourceEventsOut(events=len(changes), keys=keys)

    return await run_in_threadpool(apply)
