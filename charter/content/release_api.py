"""Management API for the editorial pipeline: releases, reviews, schedules, rollback and the
audit log (previews: :mod:`charter.content.preview_api`). Thin doors into
:mod:`charter.content.actions` (docs/releases.md)."""

from __future__ import annotations

from typing import Annotated, Any, Literal, cast

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field, model_validator
from starlette.concurrency import run_in_threadpool

from charter.auth.deps import require
from charter.auth.roles import Actor, Permission
from charter.content import store
from charter.content.actions import release, rollback, schedule
from charter.content.actions.release_verbs import VERBS, run
from charter.content.ai_risk import policy_for
from charter.content.api import EntryOut, json_body
from charter.content.releases import STATUSES, Release, get_release, list_releases
from charter.http.openapi import rules
from charter.http.routes import CharterRoute
from charter.observability.errors import WRITE_RESPONSES
from charter.runtime import Runtime

router = APIRouter(prefix="/v1/manage", tags=["releases"], route_class=CharterRoute)
LocaleData = dict[str, dict[str, Any]]
JSON = [Depends(json_body)]


UUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"


class _Item(BaseModel):
    model_config = ConfigDict(extra="forbid")

    def spec(self) -> release.ItemSpec:
        get = self.__dict__.get
        return release.ItemSpec(str(get("action")), get("entry_id"), get("type"), get("data"), get("revision"))


class CreateItem(_Item):
    """A new entry, created when the release publishes."""

    action: Literal["create"]
    entry_id: str | None = Field(default=None, pattern=UUID_PATTERN, description="The new entry's id (default: new).")
    type: str = Field(max_length=100, description="Content type.")
    data: LocaleData = Field(description="Content as it will publish, by locale.")


class _Update(_Item):
    """New content (``data``), a draft revision (``revision``) or the current draft of an entry."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"not": {"required": ["data", "revision"]}})

    action: Literal["update"]
    type: str | None = Field(default=None, max_length=100, description="If given, must be the entry's type.")
    data: LocaleData | None = Field(default=None, description="Content as it will publish (not with revision).")
    revision: int | None = Field(default=None, ge=1, description="The draft revision to publish (not with data).")

    @model_validator(mode="after")
    def _one(self) -> _Update:
        if {"data", "revision"} <= self.model_fields_set:
            raise ValueError("an update item takes either 'data' (new content) or 'revision' (a draft to publish)")
        return self


class _Unpublish(_Item):
    action: Literal["unpublish"]
    type: str | None = Field(default=None, max_length=100, description="If given, must be the entry's type.")


class UpdateItem(_Update):
    entry_id: str = Field(max_length=36)


class UnpublishItem(_Unpublish):
    entry_id: str = Field(max_length=36)


class UpdateItemChange(_Update):
    entry_id: str | None = Field(default=None, max_length=36, description="If given, the item's own entry.")


class UnpublishItemChange(_Unpublish):
    entry_id: str | None = Field(default=None, max_length=36, description="If given, the item's own entry.")


#: A release item; its ``action`` says which fields it has.
ItemIn = Annotated[CreateItem | UpdateItem | UnpublishItem, Field(discriminator="action")]
#: A new change for an item of a release: the entry is the item's (``entry_id`` may repeat it).
ItemChangeIn = Annotated[CreateItem | UpdateItemChange | UnpublishItemChange, Field(discriminator="action")]
#: What JSON Schema cannot say about release items (charter.http.openapi.rules).
ITEM_RULE = (
    "content-invalid",
    422,
    "An item's data must validate against its content type (components/schemas), and its references name "
    "entries that exist, or that this release creates and does not unpublish.",
)
ITEM_RULES = rules(ITEM_RULE)


class ReleaseCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200, examples=["Black Friday pricing"])
    description: str | None = Field(default=None, max_length=2000)
    items: list[ItemIn] = Field(default_factory=list, max_length=1000)


class ReleaseUpdate(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=2000)


class ItemOut(BaseModel):
    id: str
    action: str
    entry_id: str
    type: str
    data: LocaleData | None
    revision: int | None
    base_revision: int | None
    added_by: str
    added_at: str
    before_revision: int | None
    before_published: int | None
    published_revision: int | None


class ReviewOut(BaseModel):
    round: int
    actor: str
    role: str
    decision: str
    comment: str | None
    at: str


class ScheduleOut(BaseModel):
    at: str | None = Field(description="UTC instant.")
    timezone: str | None
    local: str | None = Field(description="The same instant as wall-clock time in the time zone.")


class PolicyOut(BaseModel):
    approvals: int = Field(description="Approvals needed in the current review round.")
    approver_role: str
    self_approval: bool
    approved_by: list[str] = Field(description="Who approved the current round.")
    description: str


class ReleaseOut(BaseModel):
    id: str
    name: str
    description: str | None
    status: Literal["draft", "in_review", "approved", "scheduled", "published", "rejected", "rolled_back", "failed"]
    round: int
    created_by: str
    created_at: str
    updated_at: str
    schedule: ScheduleOut | None
    published_at: str | None
    published_by: str | None
    publish_delay_ms: float | None
    error: str | None
    rolled_back_at: str | None
    rolled_back_by: str | None
    items: list[ItemOut]
    reviews: list[ReviewOut]
    policy: PolicyOut | None = None


class CommentIn(BaseModel):
    comment: str | None = Field(default=None, max_length=2000)


class RejectIn(BaseModel):
    comment: str = Field(min_length=1, max_length=2000, description="What the authors should change.")


class ScheduleIn(BaseModel):
    at: str = Field(
        max_length=40,
        pattern=schedule.AT_PATTERN,
        description="ISO 8601; without an offset it is local time in `timezone`.",
        examples=["2026-11-27T09:00"],
    )
    timezone: str = Field(default="UTC", max_length=64, examples=["Europe/Berlin"])


class ReleaseRollbackIn(BaseModel):
    message: str | None = Field(default=None, max_length=500)
    force: bool = Field(default=False, description="Also overwrite entries that changed after the release.")


class EntryRollbackIn(BaseModel):
    revision: int = Field(ge=1, description="The revision whose content to restore.")
    message: str | None = Field(default=None, max_length=500)
    publish: bool | None = Field(default=None, description="Publish the restored revision (default: if live).")


class AuditOut(BaseModel):
    id: int
    actor: str
    action: str
    subject_type: str
    subject_id: str
    detail: dict[str, Any]
    at: str


def _rt(request: Request) -> Runtime:
    rt: Runtime = request.app.state.runtime
    return rt


def _door(verb: str) -> Any:
    """The dependency that lets in callers with the permission release verb ``verb`` needs."""
    return Depends(require(VERBS[verb].permission))


async def _verb(request: Request, actor: Actor, release_id: str, verb: str, **options: Any) -> ReleaseOut:
    """Run release verb ``verb`` (charter.content.actions.release_verbs) and answer the release."""
    rt = _rt(request)
    rel = await run_in_threadpool(lambda: run(rt, actor, release_id, verb, **options))
    return _out(rt, cast(Release, rel))  # every verb but delete answers the release


def _out(rt: Runtime, rel: Release) -> ReleaseOut:
    body = rel.to_dict()
    if rel.items:
        with rt.read() as conn:
            policy = policy_for(rt.settings, conn, rel)
        body["policy"] = PolicyOut(
            approvals=policy.approvals,
            approver_role=policy.approver_role.value,
            self_approval=policy.self_approval,
            approved_by=[r.actor for r in rel.approvals()],
            description=policy.describe(),
        )
    return ReleaseOut(**body)


@router.get("/releases", operation_id="listReleases", response_model=list[ReleaseOut], responses=WRITE_RESPONSES)
async def list_all(
    request: Request,
    actor: Annotated[Actor, Depends(require(Permission.READ))],
    status: Annotated[str | None, Query(pattern="^(" + "|".join(STATUSES) + ")$")] = None,
    entry_id: Annotated[str | None, Query(max_length=36, description="Only releases that change this entry.")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[ReleaseOut]:
    rt = _rt(request)

    def run() -> list[ReleaseOut]:
        with rt.read() as conn:
            return [_out(rt, r) for r in list_releases(conn, status, limit, entry_id)]

    return await run_in_threadpool(run)


@router.post(
    "/releases",
    operation_id="createRelease",
    openapi_extra=ITEM_RULES,
    status_code=201,
    response_model=ReleaseOut,
    responses=WRITE_RESPONSES,
    dependencies=JSON,
)
async def create(
    request: Request, body: ReleaseCreate, actor: Annotated[Actor, Depends(require(Permission.WRITE))]
) -> ReleaseOut:
    rt = _rt(request)
    rel = await run_in_threadpool(
        lambda: release.create_release(
            rt, actor, body.name, description=body.description, items=[i.spec() for i in body.items]
        )
    )
    return _out(rt, rel)


@router.get("/releases/{release_id}", operation_id="getRelease", response_model=ReleaseOut, responses=WRITE_RESPONSES)
async def read(
    request: Request, release_id: str, actor: Annotated[Actor, Depends(require(Permission.READ))]
) -> ReleaseOut:
    rt = _rt(request)

    def run() -> ReleaseOut:
        with rt.read() as conn:
            return _out(rt, get_release(conn, release_id))

    return await run_in_threadpool(run)


@router.patch(
    "/releases/{release_id}",
    operation_id="updateRelease",
    response_model=ReleaseOut,
    responses=WRITE_RESPONSES,
    dependencies=JSON,
)
async def update(
    request: Request,
    release_id: str,
    body: ReleaseUpdate,
    actor: Annotated[Actor, Depends(require(Permission.WRITE))],
) -> ReleaseOut:
    rt = _rt(request)
    rel = await run_in_threadpool(
        lambda: release.update_release(rt, actor, release_id, name=body.name, description=body.description)
    )
    return _out(rt, rel)


@router.delete("/releases/{release_id}", operation_id="deleteRelease", status_code=204, responses=WRITE_RESPONSES)
async def delete(request: Request, release_id: str, actor: Annotated[Actor, _door("delete")]) -> None:
    await run_in_threadpool(run, _rt(request), actor, release_id, "delete")


@router.post(
    "/releases/{release_id}/items",
    operation_id="addReleaseItem",
    openapi_extra=ITEM_RULES,
    status_code=201,
    response_model=ReleaseOut,
    responses=WRITE_RESPONSES,
    dependencies=JSON,
)
async def add_item(
    request: Request, release_id: str, body: ItemIn, actor: Annotated[Actor, Depends(require(Permission.WRITE))]
) -> ReleaseOut:
    rt = _rt(request)
    return _out(rt, await run_in_threadpool(release.add_item, rt, actor, release_id, body.spec()))


@router.put(
    "/releases/{release_id}/items/{item_id}",
    operation_id="updateReleaseItem",
    openapi_extra=rules(
        ITEM_RULE, ("entry-fixed", 400, "An item's entry cannot change (entry_id, if given, is its own).")
    ),
    response_model=ReleaseOut,
    responses=WRITE_RESPONSES,
    dependencies=JSON,
)
async def update_item(
    request: Request,
    release_id: str,
    item_id: str,
    body: ItemChangeIn,
    actor: Annotated[Actor, Depends(require(Permission.WRITE))],
) -> ReleaseOut:
    rt = _rt(request)
    return _out(rt, await run_in_threadpool(release.update_item, rt, actor, release_id, item_id, body.spec()))


@router.delete(
    "/releases/{release_id}/items/{item_id}",
    operation_id="removeReleaseItem",
    response_model=ReleaseOut,
    responses=WRITE_RESPONSES,
)
async def remove_item(
    request: Request, release_id: str, item_id: str, actor: Annotated[Actor, Depends(require(Permission.WRITE))]
) -> ReleaseOut:
    rt = _rt(request)
    return _out(rt, await run_in_threadpool(release.remove_item, rt, actor, release_id, item_id))


@router.post(
    "/releases/{release_id}/submit", operation_id="submitRelease", response_model=ReleaseOut, responses=WRITE_RESPONSES
)
async def submit(request: Request, release_id: str, actor: Annotated[Actor, _door("submit")]) -> ReleaseOut:
    return await _verb(request, actor, release_id, "submit")


@router.post(
    "/releases/{release_id}/withdraw",
    operation_id="withdrawRelease",
    response_model=ReleaseOut,
    responses=WRITE_RESPONSES,
)
async def withdraw(request: Request, release_id: str, actor: Annotated[Actor, _door("withdraw")]) -> ReleaseOut:
    return await _verb(request, actor, release_id, "withdraw")


@router.post(
    "/releases/{release_id}/approve",
    operation_id="approveRelease",
    response_model=ReleaseOut,
    responses=WRITE_RESPONSES,
)
async def approve_(
    request: Request,
    release_id: str,
    actor: Annotated[Actor, _door("approve")],
    body: CommentIn | None = None,
) -> ReleaseOut:
    return await _verb(request, actor, release_id, "approve", comment=body.comment if body else None)


@router.post(
    "/releases/{release_id}/reject",
    operation_id="rejectRelease",
    response_model=ReleaseOut,
    responses=WRITE_RESPONSES,
    dependencies=JSON,
)
async def reject(
    request: Request, release_id: str, body: RejectIn, actor: Annotated[Actor, _door("reject")]
) -> ReleaseOut:
    return await _verb(request, actor, release_id, "reject", comment=body.comment)


@router.post(
    "/releases/{release_id}/schedule",
    operation_id="scheduleRelease",
    openapi_extra=rules(schedule.RULE),
    response_model=ReleaseOut,
    responses=WRITE_RESPONSES,
    dependencies=JSON,
)
async def schedule_(
    request: Request, release_id: str, body: ScheduleIn, actor: Annotated[Actor, _door("schedule")]
) -> ReleaseOut:
    return await _verb(request, actor, release_id, "schedule", at=body.at, timezone=body.timezone)


@router.post(
    "/releases/{release_id}/unschedule",
    operation_id="unscheduleRelease",
    response_model=ReleaseOut,
    responses=WRITE_RESPONSES,
)
async def unschedule(request: Request, release_id: str, actor: Annotated[Actor, _door("unschedule")]) -> ReleaseOut:
    return await _verb(request, actor, release_id, "unschedule")


@router.post(
    "/releases/{release_id}/publish",
    operation_id="publishRelease",
    response_model=ReleaseOut,
    responses=WRITE_RESPONSES,
)
async def publish(request: Request, release_id: str, actor: Annotated[Actor, _door("publish")]) -> ReleaseOut:
    return await _verb(request, actor, release_id, "publish")


@router.post(
    "/releases/{release_id}/rollback",
    operation_id="rollbackRelease",
    response_model=ReleaseOut,
    responses=WRITE_RESPONSES,
)
async def rollback_release(
    request: Request,
    release_id: str,
    actor: Annotated[Actor, _door("rollback")],
    body: ReleaseRollbackIn | None = None,
) -> ReleaseOut:
    b = body or ReleaseRollbackIn()
    return await _verb(request, actor, release_id, "rollback", message=b.message, force=b.force)


@router.post(
    "/entries/{entry_id}/rollback",
    operation_id="rollbackEntry",
    response_model=EntryOut,
    responses=WRITE_RESPONSES,
    dependencies=JSON,
)
async def rollback_entry(
    request: Request,
    entry_id: str,
    body: EntryRollbackIn,
    actor: Annotated[Actor, Depends(require(Permission.PUBLISH))],
) -> EntryOut:
    rt = _rt(request)

    def run() -> EntryOut:
        entry = rollback.rollback_entry(rt, actor, entry_id, body.revision, message=body.message, publish=body.publish)
        with rt.read() as conn:
            data = store.get_revision(conn, entry.id, entry.current_revision).data
        return EntryOut(**entry.to_dict(), data=data)

    return await run_in_threadpool(run)


@router.get("/audit", operation_id="listAudit", response_model=list[AuditOut], responses=WRITE_RESPONSES)
async def audit(
    request: Request,
    actor: Annotated[Actor, Depends(require(Permission.READ))],
    subject_type: Annotated[str | None, Query(max_length=80, examples=["release", "entry"])] = None,
    subject_id: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[dict[str, Any]]:
    from charter.audit import list_audit

    rt = _rt(request)

    def run() -> list[dict[str, Any]]:
        with rt.read() as conn:
            return list_audit(conn, subject_type, subject_id, limit)

    return await run_in_threadpool(run)
