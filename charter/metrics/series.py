"""Time series of the metrics, one point per calendar bucket, for charts (the admin dashboard).

>>> s = series(conn, "change_fail_rate", bucket="week", since=..., until=...)
>>> [(p.label, p.value, p.status) for p in s.points]

Each point is the metric computed over its bucket alone, exactly as a report over that window
would compute it, so a chart and a report never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from charter.metrics.context import MetricContext
from charter.metrics.git import GitHistory
from charter.metrics.model import MetricResult, format_target
from charter.metrics.registry import parse_targets, resolve, target_for
from charter.metrics.timestamps import format_timestamp
from charter.metrics.windows import buckets


@dataclass
class Series:
    metric: str
    title: str
    unit: str
    bucket: str
    target: str | None
    target_display: str
    points: list[MetricResult]

    def to_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "title": self.title,
            "unit": self.unit,
            "bucket": self.bucket,
            "target": self.target,
            "target_display": self.target_display,
            "points": [
                {
                    "label": p.window.name,
                    "start": format_timestamp(p.window.start),
                    "end": format_timestamp(p.window.end),
                    "value": p.to_dict()["value"],
                    "display": p.to_dict()["display"],
                    "status": p.status,
                    "samples": p.samples,
                }
                for p in self.points
            ],
        }


def series(
    conn: sa.Connection,
    metrics: list[str] | str | None = None,
    *,
    bucket: str = "week",
    since: datetime | None = None,
    until: datetime | None = None,
    settings_metrics: dict[str, Any] | None = None,
    repo: Path | None = None,
    git: GitHistory | None = None,
    services: tuple[str, ...] = (),
    environment: str | None = None,
) -> list[Series]:
    """One :class:`Series` per metric (names or groups; default all) over calendar ``bucket``\\ s
    (``day``, ``week``, ``month``) from ``since`` (default 12 buckets back) to ``until`` (now)."""
    config = settings_metrics or {}
    names = [metrics] if isinstance(metrics, str) else metrics
    defs = resolve(names)
    end = until or datetime.now(UTC)
    start = since or end - {"day": timedelta(days=13), "week": timedelta(weeks=11), "month": timedelta(days=334)}.get(
        bucket, timedelta(weeks=11)
    )
    windows = buckets(start, end, bucket)
    if git is None and repo is not None:
        git = GitHistory.open(repo)
    ctx = MetricContext.load(
        conn,
        {t for m in defs for t in m.reads},
        since=windows[0].start,
        git=git,
        environment=environment or str(config.get("environment", "production")),
        services=services,
        targets=parse_targets(config.get("targets")),
    )
    out = []
    for m in defs:
        target = target_for(ctx, m.name)
        out.append(
            Series(
                metric=m.name,
                title=m.title,
                unit=m.unit,
                bucket=bucket,
                target=str(target) if target else None,
                target_display=format_target(target, m.unit),
                points=[m.compute(ctx, w) for w in windows],
            )
        )
    return out


def dashboard(
    rt: Any, *, bucket: str = "week", points: int = 12, windows: tuple[str, ...] = ("30d",)
) -> dict[str, Any]:
    """Everything the admin dashboard draws, in one call: the current report over ``windows`` and
    every metric's series over the last ``points`` buckets, as JSON-ready dicts. Uses the
    runtime's ``[charter.metrics]`` settings and git history (``charter.metrics.sources``)."""
    from charter.metrics.report import build_report
    from charter.metrics.sources import git_for

    if not 1 <= points <= 366:
        from charter.exceptions import BadRequest

        raise BadRequest("points must be between 1 and 366")
    end = datetime.now(UTC)
    span = {"day": timedelta(days=1), "week": timedelta(weeks=1), "month": timedelta(days=31)}.get(bucket)
    if span is None:
        from charter.metrics.windows import UnknownWindow

        raise UnknownWindow(f"unknown bucket {bucket!r}; use one of: day, week, month")
    git = git_for(rt.settings)
    with rt.read() as conn:
        report = build_report(conn, windows=windows, settings_metrics=rt.settings.metrics, git=git, now=end)
        found = series(
            conn,
            None,
            bucket=bucket,
            since=end - span * (points - 1),
            until=end,
            settings_metrics=rt.settings.metrics,
            git=git,
        )
    return {"report": report.to_dict(), "series": [s.to_dict() for s in found]}
