"""What contract checks produce: one failure per consumer, endpoint, field (and entry, live)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ContractFailure:
    consumer: str
    provider: str
    file: str
    endpoint: str
    #: The dotted field path, or "" for failures about the whole expectation (version, endpoint).
    field: str
    message: str
    #: missing | optional | type | version | locale | http | unreachable
    kind: str
    #: Live verification only: the entry (slug or id) and locale that failed.
    entry: str | None = None
    locale: str | None = None
    #: Static check with a baseline: True when the field held under the baseline schema.
    introduced: bool | None = None

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}

    def describe(self) -> str:
        where = f" {self.entry}" if self.entry else ""
        where += f" [{self.locale}]" if self.locale else ""
        what = f" {self.field}:" if self.field else ":"
        return f"{self.consumer} -> {self.endpoint}{where}{what} {self.message}"


@dataclass
class ContractReport:
    """Every failure of every contract checked. ``ok`` is the gate ``charter ci`` uses."""

    mode: str  # static | live
    contracts: list[str] = field(default_factory=list)
    checked: int = 0
    failures: list[ContractFailure] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures

    @property
    def consumers_failing(self) -> list[str]:
        return list(dict.fromkeys(f.consumer for f in self.failures))

    def to_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "ok": self.ok,
            "contracts": self.contracts,
            "checked": self.checked,
            "failures": [f.to_dict() for f in self.failures],
        }
