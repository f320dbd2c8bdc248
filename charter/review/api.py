"""``/v1/manage/review``: the human review queue over HTTP (docs/review.md).

Viewers read the queue; editors and above claim and label. Every route is a thin door into
:mod:`charter.review.queue`."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from charter.auth.deps import require
from charter.auth.roles import Actor, Permission
from charter.observability.errors import problem_responses
from charter.review import queue

router = APIRouter(prefix="/v1/manage/review", tags=["review"])
READ = Depends(require(Permission.READ))
WRITE = Depends(require(Permission.WRITE))
ID = "^[0-9a-f-]{1,36}$"


class ReviewItem(BaseModel):
    id: str
    created_at: datetime
    age_seconds: float = Field(description="seconds since the item was queued")
    source: str = Field(description="gateway | ask")
    call_id: str | None = Field(description="the audit record (GET /v1/manage/llm-calls/{id}); null: no model call")
    request_id: str = Field(description="the id the sampling decision was drawn from")
    endpoint: str | None
    reasons: list[str] = Field(
        description="why it is here: high_risk, regulated_index, refusal, low_retrieval_score, high_risk_tool, sampled"
    )
    intent: str | None
    prompt: str | None
    prompt_version: str | None
    route: str | None
    model: str | None
    key_name: str | None
    risk: str | None
    locale: str | None
    question: str | None
    answer: str | None
    refused: bool
    refusal_reason: str | None
    citations: list[dict[str, Any]]
    chunks: list[dict[str, Any]] = Field(description="the retrieved sources the model was given")
    tool_calls: list[dict[str, Any]]
    indexes: list[str]
    evidence: float | None
    status: str = Field(description="pending | reviewed")
    version: int = Field(description="grows on every change; send it with a label to refuse a stale one")
    claimed_by: str | None
    claimed_until: datetime | None
    label: str | None
    comment: str | None
    facts: list[str] | None
    reviewed_by: str | None
    reviewed_at: datetime | None


class ReviewStats(BaseModel):
    backlog: int = Field(description="pending items")
    oldest_pending_age_seconds: float | None
    reviewed: int
    reviewed_share: float | None = Field(description="reviewed / all items queued")
    labels: dict[str, int]
    error_rate_by_prompt_version: dict[str, dict[str, float]] = Field(
        description='"prompt@version" -> reviewed, errors (labels other than correct), error_rate'
    )


class ReviewPage(BaseModel):
    data: list[ReviewItem]
    stats: ReviewStats


class LabelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: str = Field(pattern="^(correct|incorrect|should_have_refused|citation_wrong|unsafe)$")
    comment: str | None = Field(default=None, max_length=4000)
    facts: list[Annotated[str, Field(min_length=1, max_length=500)]] | None = Field(
        default=None, max_length=20, description="what a correct answer states (the golden case's expected facts)"
    )
    version: int | None = Field(default=None, ge=1, description="the version you read; a newer one is a 409")


def _rt(request: Request) -> Any:
    return request.app.state.runtime


@router.get(
    "",
    operation_id="listReviewItems",
    summary="The review queue, oldest first, with its backlog and label figures",
    response_model=ReviewPage,
    responses=problem_responses(400, 401, 403, 422),
)
async def list_review_items(
    request: Request,
    actor: Annotated[Actor, READ],
    status: Annotated[str | None, Query(pattern="^(pending|reviewed)$")] = "pending",
    reason: Annotated[
        str | None,
        Query(pattern="^(high_risk|regulated_index|refusal|low_retrieval_score|high_risk_tool|sampled)$"),
    ] = None,
    intent: Annotated[str | None, Query(max_length=100)] = None,
    prompt: Annotated[str | None, Query(max_length=200)] = None,
    label: Annotated[
        str | None, Query(pattern="^(correct|incorrect|should_have_refused|citation_wrong|unsafe)$")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict[str, Any]:
    rt = _rt(request)
    flt = queue.ItemFilter(status, reason, intent, prompt, label)

    def run() -> dict[str, Any]:
        return {"data": queue.list_items(rt, actor, flt, limit), "stats": queue.stats(rt)}

    return await run_in_threadpool(run)


@router.get(
    "/{item_id}",
    operation_id="getReviewItem",
    summary="One review item: question, retrieved chunks, answer, citations, prompt version, model, tool calls",
    response_model=ReviewItem,
    responses=problem_responses(401, 403, 404, 422),
)
async def get_review_item(request: Request, item_id: str, actor: Annotated[Actor, READ]) -> dict[str, Any]:
    return await run_in_threadpool(queue.get_item, _rt(request), actor, item_id)


@router.post(
    "/{item_id}/claim",
    operation_id="claimReviewItem",
    summary="Hold an item for the policy's lease, so no other reviewer labels it meanwhile",
    response_model=ReviewItem,
    responses=problem_responses(401, 403, 404, 409),
)
async def claim_review_item(request: Request, item_id: str, actor: Annotated[Actor, WRITE]) -> dict[str, Any]:
    return await run_in_threadpool(queue.claim, _rt(request), actor, item_id)


@router.post(
    "/{item_id}/unclaim",
    operation_id="unclaimReviewItem",
    summary="Let go of an item you hold",
    response_model=ReviewItem,
    responses=problem_responses(401, 403, 404, 409),
)
async def unclaim_review_item(request: Request, item_id: str, actor: Annotated[Actor, WRITE]) -> dict[str, Any]:
    return await run_in_threadpool(queue.unclaim, _rt(request), actor, item_id)


@router.post(
    "/{item_id}/label",
    operation_id="labelReviewItem",
    summary="Label an item (final): correct, incorrect, should_have_refused, citation_wrong or unsafe",
    response_model=ReviewItem,
    responses=problem_responses(400, 401, 403, 404, 409, 422),
)
async def label_review_item(
    request: Request, item_id: str, body: LabelIn, actor: Annotated[Actor, WRITE]
) -> dict[str, Any]:
    return await run_in_threadpool(
        lambda: queue.label(
            _rt(request), actor, item_id, body.label, comment=body.comment, facts=body.facts, version=body.version
        )
    )
