"""Human review as metrics (docs/review.md), from the ``review.queued`` and ``review.labelled``
events: the share of queued items reviewed, the error rate of reviewed answers (by prompt
version in the detail) and the backlog."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from charter import events as ev
from charter.metrics.context import MetricContext
from charter.metrics.model import MetricResult
from charter.metrics.windows import Window


def _result(name: str, title: str, unit: Any, window: Window, ctx: MetricContext, **kw: Any) -> MetricResult:
    return MetricResult(name=name, title=title, unit=unit, window=window, target=ctx.targets.get(name), **kw)


def _labelled_before(ctx: MetricContext, end: datetime) -> set[str]:
    return {str(e.payload.get("item_id")) for e in ctx.of(ev.REVIEW_LABELLED) if e.occurred_at < end}


def reviewed_share(ctx: MetricContext, window: Window) -> MetricResult:
    """Of the items queued in the window, the share labelled by its end."""
    queued = [str(e.payload.get("item_id")) for e in ctx.of(ev.REVIEW_QUEUED, window)]
    done = _labelled_before(ctx, window.end)
    reviewed = sum(1 for i in queued if i in done)
    return _result(
        "reviewed_share",
        "Reviewed share",
        "ratio",
        window,
        ctx,
        value=reviewed / len(queued) if queued else None,
        samples=len(queued),
        detail={"queued": len(queued), "reviewed": reviewed},
        notes=[] if queued else ["nothing was queued for review in this window"],
    )


def review_error_rate(ctx: MetricContext, window: Window) -> MetricResult:
    """Of the labels given in the window, the share other than ``correct``; per prompt version
    in the detail."""
    by_version: dict[str, dict[str, Any]] = {}
    labels: dict[str, int] = {}
    total = errors = 0
    for e in ctx.of(ev.REVIEW_LABELLED, window):
        label = str(e.payload.get("label"))
        key = f"{e.payload.get('prompt') or '-'}@{e.payload.get('prompt_version') or '-'}"
        row = by_version.setdefault(key, {"reviewed": 0, "errors": 0})
        wrong = label != "correct"
        row["reviewed"] += 1
        row["errors"] += int(wrong)
        labels[label] = labels.get(label, 0) + 1
        total += 1
        errors += int(wrong)
    for row in by_version.values():
        row["error_rate"] = round(row["errors"] / row["reviewed"], 4)
    return _result(
        "review_error_rate",
        "Review error rate",
        "ratio",
        window,
        ctx,
        value=errors / total if total else None,
        samples=total,
        detail={"by_prompt_version": dict(sorted(by_version.items())), "labels": labels},
        notes=[] if total else ["no labels in this window"],
    )


def review_backlog(ctx: MetricContext, window: Window) -> MetricResult:
    """Items queued before the window's end and not labelled by then."""
    queued = {str(e.payload.get("item_id")) for e in ctx.of(ev.REVIEW_QUEUED) if e.occurred_at < window.end}
    pending = queued - _labelled_before(ctx, window.end)
    return _result(
        "review_backlog",
        "Review backlog",
        "count",
        window,
        ctx,
        value=float(len(pending)),
        samples=len(queued),
        detail={"pending": len(pending), "queued": len(queued)},
    )
