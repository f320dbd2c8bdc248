"""What a metric is (:class:`MetricDef`), what computing it gives (:class:`MetricResult`), and
targets (:class:`Target`). Values are in base units: seconds, ratios (0–1), counts and rates."""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from charter.exceptions import BadRequest, ConfigError

if TYPE_CHECKING:
    from charter.metrics.context import MetricContext
    from charter.metrics.windows import Window

Status = Literal["ok", "breach", "no_data", "info"]
Unit = Literal["seconds", "ratio", "per_day", "per_quarter", "per_release", "count"]

_OPS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    "==": operator.eq,
    ">=": operator.ge,
    ">": operator.gt,
}


class UnknownMetric(BadRequest):
    type_slug = "unknown-metric"
    title = "Unknown metric"


@dataclass(frozen=True)
class Target:
    """``value <op> threshold`` is healthy, e.g. ``< 86400`` seconds."""

    op: str
    threshold: float

    def met(self, value: float) -> bool:
        return _OPS[self.op](value, self.threshold)

    def __str__(self) -> str:
        return f"{self.op} {self.threshold:g}"

    @classmethod
    def parse(cls, text: object, where: str) -> Target:
        """``"< 0.15"``, ``"<= 3600"``, ``"== 0"``; raises :class:`ConfigError` naming ``where``."""
        m = re.fullmatch(r"\s*(<=|>=|==|<|>)\s*(-?\d+(?:\.\d+)?(?:[eE]-?\d+)?)\s*", str(text))
        if not m:
            raise ConfigError(f"{where}: target {text!r} is not '<op> <number>' (op one of <, <=, ==, >=, >)")
        return cls(m.group(1), float(m.group(2)))


@dataclass
class MetricResult:
    """One metric over one window."""

    name: str
    title: str
    unit: Unit
    window: Window
    value: float | None
    target: Target | None
    #: How many observations the value rests on (deployments, commits, eval runs …).
    samples: int = 0
    #: Breakdown (per domain, app, index, service, release …) and supporting figures.
    detail: dict[str, Any] = field(default_factory=dict)
    #: Things the reader should know: skipped events, clock skew, unknown commits.
    notes: list[str] = field(default_factory=list)

    @property
    def status(self) -> Status:
        if self.value is None:
            return "no_data"
        if self.target is None:
            return "info"
        return "ok" if self.target.met(self.value) else "breach"

    def to_dict(self) -> dict[str, Any]:
        value = None if self.value is None or math.isnan(self.value) else round(self.value, 6)
        return {
            "metric": self.name,
            "title": self.title,
            "unit": self.unit,
            "window": self.window.to_dict(),
            "value": value,
            "display": format_value(self.value, self.unit),
            "target": str(self.target) if self.target else None,
            "target_display": format_target(self.target, self.unit),
            "status": self.status,
            "samples": self.samples,
            "detail": self.detail,
            "notes": self.notes,
        }


Compute = Callable[["MetricContext", "Window"], MetricResult]


@dataclass(frozen=True)
class MetricDef:
    name: str
    title: str
    group: Literal["maintainability", "dora", "review"]
    unit: Unit
    #: The default target (the playbook's), or None where DORA sets none.
    target: Target | None
    #: Event types read; the payload fields are in docs/metrics.md.
    reads: tuple[str, ...]
    compute: Compute
    description: str
    #: Prometheus gauge name (base units in the name, per the Prometheus naming guide).
    prometheus: str


def format_value(value: float | None, unit: str) -> str:
    if value is None:
        return "no data"
    if unit == "seconds":
        return format_duration(value)
    if unit == "ratio":
        return f"{value * 100:.1f} %"
    if unit == "per_day":
        return f"{value:.2f}/day" if value >= 1 else f"{value * 7:.2f}/week"
    if unit == "per_quarter":
        return f"{value:.2f}/quarter"
    if unit == "count":
        return f"{value:.0f}"
    return f"{value:.2f}/release"


def format_target(target: Target | None, unit: str) -> str:
    if target is None:
        return "—"
    return f"{target.op} {format_value(target.threshold, unit)}"


def format_duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds / 60:.1f} min"
    if seconds < 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"
