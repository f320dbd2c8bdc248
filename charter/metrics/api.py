"""HTTP doors into the metrics domain: record deployments and incidents, read reports and series.

``POST /v1/events/deploy`` and ``POST /v1/events/incident`` need the ``publish`` permission (a CI
pipeline's token); reading ``/v1/metrics`` needs ``read``. Errors are problem+json; a request
that fails validation records nothing.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from charter.auth.deps import require
from charter.auth.roles import Actor, Permission
from charter.content.api import json_body
from charter.exceptions import BadRequest
from charter.http.openapi import rules
from charter.http.routes import CharterRoute
from charter.metrics.deploys import (
    EVENT_RULES,
    NAME,
    DeployIn,
    DeployOut,
    IncidentIn,
    IncidentOut,
    record_deploy,
    record_incident,
)
from charter.metrics.registry import GROUPS, METRICS
from charter.metrics.timestamps import TimestampError, parse_timestamp
from charter.metrics.windows import MAX_BUCKETS, TIMESTAMP, WINDOW_PATTERN
from charter.observability.errors import WRITE_RESPONSES
from charter.runtime import Runtime

router = APIRouter(tags=["metrics"], route_class=CharterRoute)


class ResultOut(BaseModel):
    metric: str
    title: str
    unit: str
    window: dict[str, str]
    value: float | None
    display: str
    target: str | None
    target_display: str
    status: str = Field(description="ok | breach | no_data | info (no target set)")
    samples: int
    detail: dict[str, Any]
    notes: list[str]


class ReportOut(BaseModel):
    format: str
    generated_at: str
    scope: dict[str, Any]
    windows: list[dict[str, str]]
    results: list[ResultOut]
    breaches: int


class PointOut(BaseModel):
    label: str
    start: str
    end: str
    value: float | None
    display: str
    status: str
    samples: int


class SeriesOut(BaseModel):
    metric: str
    title: str
    unit: str
    bucket: str
    target: str | None
    target_display: str
    points: list[PointOut]


def _rt(request: Request) -> Runtime:
    rt: Runtime = request.app.state.runtime
    return rt


@router.post(
    "/v1/events/deploy",
    operation_id="recordDeploy",
    status_code=201,
    response_model=DeployOut,
    responses={**WRITE_RESPONSES, 200: {"description": "Already recorded with the same content (a retry)"}},
    dependencies=[Depends(json_body)],
    summary="Record a deployment (DORA input)",
    openapi_extra=EVENT_RULES,
)
async def post_deploy(
    request: Request, body: DeployIn, actor: Annotated[Actor, Depends(require(Permission.PUBLISH))]
) -> Response:
    out = await run_in_threadpool(record_deploy, _rt(request), actor, body)
    return JSONResponse(out.model_dump(), status_code=201 if out.created else 200)


@router.post(
    "/v1/events/incident",
    operation_id="recordIncident",
    status_code=201,
    response_model=IncidentOut,
    responses={**WRITE_RESPONSES, 200: {"description": "An update of a known incident"}},
    dependencies=[Depends(json_body)],
    summary="Record or update a production incident (DORA input)",
    openapi_extra=EVENT_RULES,
)
async def post_incident(
    request: Request, body: IncidentIn, actor: Annotated[Actor, Depends(require(Permission.PUBLISH))]
) -> Response:
    out = await run_in_threadpool(record_incident, _rt(request), actor, body)
    return JSONResponse(out.model_dump(), status_code=201 if out.updates == 1 else 200)


MetricQuery = Annotated[
    list[str] | None,
    Query(
        description="Metric names or groups (maintainability, dora, review); default all.",
        json_schema_extra={"items": {"type": "string", "enum": [*METRICS, *GROUPS]}},
    ),
]
_TIME: dict[str, Any] = {"json_schema_extra": {"format": "date-time", "pattern": f"^{TIMESTAMP}$"}}
#: What JSON Schema cannot say about a report's windows or a series' range (charter.http.openapi.rules).
WINDOW_RULES = rules(
    (
        "impossible-window",
        400,
        "A window or range of a valid form that names no time (2026-02-30, 2027-W53, an end not after its start).",
    ),
    ("range-too-long", 400, f"A series of more than {MAX_BUCKETS} buckets."),
)
ServiceQuery = Annotated[
    list[str] | None,
    Query(
        description="Only these services (DORA); default all.",
        json_schema_extra={"items": {"type": "string", "pattern": NAME}},
    ),
]


def _services(names: list[str] | None) -> tuple[str, ...]:
    """The ``service`` filter, each a service name as deployments record it (else a 400)."""
    for name in names or ():
        if not re.match(NAME, name):
            raise BadRequest(f"service {name[:80]!r} is not a service name (letters, digits and ._:/@-)")
    return tuple(names or ())


@router.get(
    "/v1/metrics",
    operation_id="getMetricsReport",
    response_model=ReportOut,
    responses=WRITE_RESPONSES,
    summary="Maintainability and DORA metrics over windows, with targets and status",
    openapi_extra=WINDOW_RULES,
)
async def get_report(
    request: Request,
    actor: Annotated[Actor, Depends(require(Permission.READ))],
    metric: MetricQuery = None,
    window: Annotated[
        list[str] | None,
        Query(
            description="Windows (7d, quarter, 2026-Q1 …), each once; default 30d, quarter.",
            json_schema_extra={"uniqueItems": True, "items": {"type": "string", "pattern": WINDOW_PATTERN}},
        ),
    ] = None,
    service: ServiceQuery = None,
    environment: Annotated[str | None, Query(max_length=100)] = None,
) -> dict[str, Any]:
    from charter.metrics.report import build_report
    from charter.metrics.sources import git_for

    rt = _rt(request)

    def run() -> dict[str, Any]:
        with rt.read() as conn:
            return build_report(
                conn,
                metrics=metric,
                windows=window,
                settings_metrics=rt.settings.metrics,
                git=git_for(rt.settings),
                services=_services(service),
                environment=environment,
            ).to_dict()

    return await run_in_threadpool(run)


@router.get(
    "/v1/metrics/series",
    operation_id="getMetricsSeries",
    response_model=list[SeriesOut],
    responses=WRITE_RESPONSES,
    summary="Metrics per day, week or month, for charts",
    openapi_extra=WINDOW_RULES,
)
async def get_series(
    request: Request,
    actor: Annotated[Actor, Depends(require(Permission.READ))],
    metric: MetricQuery = None,
    bucket: Annotated[str, Query(pattern="^(day|week|month)$")] = "week",
    since: Annotated[str | None, Query(description="RFC 3339; default 12 buckets back.", **_TIME)] = None,
    until: Annotated[str | None, Query(description="RFC 3339; default now.", **_TIME)] = None,
    service: ServiceQuery = None,
    environment: Annotated[str | None, Query(max_length=100)] = None,
) -> list[dict[str, Any]]:
    from charter.metrics.series import series
    from charter.metrics.sources import git_for

    rt = _rt(request)
    start, end = _time("since", since), _time("until", until)

    def run() -> list[dict[str, Any]]:
        with rt.read() as conn:
            found = series(
                conn,
                metric,
                bucket=bucket,
                since=start,
                until=end,
                settings_metrics=rt.settings.metrics,
                git=git_for(rt.settings),
                services=_services(service),
                environment=environment,
            )
        return [s.to_dict() for s in found]

    return await run_in_threadpool(run)


def _time(name: str, value: str | None) -> datetime | None:
    if value is None:
        return None
    if not re.fullmatch(TIMESTAMP, value):
        raise BadRequest(f"{name}: {value[:80]!r} is not an RFC 3339 timestamp from 1970 to 2999")
    try:
        return parse_timestamp(value, allow_future=True)
    except TimestampError as exc:
        raise BadRequest(f"{name}: {exc}") from None
