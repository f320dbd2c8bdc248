"""Evaluation metrics, one module each, registered through the ``register_evaluators`` hook.

A metric implements :class:`Metric`: ``score`` turns one case's result into per-case values (or
None when the case says nothing about this metric), ``summarize`` turns the per-case values into
named summary figures. Summary names are fixed by the report format (docs/eval-report.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from charter.evals.dataset import GoldenCase

#: Summary figures where lower is better (the baseline gate needs to know the direction).
LOWER_IS_BETTER = frozenset({"latency_p50_ms", "latency_p95_ms", "toxicity_rate", "critical_regressions"})


@dataclass
class SourceUsed:
    marker: str  # S1
    id: str  # entry_id#chunk, or a context id
    doc_id: str  # the entry or document id
    text: str


@dataclass
class CaseResult:
    """What the runner observed for one case; metrics read only this and the case."""

    case: GoldenCase
    answer: str | None = None
    refused: bool | None = None
    refusal_reason: str | None = None
    cited: list[str] = field(default_factory=list)  # markers cited, e.g. ["S1", "S2"]
    sentences: list[tuple[str, list[str]]] = field(default_factory=list)  # (sentence, markers)
    sources: list[SourceUsed] = field(default_factory=list)
    retrieved: list[str] = field(default_factory=list)  # ranked unique doc ids
    routed_intent: str | None = None
    latency_ms: float = 0.0
    retrieval_ms: float = 0.0
    model_ms: float = 0.0
    cached: bool = False
    dropped_sentences: int = 0
    #: The retrieval's evidence score and the gate it was held to (None for ``context`` cases).
    evidence: float | None = None
    evidence_threshold: float | None = None
    #: The routed intent's indexes held no support and its fallback indexes were searched.
    misrouted: bool = False
    error: str | None = None
    scores: dict[str, Any] = field(default_factory=dict)

    def source(self, marker: str) -> SourceUsed | None:
        return next((s for s in self.sources if s.marker == marker), None)


class Judge(Protocol):
    async def __call__(self, claim: str, evidence: str) -> bool: ...


@dataclass
class MetricContext:
    """Run-wide settings a metric may need."""

    recall_k: int = 10
    language: str = "en"
    judge: Judge | None = None
    support_threshold: float = 0.6


class Metric(Protocol):
    name: str
    #: Summary names this metric produces.
    produces: tuple[str, ...]
    #: Whether the runner must call the model for this metric.
    needs_answer: bool

    async def score(self, result: CaseResult, ctx: MetricContext) -> dict[str, Any] | None: ...

    def summarize(self, scores: list[dict[str, Any]], ctx: MetricContext) -> dict[str, dict[str, Any]]: ...


def mean_metric(values: list[float], **extra: Any) -> dict[str, Any]:
    n = len(values)
    return {"value": (sum(values) / n) if n else None, "n": n, **extra}
