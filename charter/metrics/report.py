"""A metrics report: chosen metrics × chosen windows, with targets and status, as JSON or Markdown.

:func:`build_report` is the one use case behind ``charter metrics report``, ``GET /v1/metrics``,
the Prometheus collector and the admin dashboard's figures.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from charter.metrics.context import MetricContext
from charter.metrics.git import GitHistory
from charter.metrics.model import MetricDef, MetricResult
from charter.metrics.registry import parse_targets, resolve
from charter.metrics.timestamps import format_timestamp
from charter.metrics.windows import Window, parse_window

DEFAULT_WINDOWS = ("30d", "quarter")
REPORT_FORMAT = "charter.metrics-report/1"


@dataclass
class Report:
    generated_at: datetime
    windows: list[Window]
    metrics: list[MetricDef]
    results: list[MetricResult]
    scope: dict[str, Any] = field(default_factory=dict)

    def result(self, metric: str, window: str) -> MetricResult:
        for r in self.results:
            if r.name == metric and r.window.name == window:
                return r
        raise KeyError((metric, window))

    @property
    def breaches(self) -> list[MetricResult]:
        return [r for r in self.results if r.status == "breach"]

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": REPORT_FORMAT,
            "generated_at": format_timestamp(self.generated_at),
            "scope": self.scope,
            "windows": [w.to_dict() for w in self.windows],
            "results": [r.to_dict() for r in self.results],
            "breaches": len(self.breaches),
        }

    def to_markdown(self) -> str:
        lines = [f"## Charter metrics ({format_timestamp(self.generated_at)})", ""]
        for window in self.windows:
            lines += [
                f"### {window.name}: {format_timestamp(window.start)} → {format_timestamp(window.end)}",
                "",
                "| Metric | Value | Target | Status | Samples |",
                "| --- | ---: | --- | --- | ---: |",
            ]
            notes = []
            for r in self.results:
                if r.window is not window:
                    continue
                d = r.to_dict()
                lines.append(
                    f"| {r.title} | {d['display']} | {d['target_display']} | {STATUS_MARK[r.status]} | {r.samples} |"
                )
                notes += [f"- {r.title}: {n}" for n in r.notes]
            lines.append("")
            if notes:
                lines += ["<details><summary>Notes</summary>", "", *notes, "", "</details>", ""]
        return "\n".join(lines)


STATUS_MARK = {"ok": "✅ ok", "breach": "❌ breach", "no_data": "— no data", "info": "ℹ️ info"}


def build_report(
    conn: sa.Connection,
    *,
    metrics: list[str] | tuple[str, ...] | None = None,
    windows: list[str] | tuple[str, ...] | None = None,
    until: datetime | None = None,
    settings_metrics: dict[str, Any] | None = None,
    repo: Path | None = None,
    git: GitHistory | None = None,
    services: tuple[str, ...] = (),
    environment: str | None = None,
    now: datetime | None = None,
) -> Report:
    """Compute ``metrics`` (names or groups; default all) over ``windows`` (default 30d and
    quarter, ending at ``until`` or now). ``repo`` is the git repository for change lead time
    (default ``[charter.metrics] repo``; without one, lead time uses recorded ``changes`` only).
    Raises UnknownMetric / UnknownWindow / GitError / ConfigError before reading anything."""
    config = settings_metrics or {}
    defs = resolve(list(metrics) if metrics else None)
    current = now or datetime.now(UTC)
    parsed = [parse_window(w, until=until, now=current) for w in (windows or config.get("windows") or DEFAULT_WINDOWS)]
    seen: set[str] = set()
    for w in parsed:
        if w.name in seen:
            from charter.metrics.windows import UnknownWindow

            raise UnknownWindow(f"window {w.name!r} is given twice")
        seen.add(w.name)
    targets = parse_targets(config.get("targets"))
    if git is None and repo is not None:
        git = GitHistory.open(repo)
    env = environment or str(config.get("environment", "production"))
    types = {t for m in defs for t in m.reads}
    since = min(w.start for w in parsed)
    ctx = MetricContext.load(
        conn, types, since=since, git=git, environment=env, services=services, now=current, targets=targets
    )
    results = [m.compute(ctx, w) for w in parsed for m in defs]
    scope = {
        "environment": env,
        "services": list(services) or "all",
        "git": str(git.repo) if git else None,
    }
    return Report(current, parsed, defs, results, scope)
