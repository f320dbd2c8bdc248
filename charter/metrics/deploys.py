"""Recording deployments and incidents: the inputs of the DORA metrics.

:func:`record_deploy` and :func:`record_incident` are the one use case behind
``POST /v1/events/deploy``, ``POST /v1/events/incident`` and ``charter deploy record|incident``.
Each validates everything first (timestamps, references to other deployments), then writes the
key row and the ``deploy.recorded`` / ``incident.recorded`` event in one transaction, so a bad
request records nothing. The payload contract is in ``docs/metrics.md`` and beside the event
constants in :mod:`charter.events`.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from datetime import datetime
from typing import Any, Literal

import orjson
import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import PydanticCustomError

from charter import events as ev
from charter.audit import record_audit
from charter.auth.roles import Actor
from charter.exceptions import Conflict, ErrorDetail, ValidationFailed
from charter.http.openapi import rules
from charter.metrics.tables import metric_deployments, metric_incidents
from charter.metrics.timestamps import TimestampError, format_timestamp, parse_timestamp
from charter.runtime import Runtime

SHA = re.compile(r"^[0-9a-f]{7,64}$")
#: What the API declares (either case; stored lower-case); the validators below check it with a
#: clearer message than a bare pattern mismatch.
HEX_COMMIT = r"^[0-9a-fA-F]{7,64}$"
NAME = r"^[A-Za-z0-9][A-Za-z0-9._:/@-]{0,199}$"
#: How the API declares an event's time: RFC 3339 with an offset.
TIME: dict[str, Any] = {"format": "date-time"}
#: What JSON Schema cannot say about an event (charter.http.openapi.rules): each error's keyword.
EVENT_RULES = rules(
    ("future", 422, "A time more than 5 minutes after the server's clock (the sender's clock is wrong)."),
    (
        "order",
        422,
        "Times out of order: built_at after deployed_at, resolved_at before started_at, or a "
        "remediated deployment later than this one.",
    ),
    (
        "reference",
        422,
        "A deploy_id or remediates entry that names no recorded deployment of this service and "
        "environment, or the deployment itself.",
    ),
    ("moved", 422, "An update of an incident that moves it to another service or environment."),
)
DeployKind = Literal["planned", "hotfix", "rollback"]
DeployStatus = Literal["succeeded", "failed"]


def _dt(value: str) -> datetime:
    return parse_timestamp(value, allow_future=True)


def _ts(value: object) -> str | None:
    if value is None:
        return None
    try:
        moment = parse_timestamp(value, allow_future=True)
    except TimestampError as exc:
        raise ValueError(str(exc)) from None
    try:
        return format_timestamp(parse_timestamp(moment))
    except TimestampError as exc:  # a rule (keyword "future"), not a malformed value
        raise PydanticCustomError("future", str(exc)) from None


class Change(BaseModel):
    """One commit a deployment brought to production, with its commit time."""

    model_config = ConfigDict(extra="forbid")
    sha: str = Field(description="Commit id (hex).", json_schema_extra={"pattern": HEX_COMMIT})
    committed_at: str = Field(description="Commit time, RFC 3339 with offset.", json_schema_extra=TIME)

    @field_validator("sha")
    @classmethod
    def _sha(cls, v: str) -> str:
        if not SHA.match(v.lower()):
            raise ValueError("not a hex commit id (7 to 64 characters)")
        return v.lower()

    @field_validator("committed_at", mode="before")
    @classmethod
    def _committed(cls, v: object) -> str | None:
        try:
            return format_timestamp(parse_timestamp(v, allow_future=True))
        except TimestampError as exc:
            raise ValueError(str(exc)) from None


class DeployIn(BaseModel):
    """A deployment of one service to one environment."""

    model_config = ConfigDict(extra="forbid")

    deploy_id: str | None = Field(
        default=None, pattern=NAME, description="Unique id; repeat it to retry safely. Default: a new UUID."
    )
    service: str = Field(default="default", pattern=NAME, description="The application or service deployed.")
    environment: str = Field(default="production", pattern=NAME, description="DORA counts `production` only.")
    commit: str = Field(description="The commit deployed (hex id).", json_schema_extra={"pattern": HEX_COMMIT})
    version: str | None = Field(default=None, max_length=100)
    deployed_at: str | None = Field(
        default=None, description="RFC 3339 with offset, not in the future; default now.", json_schema_extra=TIME
    )
    built_at: str | None = Field(
        default=None,
        description="When the artifact was built (build-to-deploy lead time); not after deployed_at.",
        json_schema_extra=TIME,
    )
    status: DeployStatus = Field(default="succeeded", description="`failed`: the deployment itself failed.")
    kind: DeployKind = Field(default="planned", description="`hotfix` and `rollback` are unplanned (rework).")
    remediates: list[str] = Field(
        default_factory=list, max_length=50, description="Deploy ids this deployment fixes or rolls back."
    )
    incident: str | None = Field(default=None, pattern=NAME, description="Incident this deployment responds to.")
    changes: list[Change] | None = Field(
        default=None,
        max_length=10_000,
        description="Commits first deployed here with their commit times; default: read from git at report time.",
    )
    url: str | None = Field(default=None, max_length=2000)

    @field_validator("commit")
    @classmethod
    def _commit(cls, v: str) -> str:
        if not SHA.match(v.lower()):
            raise ValueError("not a hex commit id (7 to 64 characters)")
        return v.lower()

    @field_validator("deployed_at", "built_at", mode="before")
    @classmethod
    def _times(cls, v: object) -> str | None:
        return _ts(v)

    @model_validator(mode="after")
    def _order(self) -> DeployIn:
        if self.built_at and self.deployed_at and _dt(self.built_at) > _dt(self.deployed_at):
            raise PydanticCustomError("order", "built_at is after deployed_at")
        if self.deploy_id and self.deploy_id in self.remediates:
            raise PydanticCustomError("reference", "a deployment cannot remediate itself")
        return self


class IncidentIn(BaseModel):
    """A production incident; record the same ``incident_id`` again to update it (e.g. resolve it)."""

    model_config = ConfigDict(extra="forbid")

    incident_id: str | None = Field(default=None, pattern=NAME, description="Unique id; default a new UUID.")
    service: str | None = Field(default=None, pattern=NAME, description="Default: the caused deployment's service.")
    environment: str | None = Field(default=None, pattern=NAME)
    deploy_id: str | None = Field(default=None, pattern=NAME, description="The deployment that caused it.")
    started_at: str | None = Field(
        default=None, description="When users were first affected; default now.", json_schema_extra=TIME
    )
    resolved_at: str | None = Field(
        default=None, description="When service was restored; not before started_at.", json_schema_extra=TIME
    )
    severity: str | None = Field(default=None, max_length=40)
    summary: str | None = Field(default=None, max_length=2000)

    @field_validator("started_at", "resolved_at", mode="before")
    @classmethod
    def _times(cls, v: object) -> str | None:
        return _ts(v)


class DeployOut(BaseModel):
    deploy_id: str
    event_id: int
    created: bool = Field(description="False when this id was already recorded with the same content.")
    payload: dict[str, Any]


class IncidentOut(BaseModel):
    incident_id: str
    event_id: int
    updates: int = Field(description="How many times this incident has been recorded (1 = new).")
    payload: dict[str, Any]


def parse(model: type[DeployIn] | type[IncidentIn], data: Any) -> Any:
    """Validate ``data`` against ``model``; errors become :class:`ValidationFailed` with pointers."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = [
            ErrorDetail("/" + "/".join(str(p) for p in e["loc"]), e["msg"].removeprefix("Value error, "), e["type"])
            for e in exc.errors()
        ]
        raise ValidationFailed(detail=f"{len(errors)} invalid field(s)", errors=errors) from None


def _fingerprint(payload: dict[str, Any]) -> str:
    return hashlib.sha256(orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)).hexdigest()


def record_deploy(rt: Runtime, actor: Actor, deploy: DeployIn) -> DeployOut:
    """Record one deployment. Idempotent per ``deploy_id``: the same content again returns the first
    record (``created=False``); different content under a known id is a :class:`Conflict`."""
    now = ev.utcnow()
    payload = deploy.model_dump(exclude_none=True)
    payload["deploy_id"] = deploy.deploy_id or str(uuid.uuid4())
    payload.setdefault("deployed_at", format_timestamp(now))
    if deploy.changes is not None:
        payload["changes"] = [c.model_dump() for c in deploy.changes]
    deployed_at = parse_timestamp(payload["deployed_at"], allow_future=True)
    fingerprint = _fingerprint(
        {k: v for k, v in payload.items() if not (k == "deployed_at" and not deploy.deployed_at)}
    )
    try:
        return _insert_deploy(rt, actor, deploy, payload, deployed_at, fingerprint)
    except sa.exc.IntegrityError:  # a concurrent recorder of the same deploy_id won the race
        with rt.read() as conn:
            row = conn.execute(
                sa.select(metric_deployments).where(metric_deployments.c.deploy_id == payload["deploy_id"])
            ).first()
            if row is None:
                raise
            return _existing_deploy(conn, row, fingerprint)


def _insert_deploy(
    rt: Runtime, actor: Actor, deploy: DeployIn, payload: dict[str, Any], deployed_at: datetime, fingerprint: str
) -> DeployOut:
    with rt.write() as (conn, pending):
        existing = conn.execute(
            sa.select(metric_deployments).where(metric_deployments.c.deploy_id == payload["deploy_id"])
        ).first()
        if existing is not None:
            return _existing_deploy(conn, existing, fingerprint)
        _check_remediates(conn, deploy, deployed_at)
        event = ev.record(conn, ev.Event(ev.DEPLOY_RECORDED, payload, domain=deploy.service, occurred_at=deployed_at))
        conn.execute(
            sa.insert(metric_deployments).values(
                deploy_id=payload["deploy_id"],
                service=deploy.service,
                environment=deploy.environment,
                deployed_at=deployed_at,
                fingerprint=fingerprint,
                event_id=event.id,
            )
        )
        record_audit(conn, actor, "deploy.record", "deployment", payload["deploy_id"], {"payload": payload})
        pending.append(event)
    return DeployOut(deploy_id=payload["deploy_id"], event_id=event.id or 0, created=True, payload=payload)


def _existing_deploy(conn: sa.Connection, row: Any, fingerprint: str) -> DeployOut:
    from charter.db.tables import events as events_table

    if row.fingerprint != fingerprint:
        raise Conflict(
            f"deployment {row.deploy_id!r} is already recorded with different content; use a new deploy_id",
            errors=[ErrorDetail("/deploy_id", "already recorded with different content", "unique")],
        )
    stored = conn.execute(sa.select(events_table.c.payload).where(events_table.c.id == row.event_id)).scalar_one()
    return DeployOut(deploy_id=row.deploy_id, event_id=row.event_id, created=False, payload=stored)


def _check_remediates(conn: sa.Connection, deploy: DeployIn, deployed_at: datetime) -> None:
    if not deploy.remediates:
        return
    rows = {
        r.deploy_id: r
        for r in conn.execute(
            sa.select(metric_deployments).where(metric_deployments.c.deploy_id.in_(deploy.remediates))
        )
    }
    errors = []
    for i, deploy_id in enumerate(deploy.remediates):
        row = rows.get(deploy_id)
        if row is None:
            errors.append(ErrorDetail(f"/remediates/{i}", f"no deployment {deploy_id!r} is recorded", "reference"))
        elif row.service != deploy.service or row.environment != deploy.environment:
            errors.append(
                ErrorDetail(
                    f"/remediates/{i}",
                    f"deployment {deploy_id!r} went to {row.service}/{row.environment}, "
                    f"not {deploy.service}/{deploy.environment}",
                    "reference",
                )
            )
        elif _aware(row.deployed_at) > deployed_at:
            errors.append(ErrorDetail(f"/remediates/{i}", f"deployment {deploy_id!r} is later than this one", "order"))
    if errors:
        raise ValidationFailed(detail="remediates names deployments that cannot be remediated here", errors=errors)


def _aware(value: datetime) -> datetime:
    from datetime import UTC

    return value if value.tzinfo else value.replace(tzinfo=UTC)


def record_incident(rt: Runtime, actor: Actor, incident: IncidentIn) -> IncidentOut:
    """Record a new incident, or an update of a known ``incident_id`` (fields given override the
    previous record; the full merged state is stored, so the latest event alone describes it)."""
    from charter.db.tables import events as events_table

    now = ev.utcnow()
    given = incident.model_dump(exclude_none=True)
    with rt.write() as (conn, pending):
        incident_id = incident.incident_id or str(uuid.uuid4())
        row = conn.execute(sa.select(metric_incidents).where(metric_incidents.c.incident_id == incident_id)).first()
        state: dict[str, Any] = {}
        if row is not None:
            state = dict(
                conn.execute(sa.select(events_table.c.payload).where(events_table.c.id == row.event_id)).scalar_one()
            )
        state.update(given)
        state["incident_id"] = incident_id
        state.setdefault("started_at", format_timestamp(now))
        errors: list[ErrorDetail] = []
        if "deploy_id" in state:
            dep = conn.execute(
                sa.select(metric_deployments).where(metric_deployments.c.deploy_id == state["deploy_id"])
            ).first()
            if dep is None:
                errors.append(
                    ErrorDetail("/deploy_id", f"no deployment {state['deploy_id']!r} is recorded", "reference")
                )
            else:
                state.setdefault("service", dep.service)
                state.setdefault("environment", dep.environment)
                if state["service"] != dep.service or state["environment"] != dep.environment:
                    errors.append(
                        ErrorDetail(
                            "/deploy_id",
                            f"deployment {dep.deploy_id!r} went to {dep.service}/{dep.environment}, "
                            f"not {state['service']}/{state['environment']}",
                            "reference",
                        )
                    )
        state.setdefault("service", "default")
        state.setdefault("environment", "production")
        if state.get("resolved_at") and _dt(state["resolved_at"]) < _dt(state["started_at"]):
            errors.append(ErrorDetail("/resolved_at", "resolved_at is before started_at", "order"))
        if row is not None and (row.service != state["service"] or row.environment != state["environment"]):
            errors.append(ErrorDetail("/service", "an incident cannot move to another service or environment", "moved"))
        if errors:
            raise ValidationFailed(detail=f"incident {incident_id!r} is not consistent", errors=errors)
        event = ev.record(conn, ev.Event(ev.INCIDENT_RECORDED, state, domain=state["service"], occurred_at=now))
        updates = 1 if row is None else row.updates + 1
        if row is None:
            conn.execute(
                sa.insert(metric_incidents).values(
                    incident_id=incident_id,
                    service=state["service"],
                    environment=state["environment"],
                    event_id=event.id,
                    updates=1,
                )
            )
        else:
            conn.execute(
                sa.update(metric_incidents)
                .where(metric_incidents.c.incident_id == incident_id)
                .values(event_id=event.id, updates=updates)
            )
        record_audit(conn, actor, "incident.record", "incident", incident_id, {"payload": state})
        pending.append(event)
    return IncidentOut(incident_id=incident_id, event_id=event.id or 0, updates=updates, payload=state)
