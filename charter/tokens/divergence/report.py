"""Divergence results: counts by kind per file, per app and in total, and the offending lines."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

DIVERGENT = ("hard-coded", "base-token")
COUNTED = ("hard-coded", "base-token", "token")


@dataclass
class Finding:
    file: str
    line: int
    column: int
    property: str
    value: str
    kind: str
    category: str
    token: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "property": self.property,
            "value": self.value,
            "kind": self.kind,
            "category": self.category,
        }
        if self.token:
            out["token"] = self.token
        return out


def _percent(divergent: int, counted: int) -> float:
    return round(100.0 * divergent / counted, 2) if counted else 0.0


@dataclass
class Counts:
    by_kind: dict[str, int] = field(default_factory=dict)

    def add(self, kind: str) -> None:
        self.by_kind[kind] = self.by_kind.get(kind, 0) + 1

    @property
    def divergent(self) -> int:
        return sum(self.by_kind.get(k, 0) for k in DIVERGENT)

    @property
    def counted(self) -> int:
        return sum(self.by_kind.get(k, 0) for k in COUNTED)

    @property
    def tokens(self) -> int:
        return self.by_kind.get("token", 0)

    @property
    def percent(self) -> float:
        return _percent(self.divergent, self.counted)

    def summary(self) -> dict[str, Any]:
        return {
            "percent": self.percent,
            "counted": self.counted,
            "divergent": self.divergent,
            "token": self.tokens,
            "hard_coded": self.by_kind.get("hard-coded", 0),
            "base_token": self.by_kind.get("base-token", 0),
            "dynamic": self.by_kind.get("dynamic", 0),
            "exempt": self.by_kind.get("exempt", 0),
            "ignored": self.by_kind.get("ignored", 0),
        }


@dataclass
class FileReport(Counts):
    path: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, **self.summary()}


@dataclass
class AppReport(Counts):
    name: str = ""
    root: str = ""
    threshold: float = 5.0
    files: list[FileReport] = field(default_factory=list)
    offenders: list[Finding] = field(default_factory=list)
    by_category: dict[str, Counts] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return self.percent > self.threshold

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "root": self.root,
            **self.summary(),
            "failed": self.failed,
            "by_category": {c: v.summary() for c, v in sorted(self.by_category.items())},
            "files": [f.to_dict() for f in self.files],
            "offenders": [o.to_dict() for o in self.offenders],
            "skipped": self.skipped,
        }


@dataclass
class DivergenceReport:
    apps: list[AppReport]
    threshold: float
    tokens_known: int = 0

    @property
    def counted(self) -> int:
        return sum(a.counted for a in self.apps)

    @property
    def divergent(self) -> int:
        return sum(a.divergent for a in self.apps)

    @property
    def total_percent(self) -> float:
        return _percent(self.divergent, self.counted)

    @property
    def failed(self) -> bool:
        """True when any app diverges more than the threshold."""
        return any(a.failed for a in self.apps)

    def to_dict(self) -> dict[str, Any]:
        return {
            "threshold": self.threshold,
            "failed": self.failed,
            "percent": self.total_percent,
            "counted": self.counted,
            "divergent": self.divergent,
            "tokens_known": self.tokens_known,
            "apps": [a.to_dict() for a in self.apps],
        }

    def event_payload(self) -> dict[str, Any]:
        """The ``tokens.divergence`` event payload (documented in :mod:`charter.events`)."""
        return {
            "threshold": self.threshold,
            "failed": self.failed,
            "percent": self.total_percent,
            "counted": self.counted,
            "divergent": self.divergent,
            "apps": [
                {
                    "name": a.name,
                    "percent": a.percent,
                    "counted": a.counted,
                    "divergent": a.divergent,
                    "hard_coded": a.by_kind.get("hard-coded", 0),
                    "base_token": a.by_kind.get("base-token", 0),
                    "files": len(a.files),
                    "failed": a.failed,
                }
                for a in self.apps
            ],
        }
