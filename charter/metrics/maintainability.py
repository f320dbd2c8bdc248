"""The playbook's five maintainability metrics, computed from Charter's own event log.

===========================  ==========================================  ==========================
metric                       value                                       default target
===========================  ==========================================  ==========================
schema_break_rate            breaking changes per quarter, worst domain  < 1 per quarter per domain
llm_eval_regression_rate     critical regressions per evaluated release  == 0 per release
build_to_deploy_lead_time    median built_at → deployed_at (production)  < 1 day
token_divergence             worst app's share of overrides (latest)     < 5 %
rag_freshness_lag            p95 of content change → searchable          < 24 h
===========================  ==========================================  ==========================

Which event types and payload fields each reads is the contract in docs/metrics.md (and beside
the constants in :mod:`charter.events`). An event that does not meet it is left out and named in
the result's notes, never guessed at.
"""

from __future__ import annotations

from typing import Any

from charter import events as ev
from charter.metrics.context import MetricContext
from charter.metrics.dora import delivery_log
from charter.metrics.model import MetricResult
from charter.metrics.stats import median, percentile
from charter.metrics.windows import Window


def _result(name: str, title: str, unit: Any, window: Window, ctx: MetricContext, **kw: Any) -> MetricResult:
    return MetricResult(name=name, title=title, unit=unit, window=window, target=ctx.targets.get(name), **kw)


def schema_break_rate(ctx: MetricContext, window: Window) -> MetricResult:
    """Breaking changes per quarter per domain; the value is the worst domain's rate. A domain
    counts once it has released a schema before the window ends (a quiet quarter is a 0)."""
    tracked: set[str] = set()
    for e in ctx.of(ev.SCHEMA_RELEASED) + ctx.of(ev.SCHEMA_BREAKING_CHANGE):
        if e.occurred_at < window.end:
            tracked.add(e.domain or "default")
    domains: dict[str, dict[str, Any]] = {d: {"breaking_changes": 0, "releases": 0, "changes": []} for d in tracked}
    for e in ctx.of(ev.SCHEMA_RELEASED, window):
        domains[e.domain or "default"]["releases"] += 1
    for e in ctx.of(ev.SCHEMA_BREAKING_CHANGE, window):
        row = domains[e.domain or "default"]
        row["breaking_changes"] += 1
        p = e.payload
        previous = p.get("previous_version", p.get("previous"))
        row["changes"].append(f"{p.get('schema_id', p.get('content_type', '?'))} {previous} → {p.get('version')}")
    rates = {d: row["breaking_changes"] / window.quarters for d, row in domains.items()}
    for d, row in domains.items():
        row["rate"] = round(rates[d], 6)
    value = max(rates.values(), default=None)
    worst = max(rates, key=lambda d: rates[d]) if rates else None
    notes = [] if domains else ["no content-type releases are recorded up to the end of this window"]
    return _result(
        "schema_break_rate",
        "Schema break rate",
        "per_quarter",
        window,
        ctx,
        value=value,
        samples=sum(r["breaking_changes"] for r in domains.values()),
        detail={"quarters": round(window.quarters, 6), "worst_domain": worst, "domains": dict(sorted(domains.items()))},
        notes=notes,
    )


def llm_eval_regression_rate(ctx: MetricContext, window: Window) -> MetricResult:
    """Critical regressions per evaluated release. Per (release, suite) only the latest run in the
    window counts: a regression fixed and re-evaluated before the release does not."""
    latest: dict[tuple[str, str], Any] = {}
    skipped = 0
    for e in ctx.of(ev.EVAL_COMPLETED, window):
        release, regressions = _release(e.payload), e.payload.get("regressions")
        if release is None or not isinstance(regressions, list):
            skipped += 1
            continue
        suite = e.payload.get("suite") or e.payload.get("dataset") or "default"
        latest[(release, str(suite))] = e
    releases: dict[str, dict[str, Any]] = {}
    for (release, suite), e in sorted(latest.items()):
        crit = [
            r.get("metric", "?")
            for r in e.payload["regressions"]
            if isinstance(r, dict) and (r.get("critical") is True or str(r.get("severity", "")).lower() == "critical")
        ]
        row = releases.setdefault(release, {"critical": 0, "regressions": 0, "suites": {}})
        row["critical"] += len(crit)
        row["regressions"] += len(e.payload["regressions"])
        row["suites"][suite] = {"critical": crit, "event_id": e.id}
    total = sum(r["critical"] for r in releases.values())
    value = total / len(releases) if releases else None
    notes = []
    if skipped:
        notes.append(f"{skipped} eval.completed event(s) without a release (or prompt) and regressions left out")
    if not releases:
        notes.append("no evaluated releases in this window")
    return _result(
        "llm_eval_regression_rate",
        "LLM eval regression rate",
        "per_release",
        window,
        ctx,
        value=value,
        samples=len(releases),
        detail={
            "releases": releases,
            "critical_total": total,
            "releases_with_critical": sorted(r for r, row in releases.items() if row["critical"]),
        },
        notes=notes,
    )


def _release(payload: dict[str, Any]) -> str | None:
    """What an eval run evaluated: ``release``, else ``prompt@prompt_version`` (the eval runner's)."""
    if isinstance(payload.get("release"), str) and payload["release"]:
        return str(payload["release"])
    prompt = payload.get("prompt")
    if isinstance(prompt, str) and prompt:
        version = payload.get("prompt_version")
        return f"{prompt}@{version}" if version else prompt
    return None


def build_to_deploy_lead_time(ctx: MetricContext, window: Window) -> MetricResult:
    """Median time from an artifact's build (``built_at``) to its successful deployment."""
    log = delivery_log(ctx)
    deploys = [d for d in log.in_window(window) if d.succeeded]
    values: list[float] = []
    per_service: dict[str, list[float]] = {}
    skewed = missing = 0
    for d in deploys:
        if d.built_at is None:
            missing += 1
            continue
        seconds = (d.deployed_at - d.built_at).total_seconds()
        if seconds < 0:
            skewed += 1
            continue
        values.append(seconds)
        per_service.setdefault(d.service, []).append(seconds)
    notes = []
    if missing:
        notes.append(f"{missing} deployment(s) without built_at left out")
    if skewed:
        notes.append(f"{skewed} deployment(s) built after they were deployed (clock skew) left out")
    if not deploys:
        notes.append("no successful deployments in this window")
    return _result(
        "build_to_deploy_lead_time",
        "Build-to-deploy lead time",
        "seconds",
        window,
        ctx,
        value=median(values),
        samples=len(values),
        detail={
            "p90_seconds": percentile(values, 90),
            "max_seconds": max(values, default=None),
            "services": {s: median(v) for s, v in sorted(per_service.items())},
        },
        notes=notes,
    )


def token_divergence(ctx: MetricContext, window: Window) -> MetricResult:
    """The share of style declarations that override the tokens, per app, from the latest scan
    in the window; the value is the worst app's."""
    apps: dict[str, dict[str, Any]] = {}
    skipped = 0
    for e in ctx.of(ev.TOKENS_DIVERGENCE, window):
        found = e.payload.get("apps")
        if not isinstance(found, list):
            skipped += 1
            continue
        for app in found:
            if not isinstance(app, dict) or not isinstance(app.get("name"), str):
                skipped += 1
                continue
            percent = app.get("percent")
            if not isinstance(percent, int | float) or isinstance(percent, bool) or not 0 <= percent <= 100:
                skipped += 1
                continue
            apps[app["name"]] = {
                "ratio": round(percent / 100, 6),
                "divergent": app.get("divergent"),
                "counted": app.get("counted"),
                "scanned_at": e.occurred_at.isoformat(),
                "event_id": e.id,
            }
    value = max((a["ratio"] for a in apps.values()), default=None)
    notes = []
    if skipped:
        notes.append(f"{skipped} malformed app entr(y/ies) in tokens.divergence events left out")
    if not apps:
        notes.append("no divergence scans in this window")
    over = [n for n, a in apps.items() if ctx_target_breached(ctx, "token_divergence", a["ratio"])]
    return _result(
        "token_divergence",
        "Token divergence",
        "ratio",
        window,
        ctx,
        value=value,
        samples=len(apps),
        detail={"apps": dict(sorted(apps.items())), "apps_over_target": over},
        notes=notes,
    )


def rag_freshness_lag(ctx: MetricContext, window: Window) -> MetricResult:
    """p95 of the lag between a content change and it being searchable, over index updates."""
    values: list[float] = []
    per_index: dict[str, list[float]] = {}
    skipped = 0
    for e in ctx.of(ev.INDEX_UPDATED, window):
        lag = e.payload.get("lag_ms")
        if not isinstance(lag, int | float) or isinstance(lag, bool) or lag < 0:
            skipped += 1
            continue
        seconds = lag / 1000
        values.append(seconds)
        per_index.setdefault(str(e.payload.get("index", "default")), []).append(seconds)
    notes = []
    if skipped:
        notes.append(f"{skipped} index.updated event(s) without a valid lag_ms left out")
    if not values:
        notes.append("no index updates in this window")
    return _result(
        "rag_freshness_lag",
        "RAG freshness lag",
        "seconds",
        window,
        ctx,
        value=percentile(values, 95),
        samples=len(values),
        detail={
            "median_seconds": median(values),
            "max_seconds": max(values, default=None),
            "indexes": {
                name: {"updates": len(v), "p95_seconds": percentile(v, 95), "max_seconds": max(v)}
                for name, v in sorted(per_index.items())
            },
        },
        notes=notes,
    )


def ctx_target_breached(ctx: MetricContext, name: str, value: float) -> bool:
    target = ctx.targets.get(name)
    return target is not None and not target.met(value)
