"""HTTP routes for retrieval: ``POST /v1/ask`` (cited answers) and ``GET /v1/retrieval/status``.

Both read only published content (what the indexes hold), like the delivery API.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from charter.http.routes import CharterRoute
from charter.observability.errors import PROBLEM_RESPONSES, problem_responses
from charter.retrieval.answer import NOT_BLANK

router = APIRouter(tags=["retrieval"], route_class=CharterRoute)
#: /v1/ask also answers what the gateway does: bad keys, route allow-lists, limits, upstream failures.
ASK_RESPONSES = problem_responses(400, 401, 403, 404, 409, 422, 429, 502, 503)


class AskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: str = Field(min_length=1, max_length=2000, pattern=NOT_BLANK)
    locale: str = Field(
        default="en", min_length=2, max_length=35, description="One the indexes cover (the document lists them)."
    )
    intent: str | None = Field(
        default=None, description="Skip routing and use this intent's indexes (one the retrieval contract declares)."
    )
    top_k: int | None = Field(default=None, ge=1, le=20, description="Sources handed to the model.")
    mode: Literal["bm25", "dense", "hybrid"] | None = None
    route: str | None = Field(default=None, description="Gateway route or model (default: the contract's).")


class CitationOut(BaseModel):
    source: str
    entry_id: str
    revision: int
    chunk: int
    index: str
    locale: str
    url: str
    title: str
    heading: str
    field: str = Field(
        description="The entry's field the cited text was built from (body, sections[4].items[1], price)."
    )


class PromptOut(BaseModel):
    name: str = Field(description="The registry prompt (retrieval.yaml), or retrieval.answer for the built-in one.")
    version: str
    selected_by: str = Field(description="version (pinned), label:<name>, flag:<name> or builtin.")


class AskResponse(BaseModel):
    question: str
    locale: str
    answer: str
    refused: bool
    refusal_reason: str | None
    citations: list[CitationOut]
    intent: str | None
    route_method: str | None
    indexes: list[str]
    mode: str | None
    evidence: float
    model: str | None
    provider: str | None
    latency_ms: float
    dropped_sentences: int
    degraded: str | None
    answer_locale: str | None = Field(
        description="The locale of the content the answer comes from: the question's, or one of its fallbacks."
    )
    fallback: list[str] = Field(
        description="Why the answer comes from elsewhere: index (the intent's fallback indexes), locale (the "
        "locale fallback chain); empty when it comes from the routed indexes in the question's locale."
    )
    prompt: PromptOut | None = Field(default=None, description="The prompt version that answered.")
    unsupported: list[str] = Field(
        default_factory=list,
        description="With refusal_reason unsupported_constraint: the names qualifying the question (the Team "
        "of 'the Team plan') that the content mentions but the answer's sources do not hold.",
    )


class DenseStatus(BaseModel):
    available: bool
    reason: str | None
    in_database: bool = Field(description="Dense search runs inside PostgreSQL (pgvector) instead of in process.")
    in_database_reason: str | None = Field(description="Why dense search does not run inside the database.")


class IndexStatus(BaseModel):
    entries: int
    chunks: int
    vectors: int
    pending: int = Field(description="Delta-segment chunks and tombstones awaiting a background merge.")
    locales: list[str]
    regulated: bool
    freshness_slo_s: float
    freshness: dict[str, float | int] = Field(
        description="Publish-to-searchable lag: count, p50_ms, p95_ms, max_ms, slo_breaches."
    )


class RetrievalStatus(BaseModel):
    store: str = Field(description="files (beside SQLite), database (PostgreSQL) or memory.")
    mode: str
    dense: DenseStatus
    locales: list[str]
    indexes: dict[str, IndexStatus]


def declare_ask(document: dict[str, Any], rt: Any) -> None:
    """``/v1/ask`` takes the locales the retrieval contract's indexes cover and the intents it
    declares: the project's, so the document lists them (``register_openapi_amendments``)."""
    from charter.exceptions import CharterError
    from charter.retrieval.contract import contract_path, load_contract
    from charter.retrieval.service import contract_locales

    schema = document.get("components", {}).get("schemas", {}).get("AskRequest")
    path = contract_path(rt)
    if schema is None or not path.is_file():
        return
    try:
        contract = load_contract(path, rt.registry)
    except CharterError:  # a broken contract: /v1/ask answers with the error, the document stays general
        return
    props = schema["properties"]
    props["locale"]["enum"] = list(contract_locales(contract, rt.registry))
    for branch in props["intent"].get("anyOf", []):
        if branch.get("type") == "string":
            branch["enum"] = list(contract.intents)


def _runtime(request: Request) -> Any:
    return request.app.state.runtime


@router.post(
    "/v1/ask",
    operation_id="ask",
    response_model=AskResponse,
    responses=ASK_RESPONSES,
    summary="Answer a question from published content, with citations, or refuse",
)
async def ask_route(request: Request, body: AskRequest) -> Any:
    """Authenticated like the gateway's own endpoints: a gateway client key as
    ``Authorization: Bearer`` or ``x-api-key`` (``keys`` in configs/model.yaml), or the
    ``anonymous`` limits when no key is sent. Each question counts against the key's rate limit;
    the model call is charged to it and audited (``endpoint: ask``)."""
    from charter.gateway import get_gateway
    from charter.gateway.api import client_key
    from charter.gateway.service import GatewayError
    from charter.observability.errors import problem_response
    from charter.retrieval.answer import ask
    from charter.retrieval.lifecycle import service_for

    rt = _runtime(request)
    try:
        key = get_gateway(rt).authenticate(client_key(request))
        await run_in_threadpool(service_for, rt)  # first use loads the indexes off the event loop
        answer = await ask(
            rt,
            body.question,
            body.locale,
            intent=body.intent,
            top_k=body.top_k,
            route=body.route,
            mode=body.mode,
            key=key,
            endpoint="ask",
        )
    except GatewayError as exc:  # problem+json, keeping retry-after on a 429
        headers = dict(exc.headers)
        if exc.status == 401:
            headers["WWW-Authenticate"] = 'Bearer realm="charter"'
        return problem_response(exc.to_problem(request.url.path), headers or None)
    from charter.review.collect import consider_answer

    await run_in_threadpool(
        lambda: consider_answer(
            rt,
            answer,
            request_id=getattr(request.state, "request_id", "") or answer.audit_id,
            key=key.config.name if key is not None else None,
            route=body.route,
        )
    )
    data = answer.to_dict()
    data.pop("sources", None)
    data.pop("audit_id", None)
    return AskResponse.model_validate(data)


@router.get(
    "/v1/retrieval/status",
    operation_id="getRetrievalStatus",
    response_model=RetrievalStatus,
    responses=PROBLEM_RESPONSES,
    summary="Indexes, chunk counts, dense availability and publish-to-searchable lag",
)
async def retrieval_status(request: Request) -> RetrievalStatus:
    from charter.retrieval.lifecycle import service_for

    service = await run_in_threadpool(service_for, _runtime(request))
    return RetrievalStatus.model_validate(await run_in_threadpool(service.status))
