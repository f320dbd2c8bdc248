"""``/v1/prompts``: the prompt registry over HTTP (Charter API tokens, problem+json errors).

Reading and running need the read permission (running a prompt that saves a draft also needs
write); moving a label needs publish. Prompt runs count against the ``api_tokens`` limits of
configs/model.yaml, per token.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from charter.auth.deps import require
from charter.auth.roles import Actor, Permission
from charter.gateway import get_gateway
from charter.gateway.prompts import catalog
from charter.gateway.service import GatewayError
from charter.http.routes import CharterRoute
from charter.observability.errors import problem_response, problem_responses

router = APIRouter(prefix="/v1/prompts", tags=["prompts"], route_class=CharterRoute)

READ_RESPONSES = problem_responses(400, 401, 403, 404, 409, 422)
#: A run can also hit the key's limits (429) or upstream failures (502, 503).
RUN_RESPONSES = problem_responses(400, 401, 403, 404, 409, 413, 415, 422, 429, 502, 503)
MOVE_RESPONSES = problem_responses(400, 401, 403, 404, 409, 413, 415, 422)
PromptName = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9_-]{0,99}$", description="The prompt's name")]
Reader = Annotated[Actor, Depends(require(Permission.READ))]
Publisher = Annotated[Actor, Depends(require(Permission.PUBLISH))]


class PromptSummaryOut(BaseModel):
    name: str
    description: str
    versions: list[str]
    latest: str
    labels: dict[str, str]
    released: list[str]
    modified: list[str] = Field(description="Released versions whose file changed since: they refuse to run.")
    flags: list[str]


class PromptVersionOut(BaseModel):
    version: str
    changelog: str
    route: str
    output: dict[str, Any] | None
    thresholds: dict[str, dict[str, float]]
    variables: dict[str, Any]
    params: dict[str, Any]
    messages: list[dict[str, str]]
    fingerprint: str
    released: bool
    released_at: str | None
    released_by: str | None
    modified_since_release: bool
    labels: list[str]


class PromptOut(BaseModel):
    name: str
    description: str
    file: str
    versions: list[PromptVersionOut]
    labels: dict[str, str]
    flags: list[dict[str, Any]]
    history: list[dict[str, Any]]
    evals: list[dict[str, Any]]


class PromptRunIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    variables: dict[str, Any] = Field(default_factory=dict, description="Checked against the version's schema.")
    version: str | None = Field(None, max_length=40, description="Run this exact version (e.g. for an eval).")
    label: str | None = Field(None, max_length=60, description="Run the version a label points at.")
    user: str | None = Field(None, max_length=200, description="End-user id; stored only as a keyed HMAC.")
    locale: str | None = Field(None, max_length=35, description="For locale flags, e.g. de-AT.")
    market: str | None = Field(None, max_length=35, description="For market flags, e.g. AT.")
    save_draft: bool | None = Field(None, description="Override the prompt's output.save_draft.")


class PromptRunOut(BaseModel):
    id: str = Field(description="The audit record's id.")
    prompt: str
    version: str
    selected_by: str = Field(description='"version", "label:<name>" or "flag:<name>"')
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


class PromoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: str = Field(max_length=40)
    label: str = Field("production", max_length=60)
    reason: str = Field(min_length=1, max_length=2000)
    report: dict[str, Any] = Field(description="An eval report, format charter.eval-report/1 (docs/prompts.md).")


class RollbackIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: str = Field("production", max_length=60)
    reason: str = Field(min_length=1, max_length=2000)


class LabelMoveOut(BaseModel):
    name: str
    label: str
    action: str
    from_version: str | None
    to_version: str
    actor: str
    reason: str
    report_sha256: str | None
    report_summary: dict[str, Any] | None
    at: str


@router.get("", operation_id="listPrompts", response_model=list[PromptSummaryOut], responses=READ_RESPONSES)
async def list_prompts(request: Request, actor: Reader) -> Any:
    """Every registered prompt with its versions, labels and flags."""
    return await run_in_threadpool(catalog.list_prompts, request.app.state.runtime)


@router.get("/{name}", operation_id="getPrompt", response_model=PromptOut, responses=READ_RESPONSES)
async def get_prompt(request: Request, name: PromptName, actor: Reader) -> Any:
    """One prompt: versions with changelogs and release state, labels, flags, label history and
    the eval reports checked for it."""
    return await run_in_threadpool(catalog.describe_prompt, request.app.state.runtime, name)


@router.post("/{name}/run", operation_id="runPrompt", response_model=PromptRunOut, responses=RUN_RESPONSES)
async def run_prompt_route(request: Request, name: PromptName, body: PromptRunIn, actor: Reader) -> Any:
    """Render a registered prompt version (by version, label, flags, then production) and run it;
    with an output schema, validate (one repair) and save a draft entry with its risk level."""
    from charter.gateway.prompts.run import run_prompt

    gw = get_gateway(request.app.state.runtime)
    try:
        return await run_prompt(
            gw,
            name,
            body.variables,
            version=body.version,
            label=body.label,
            user=body.user,
            locale=body.locale,
            market=body.market,
            key=gw.token_key(actor),
            save_draft=body.save_draft,
            actor=actor,
        )
    except GatewayError as exc:
        return _problem_of(request, exc)


@router.post("/{name}/promote", operation_id="promotePrompt", response_model=LabelMoveOut, responses=MOVE_RESPONSES)
async def promote_route(request: Request, name: PromptName, body: PromoteIn, actor: Publisher) -> Any:
    """Point a label at a version, if the eval report meets the version's thresholds (422 with
    every failed threshold otherwise). The move is audited with who and why."""
    return await run_in_threadpool(
        catalog.promote_prompt,
        request.app.state.runtime,
        actor,
        name,
        body.version,
        body.label,
        reason=body.reason,
        report=body.report,
    )


@router.post("/{name}/rollback", operation_id="rollbackPrompt", response_model=LabelMoveOut, responses=MOVE_RESPONSES)
async def rollback_route(request: Request, name: PromptName, body: RollbackIn, actor: Publisher) -> Any:
    """Move a label back to the version it served before its latest promotion."""
    return await run_in_threadpool(
        catalog.rollback_prompt, request.app.state.runtime, actor, name, body.label, reason=body.reason
    )


def _problem_of(request: Request, exc: GatewayError) -> Response:
    return problem_response(exc.to_problem(request.url.path), exc.headers or None)
