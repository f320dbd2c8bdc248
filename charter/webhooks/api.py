"""Webhook management API (admin only): subscriptions, the delivery log, replay (docs/webhooks.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field, WithJsonSchema
from starlette.concurrency import run_in_threadpool

from charter.auth.deps import require
from charter.auth.roles import Actor, Permission
from charter.content.api import json_body
from charter.http.openapi import rules
from charter.http.routes import CharterRoute
from charter.observability.errors import WRITE_RESPONSES
from charter.runtime import Runtime
from charter.webhooks import delivery, subscriptions
from charter.webhooks.subscriptions import known_event_types

router = APIRouter(prefix="/v1/manage/webhooks", tags=["webhooks"], route_class=CharterRoute)
ADMIN = Depends(require(Permission.ADMIN))
JSON = [Depends(json_body)]


def _event_type_choices() -> list[str]:
    names = known_event_types()
    return ["*", *sorted({n.split(".", 1)[0] + ".*" for n in names}), *names]


#: Documented for clients and fuzzers; the handlers check the same (unknown names are a 422).
EventTypeName = Annotated[str, WithJsonSchema({"type": "string", "enum": _event_type_choices()})]
WebhookUrl = Annotated[
    str,
    WithJsonSchema(
        {
            "type": "string",
            "maxLength": 2000,
            "pattern": "^[Hh][Tt][Tt][Pp][Ss]?://[^/?#]",
            "description": "An http:// or https:// URL that the egress guard allows (docs/egress.md).",
        }
    ),
]


#: What JSON Schema cannot say about a target URL (charter.http.openapi.rules).
URL_RULES = rules(
    (
        "egress",
        422,
        "The URL must be one the egress guard allows (docs/egress.md): no userinfo, control or space characters, "
        "a port from 1 to 65535, and a host that is not private, loopback, link-local, metadata or otherwise "
        "internal unless [charter.egress] allows it.",
    )
)


class WebhookCreate(BaseModel):
    url: WebhookUrl = Field(max_length=2000, examples=["https://example.com/hooks/charter"])
    event_types: list[EventTypeName] = Field(
        min_length=1, max_length=50, examples=[["entry.published", "release.*"]], description="Names, 'x.*' or '*'."
    )
    description: str | None = Field(default=None, max_length=500)


class WebhookUpdate(BaseModel):
    url: WebhookUrl | None = Field(default=None, max_length=2000)
    event_types: list[EventTypeName] | None = Field(default=None, min_length=1, max_length=50)
    description: str | None = Field(default=None, max_length=500)
    active: bool | None = None


class WebhookOut(BaseModel):
    id: str
    url: str
    description: str | None
    event_types: list[str]
    active: bool
    created_at: str
    created_by: str
    updated_at: str
    disabled_reason: str | None
    secret: str = Field(description="The signing secret: in full only when created or rotated.")


class DeliveryOut(BaseModel):
    id: str = Field(description="The webhook-id header: the same on every retry and replay.")
    subscription_id: str
    event_id: int
    event_type: str
    status: Literal["pending", "delivering", "succeeded", "dead"]
    attempts: int
    next_attempt_at: str | None
    last_status_code: int | None
    last_error: str | None
    created_at: str
    delivered_at: str | None
    replays: int


class AttemptOut(BaseModel):
    attempt: int
    at: str
    status_code: int | None
    duration_ms: float
    error: str | None
    response_body: str | None
    worker: str


class DeliveryDetail(DeliveryOut):
    body: str = Field(description="The exact request body sent.")
    log: list[AttemptOut]


class ReplayIn(BaseModel):
    status: Literal["dead", "succeeded"] = "dead"
    since: datetime | None = Field(default=None, description="Only deliveries created at or after this instant.")


class ReplayOut(BaseModel):
    replayed: list[str]


def _rt(request: Request) -> Runtime:
    rt: Runtime = request.app.state.runtime
    return rt


@router.get("", operation_id="listWebhooks", response_model=list[WebhookOut], responses=WRITE_RESPONSES)
async def list_all(request: Request, actor: Annotated[Actor, ADMIN]) -> list[dict[str, Any]]:
    rt = _rt(request)

    def run() -> list[dict[str, Any]]:
        with rt.read() as conn:
            return [s.to_dict() for s in subscriptions.list_subscriptions(conn)]

    return await run_in_threadpool(run)


@router.post(
    "",
    operation_id="createWebhook",
    openapi_extra=URL_RULES,
    status_code=201,
    response_model=WebhookOut,
    responses=WRITE_RESPONSES,
    dependencies=JSON,
)
async def create(request: Request, body: WebhookCreate, actor: Annotated[Actor, ADMIN]) -> dict[str, Any]:
    sub = await run_in_threadpool(
        lambda: subscriptions.create_subscription(
            _rt(request), actor, body.url, body.event_types, description=body.description
        )
    )
    return sub.to_dict(with_secret=True)


@router.get("/{webhook_id}", operation_id="getWebhook", response_model=WebhookOut, responses=WRITE_RESPONSES)
async def read(request: Request, webhook_id: str, actor: Annotated[Actor, ADMIN]) -> dict[str, Any]:
    rt = _rt(request)

    def run() -> dict[str, Any]:
        with rt.read() as conn:
            return subscriptions.get_subscription(conn, webhook_id).to_dict()

    return await run_in_threadpool(run)


@router.patch(
    "/{webhook_id}",
    operation_id="updateWebhook",
    openapi_extra=URL_RULES,
    response_model=WebhookOut,
    responses=WRITE_RESPONSES,
    dependencies=JSON,
)
async def update(
    request: Request, webhook_id: str, body: WebhookUpdate, actor: Annotated[Actor, ADMIN]
) -> dict[str, Any]:
    sub = await run_in_threadpool(
        lambda: subscriptions.update_subscription(
            _rt(request),
            actor,
            webhook_id,
            url=body.url,
            event_types=body.event_types,
            description=body.description,
            active=body.active,
        )
    )
    return sub.to_dict()


@router.delete("/{webhook_id}", operation_id="deleteWebhook", status_code=204, responses=WRITE_RESPONSES)
async def delete(request: Request, webhook_id: str, actor: Annotated[Actor, ADMIN]) -> None:
    await run_in_threadpool(subscriptions.delete_subscription, _rt(request), actor, webhook_id)


@router.post(
    "/{webhook_id}/rotate-secret",
    operation_id="rotateWebhookSecret",
    response_model=WebhookOut,
    responses=WRITE_RESPONSES,
)
async def rotate(request: Request, webhook_id: str, actor: Annotated[Actor, ADMIN]) -> dict[str, Any]:
    sub = await run_in_threadpool(subscriptions.rotate_secret, _rt(request), actor, webhook_id)
    return sub.to_dict(with_secret=True)


@router.get(
    "/{webhook_id}/deliveries",
    operation_id="listWebhookDeliveries",
    response_model=list[DeliveryOut],
    responses=WRITE_RESPONSES,
)
async def deliveries(
    request: Request,
    webhook_id: str,
    actor: Annotated[Actor, ADMIN],
    status: Annotated[str | None, Query(pattern="^(pending|delivering|succeeded|dead)$")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[dict[str, Any]]:
    rt = _rt(request)

    def run() -> list[dict[str, Any]]:
        with rt.read() as conn:
            subscriptions.get_subscription(conn, webhook_id)
            return delivery.list_deliveries(conn, webhook_id, status, limit)

    return await run_in_threadpool(run)


@router.post(
    "/{webhook_id}/replay", operation_id="replayWebhookDeliveries", response_model=ReplayOut, responses=WRITE_RESPONSES
)
async def replay_many(
    request: Request, webhook_id: str, actor: Annotated[Actor, ADMIN], body: ReplayIn | None = None
) -> ReplayOut:
    b = body or ReplayIn()
    ids = await run_in_threadpool(
        lambda: delivery.replay(_rt(request), actor, subscription_id=webhook_id, status=b.status, since=b.since)
    )
    return ReplayOut(replayed=ids)


@router.get(
    "/deliveries/{delivery_id}",
    operation_id="getWebhookDelivery",
    response_model=DeliveryDetail,
    responses=WRITE_RESPONSES,
)
async def read_delivery(request: Request, delivery_id: str, actor: Annotated[Actor, ADMIN]) -> dict[str, Any]:
    rt = _rt(request)

    def run() -> dict[str, Any]:
        with rt.read() as conn:
            return delivery.get_delivery(conn, delivery_id)

    return await run_in_threadpool(run)


@router.post(
    "/deliveries/{delivery_id}/replay",
    operation_id="replayWebhookDelivery",
    response_model=ReplayOut,
    responses=WRITE_RESPONSES,
)
async def replay_one(request: Request, delivery_id: str, actor: Annotated[Actor, ADMIN]) -> ReplayOut:
    ids = await run_in_threadpool(lambda: delivery.replay(_rt(request), actor, delivery_ids=[delivery_id]))
    return ReplayOut(replayed=ids)
