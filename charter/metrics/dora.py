"""DORA's five software delivery performance metrics, as dora.dev defines them.

Throughput: *change lead time* (commit to deployed in production), *deployment frequency*
(deployments over a period) and *failed deployment recovery time* (time to recover from a
deployment that fails and requires immediate intervention). Instability: *change fail rate* (the
ratio of deployments that require immediate intervention) and *deployment rework rate* (the
ratio of deployments that are unplanned but happen as a result of an incident in production).

Inputs are ``deploy.recorded`` and ``incident.recorded`` events (contract in docs/metrics.md) and
the git history. How each figure is derived from them:

- A deployment is *failed* when it was recorded with ``status: failed``, when an incident names it
  (``deploy_id``), or when a later deployment ``remediates`` it.
- A failed deployment *recovers* at the earliest of: a successful deployment that remediates it;
  the moment every incident it caused is resolved; for a ``status: failed`` deployment, the next
  successful deployment of the same service. Recovery time runs from the failed deployment.
- A deployment is *unplanned rework* when its ``kind`` is ``hotfix`` or ``rollback`` or it names
  the ``incident`` it responds to.
- The commits a successful deployment brings are those reachable from its commit and from no
  earlier successful deployment of the same service (git), or its recorded ``changes``. Each
  commit's lead time runs from its committer time to the deployment; the metric is the median.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from charter import events as ev
from charter.metrics.context import MetricContext
from charter.metrics.git import GitError
from charter.metrics.model import MetricResult
from charter.metrics.stats import median, percentile
from charter.metrics.timestamps import TimestampError, parse_timestamp
from charter.metrics.windows import DAY, Window


@dataclass
class Deployment:
    deploy_id: str
    service: str
    environment: str
    commit: str
    deployed_at: datetime
    status: str
    kind: str
    remediates: list[str]
    incident: str | None
    built_at: datetime | None
    changes: list[tuple[str, datetime]] | None
    event_id: int | None
    failed_by: list[str] = field(default_factory=list)
    recovered_at: datetime | None = None

    @property
    def succeeded(self) -> bool:
        return self.status != "failed"

    @property
    def failed(self) -> bool:
        return bool(self.failed_by)

    @property
    def unplanned(self) -> bool:
        return self.kind in ("hotfix", "rollback") or self.incident is not None


@dataclass
class Incident:
    incident_id: str
    service: str
    environment: str
    deploy_id: str | None
    started_at: datetime
    resolved_at: datetime | None
    severity: str | None


@dataclass
class DeliveryLog:
    """Every deployment and incident in scope, folded from the events (all time, oldest first)."""

    deployments: list[Deployment]
    incidents: dict[str, Incident]
    skipped: list[str]

    def in_window(self, window: Window) -> list[Deployment]:
        return [d for d in self.deployments if window.contains(d.deployed_at)]


def delivery_log(ctx: MetricContext) -> DeliveryLog:
    log: DeliveryLog = ctx.memo("dora.log", lambda: _fold(ctx))
    return log


def _time(value: Any, fallback: datetime | None = None) -> datetime | None:
    if value is None:
        return fallback
    try:
        return parse_timestamp(value, allow_future=True)
    except TimestampError:
        return None


def _fold(ctx: MetricContext) -> DeliveryLog:
    skipped: list[str] = []
    deployments: list[Deployment] = []
    seen: set[str] = set()
    for e in ctx.of(ev.DEPLOY_RECORDED):
        p = e.payload
        deployed_at = _time(p.get("deployed_at"), e.occurred_at)
        deploy_id, commit = p.get("deploy_id"), p.get("commit")
        if not isinstance(deploy_id, str) or not isinstance(commit, str) or deployed_at is None:
            skipped.append(f"deploy.recorded event {e.id}: needs deploy_id, commit and a valid deployed_at")
            continue
        if deploy_id in seen:
            skipped.append(f"deploy.recorded event {e.id}: deployment {deploy_id!r} recorded twice")
            continue
        seen.add(deploy_id)
        service, environment = str(p.get("service", "default")), str(p.get("environment", "production"))
        if environment != ctx.environment or (ctx.services and service not in ctx.services):
            continue
        changes = None
        if isinstance(p.get("changes"), list):
            changes = [
                (str(c["sha"]), t)
                for c in p["changes"]
                if isinstance(c, dict) and "sha" in c and (t := _time(c.get("committed_at"))) is not None
            ]
        deployments.append(
            Deployment(
                deploy_id=deploy_id,
                service=service,
                environment=environment,
                commit=commit,
                deployed_at=deployed_at,
                status=str(p.get("status", "succeeded")),
                kind=str(p.get("kind", "planned")),
                remediates=[str(x) for x in p.get("remediates", []) if isinstance(x, str)],
                incident=p.get("incident") if isinstance(p.get("incident"), str) else None,
                built_at=_time(p.get("built_at")),
                changes=changes,
                event_id=e.id,
            )
        )
    deployments.sort(key=lambda d: (d.deployed_at, d.event_id or 0))
    incidents: dict[str, Incident] = {}
    for e in ctx.of(ev.INCIDENT_RECORDED):
        p = e.payload
        started = _time(p.get("started_at"), e.occurred_at)
        if not isinstance(p.get("incident_id"), str) or started is None:
            skipped.append(f"incident.recorded event {e.id}: needs incident_id and a valid started_at")
            continue
        incidents[p["incident_id"]] = Incident(  # the latest record of an incident is its whole state
            incident_id=p["incident_id"],
            service=str(p.get("service", "default")),
            environment=str(p.get("environment", "production")),
            deploy_id=p.get("deploy_id") if isinstance(p.get("deploy_id"), str) else None,
            started_at=started,
            resolved_at=_time(p.get("resolved_at")),
            severity=p.get("severity"),
        )
    _mark_failures(deployments, incidents)
    return DeliveryLog(deployments, incidents, skipped)


def _mark_failures(deployments: list[Deployment], incidents: dict[str, Incident]) -> None:
    by_id = {d.deploy_id: d for d in deployments}
    candidates: dict[str, list[datetime]] = {d.deploy_id: [] for d in deployments}
    for d in deployments:
        if not d.succeeded:
            d.failed_by.append("status")
            later = next(
                (x for x in deployments if x.service == d.service and x.succeeded and x.deployed_at > d.deployed_at),
                None,
            )
            if later is not None:
                candidates[d.deploy_id].append(later.deployed_at)
    for d in deployments:
        for target in d.remediates:
            if target in by_id:
                by_id[target].failed_by.append(f"remediated by {d.deploy_id}")
                if d.succeeded:
                    candidates[target].append(d.deployed_at)
    caused: dict[str, list[Incident]] = {}
    for incident in incidents.values():
        if incident.deploy_id in by_id:
            caused.setdefault(incident.deploy_id, []).append(incident)
    for deploy_id, found in caused.items():
        by_id[deploy_id].failed_by.append("incident " + ", ".join(i.incident_id for i in found))
        resolved = [i.resolved_at for i in found]
        if all(r is not None for r in resolved):
            candidates[deploy_id].append(max(r for r in resolved if r is not None))
    for d in deployments:
        if d.failed and candidates[d.deploy_id]:
            d.recovered_at = min(candidates[d.deploy_id])


def _per_service(deploys: list[Deployment]) -> dict[str, list[Deployment]]:
    out: dict[str, list[Deployment]] = {}
    for d in deploys:
        out.setdefault(d.service, []).append(d)
    return dict(sorted(out.items()))


def _result(name: str, title: str, unit: Any, window: Window, ctx: MetricContext, **kw: Any) -> MetricResult:
    return MetricResult(name=name, title=title, unit=unit, window=window, target=ctx.targets.get(name), **kw)


def deployment_frequency(ctx: MetricContext, window: Window) -> MetricResult:
    log = delivery_log(ctx)
    deploys = log.in_window(window)
    known = any(d.deployed_at < window.end for d in log.deployments)
    value = len(deploys) / window.days if known else None
    times = [d.deployed_at for d in deploys]
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(times)]
    detail = {
        "deployments": len(deploys),
        "per_week": round(len(deploys) / window.days * 7, 6) if known else None,
        "days_with_deployments": len({t.date() for t in times}),
        "median_seconds_between": median(gaps),
        "services": {s: len(ds) for s, ds in _per_service(deploys).items()},
    }
    notes = list(log.skipped)
    if not known:
        notes.append(f"no {ctx.environment} deployments are recorded up to the end of this window")
    return _result(
        "deployment_frequency",
        "Deployment frequency",
        "per_day",
        window,
        ctx,
        value=value,
        samples=len(deploys),
        detail=detail,
        notes=notes,
    )


def change_fail_rate(ctx: MetricContext, window: Window) -> MetricResult:
    log = delivery_log(ctx)
    deploys = log.in_window(window)
    failed = [d for d in deploys if d.failed]
    value = len(failed) / len(deploys) if deploys else None
    detail = {
        "deployments": len(deploys),
        "failed": len(failed),
        "failed_deployments": {d.deploy_id: d.failed_by for d in failed},
        "services": {
            s: {"deployments": len(ds), "failed": sum(d.failed for d in ds)} for s, ds in _per_service(deploys).items()
        },
    }
    notes = [] if deploys else ["no deployments in this window"]
    return _result(
        "change_fail_rate",
        "Change fail rate",
        "ratio",
        window,
        ctx,
        value=value,
        samples=len(deploys),
        detail=detail,
        notes=notes,
    )


def deployment_rework_rate(ctx: MetricContext, window: Window) -> MetricResult:
    log = delivery_log(ctx)
    deploys = log.in_window(window)
    unplanned = [d for d in deploys if d.unplanned]
    value = len(unplanned) / len(deploys) if deploys else None
    detail = {
        "deployments": len(deploys),
        "unplanned": len(unplanned),
        "unplanned_deployments": [d.deploy_id for d in unplanned],
        "services": {
            s: {"deployments": len(ds), "unplanned": sum(d.unplanned for d in ds)}
            for s, ds in _per_service(deploys).items()
        },
    }
    notes = [] if deploys else ["no deployments in this window"]
    return _result(
        "deployment_rework_rate",
        "Deployment rework rate",
        "ratio",
        window,
        ctx,
        value=value,
        samples=len(deploys),
        detail=detail,
        notes=notes,
    )


def failed_deployment_recovery_time(ctx: MetricContext, window: Window) -> MetricResult:
    log = delivery_log(ctx)
    failed = [d for d in log.in_window(window) if d.failed]
    times: dict[str, float] = {}
    notes: list[str] = []
    open_ = []
    for d in failed:
        if d.recovered_at is None:
            open_.append(d.deploy_id)
            continue
        seconds = (d.recovered_at - d.deployed_at).total_seconds()
        if seconds < 0:
            notes.append(f"{d.deploy_id}: recovery recorded before the deployment (clock skew); left out")
            continue
        times[d.deploy_id] = seconds
    if open_:
        notes.append(f"{len(open_)} failed deployment(s) not recovered yet: {', '.join(open_)}")
    if not failed:
        notes.append("no failed deployments in this window")
    detail = {
        "failed": len(failed),
        "recovered": len(times),
        "unrecovered": open_,
        "p90_seconds": percentile(list(times.values()), 90),
        "recovery_seconds": times,
    }
    return _result(
        "failed_deployment_recovery_time",
        "Failed deployment recovery time",
        "seconds",
        window,
        ctx,
        value=median(list(times.values())),
        samples=len(times),
        detail=detail,
        notes=notes,
    )


def lead_times(ctx: MetricContext) -> dict[str, Any]:
    """Per successful deployment: the commits it first brought to production and their lead times."""
    found: dict[str, Any] = ctx.memo("dora.lead_times", lambda: _lead_times(ctx))
    return found


def _lead_times(ctx: MetricContext) -> dict[str, Any]:
    log = delivery_log(ctx)
    per_deploy: dict[str, list[tuple[str, float]]] = {}
    skew: dict[str, int] = {}
    problems: list[str] = []
    earlier: dict[str, list[str]] = {}
    if ctx.git is not None:
        ctx.git.preload([d.commit for d in log.deployments])
    for d in log.deployments:
        if not d.succeeded:
            continue
        prior = earlier.setdefault(d.service, [])
        commits: list[tuple[str, datetime]] | None = d.changes
        if commits is None and ctx.git is not None:
            if ctx.git.resolve(d.commit) is None:
                problems.append(f"{d.deploy_id}: commit {d.commit[:12]} is not in {ctx.git.repo}")
            else:
                try:
                    if prior:
                        commits = ctx.git.first_deployed(d.commit, prior)
                    else:  # the first deployment has no baseline: only its own commit counts
                        when = ctx.git.commit_time(d.commit)
                        commits = [(d.commit, when)] if when else []
                except GitError as exc:
                    problems.append(f"{d.deploy_id}: {exc}")
        prior.append(d.commit)
        if commits is None:
            continue
        samples = []
        for sha, committed_at in commits:
            seconds = (d.deployed_at - committed_at).total_seconds()
            if seconds < 0:
                skew[d.deploy_id] = skew.get(d.deploy_id, 0) + 1
                continue
            samples.append((sha, seconds))
        per_deploy[d.deploy_id] = samples
    return {"per_deploy": per_deploy, "skew": skew, "problems": problems}


def change_lead_time(ctx: MetricContext, window: Window) -> MetricResult:
    log = delivery_log(ctx)
    info = lead_times(ctx)
    deploys = [d for d in log.in_window(window) if d.succeeded]
    values: list[float] = []
    measured = 0
    per_service: dict[str, list[float]] = {}
    skewed = 0
    for d in deploys:
        if d.deploy_id not in info["per_deploy"]:
            continue
        measured += 1
        found = [s for _, s in info["per_deploy"][d.deploy_id]]
        values.extend(found)
        per_service.setdefault(d.service, []).extend(found)
        skewed += info["skew"].get(d.deploy_id, 0)
    notes = [p for p in info["problems"] if any(p.startswith(d.deploy_id + ":") for d in deploys)]
    if skewed:
        notes.append(f"{skewed} commit(s) have a commit time after their deployment (clock skew); left out")
    if deploys and measured < len(deploys) and ctx.git is None:
        notes.append("no git history: pass --repo (or record deployments with changes) to measure lead time")
    if not deploys:
        notes.append("no successful deployments in this window")
    detail = {
        "deployments": len(deploys),
        "deployments_measured": measured,
        "commits": len(values),
        "p90_seconds": percentile(values, 90),
        "mean_seconds": sum(values) / len(values) if values else None,
        "services": {s: median(v) for s, v in sorted(per_service.items())},
        "clock_skew_commits": skewed,
    }
    return _result(
        "change_lead_time",
        "Change lead time",
        "seconds",
        window,
        ctx,
        value=median(values),
        samples=len(values),
        detail=detail,
        notes=notes,
    )


__all__ = [
    "DAY",
    "DeliveryLog",
    "Deployment",
    "Incident",
    "change_fail_rate",
    "change_lead_time",
    "delivery_log",
    "deployment_frequency",
    "deployment_rework_rate",
    "failed_deployment_recovery_time",
]
