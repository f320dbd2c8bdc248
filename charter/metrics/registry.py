"""Every metric Charter computes, by name. ``charter metrics list`` prints this table."""

from __future__ import annotations

from charter import events as ev
from charter.metrics import dora, maintainability, review
from charter.metrics.context import MetricContext
from charter.metrics.model import MetricDef, Target, UnknownMetric

DAY_SECONDS = 86400.0

METRICS: dict[str, MetricDef] = {
    m.name: m
    for m in (
        MetricDef(
            "schema_break_rate",
            "Schema break rate",
            "maintainability",
            "per_quarter",
            Target("<", 1.0),
            (ev.SCHEMA_RELEASED, ev.SCHEMA_BREAKING_CHANGE),
            maintainability.schema_break_rate,
            "Breaking content-type changes per quarter, for the domain with the most.",
            "charter_schema_breaking_changes_per_quarter",
        ),
        MetricDef(
            "llm_eval_regression_rate",
            "LLM eval regression rate",
            "maintainability",
            "per_release",
            Target("==", 0.0),
            (ev.EVAL_COMPLETED,),
            maintainability.llm_eval_regression_rate,
            "Critical eval regressions per evaluated release (latest run per release and suite).",
            "charter_eval_critical_regressions_per_release",
        ),
        MetricDef(
            "build_to_deploy_lead_time",
            "Build-to-deploy lead time",
            "maintainability",
            "seconds",
            Target("<", DAY_SECONDS),
            (ev.DEPLOY_RECORDED, ev.INCIDENT_RECORDED),
            maintainability.build_to_deploy_lead_time,
            "Median time from an artifact's build to its successful deployment.",
            "charter_build_to_deploy_lead_time_seconds",
        ),
        MetricDef(
            "token_divergence",
            "Token divergence",
            "maintainability",
            "ratio",
            Target("<", 0.05),
            (ev.TOKENS_DIVERGENCE,),
            maintainability.token_divergence,
            "Share of style declarations overriding the design tokens, for the worst app (latest scan).",
            "charter_token_divergence_ratio",
        ),
        MetricDef(
            "rag_freshness_lag",
            "RAG freshness lag",
            "maintainability",
            "seconds",
            Target("<", DAY_SECONDS),
            (ev.INDEX_UPDATED,),
            maintainability.rag_freshness_lag,
            "p95 of the time from a content change to it being searchable.",
            "charter_rag_freshness_lag_seconds",
        ),
        MetricDef(
            "deployment_frequency",
            "Deployment frequency",
            "dora",
            "per_day",
            None,
            (ev.DEPLOY_RECORDED, ev.INCIDENT_RECORDED),
            dora.deployment_frequency,
            "Deployments to production per day.",
            "charter_dora_deployments_per_day",
        ),
        MetricDef(
            "change_lead_time",
            "Change lead time",
            "dora",
            "seconds",
            None,
            (ev.DEPLOY_RECORDED, ev.INCIDENT_RECORDED),
            dora.change_lead_time,
            "Median time from a commit to its deployment in production.",
            "charter_dora_change_lead_time_seconds",
        ),
        MetricDef(
            "change_fail_rate",
            "Change fail rate",
            "dora",
            "ratio",
            None,
            (ev.DEPLOY_RECORDED, ev.INCIDENT_RECORDED),
            dora.change_fail_rate,
            "Share of deployments that required immediate intervention.",
            "charter_dora_change_fail_ratio",
        ),
        MetricDef(
            "failed_deployment_recovery_time",
            "Failed deployment recovery time",
            "dora",
            "seconds",
            None,
            (ev.DEPLOY_RECORDED, ev.INCIDENT_RECORDED),
            dora.failed_deployment_recovery_time,
            "Median time to recover from a failed deployment.",
            "charter_dora_failed_deployment_recovery_time_seconds",
        ),
        MetricDef(
            "deployment_rework_rate",
            "Deployment rework rate",
            "dora",
            "ratio",
            None,
            (ev.DEPLOY_RECORDED, ev.INCIDENT_RECORDED),
            dora.deployment_rework_rate,
            "Share of deployments that were unplanned, in response to a production incident.",
            "charter_dora_deployment_rework_ratio",
        ),
        MetricDef(
            "reviewed_share",
            "Reviewed share",
            "review",
            "ratio",
            None,
            (ev.REVIEW_QUEUED, ev.REVIEW_LABELLED),
            review.reviewed_share,
            "Share of the items queued for human review in the window that were labelled by its end.",
            "charter_review_reviewed_ratio",
        ),
        MetricDef(
            "review_error_rate",
            "Review error rate",
            "review",
            "ratio",
            None,
            (ev.REVIEW_LABELLED,),
            review.review_error_rate,
            "Share of reviewed answers labelled other than correct (per prompt version in the detail).",
            "charter_review_error_ratio",
        ),
        MetricDef(
            "review_backlog",
            "Review backlog",
            "review",
            "count",
            None,
            (ev.REVIEW_QUEUED, ev.REVIEW_LABELLED),
            review.review_backlog,
            "Items queued for human review and not labelled at the window's end.",
            "charter_review_backlog_items",
        ),
    )
}
GROUPS = ("maintainability", "dora", "review")


def resolve(names: list[str] | tuple[str, ...] | None) -> list[MetricDef]:
    """Metric names, or the group names ``maintainability`` / ``dora``; all when empty.
    Raises :class:`UnknownMetric` naming every unknown one and listing the known."""
    if not names:
        return list(METRICS.values())
    out: list[MetricDef] = []
    unknown = []
    for name in names:
        key = name.strip().lower().replace("-", "_")
        if key in GROUPS:
            out.extend(m for m in METRICS.values() if m.group == key)
        elif key in METRICS:
            out.append(METRICS[key])
        else:
            unknown.append(name)
    if unknown:
        raise UnknownMetric(
            f"unknown metric(s) {', '.join(repr(u) for u in unknown)}; "
            f"known: {', '.join(METRICS)} (or the groups {', '.join(GROUPS)})"
        )
    return list(dict.fromkeys(out))


def parse_targets(raw: object, where: str = "[charter.metrics.targets]") -> dict[str, Target]:
    """Every metric's target: the defaults, with the overrides from settings applied, e.g.
    ``{"change_fail_rate": "< 0.15"}``. A :class:`MetricContext` carries the result, so the metric
    modules read their targets from it (``ctx.targets``) without importing this table."""
    from charter.exceptions import ConfigError

    out = {m.name: m.target for m in METRICS.values() if m.target is not None}
    if raw is None:
        return out
    if not isinstance(raw, dict):
        raise ConfigError(f'{where} must be a table of metric = "<op> <number>"')
    for name, text in raw.items():
        if name not in METRICS:
            raise ConfigError(f"{where}: unknown metric {name!r}; known: {', '.join(METRICS)}")
        out[name] = Target.parse(text, f"{where}.{name}")
    return out


def target_for(ctx: MetricContext, name: str) -> Target | None:
    found: Target | None = ctx.targets.get(name, METRICS[name].target)
    return found
