"""``latency``: p50 and p95 of end-to-end case latency (retrieval + model), in milliseconds.

A cached model call contributes the latency measured when it was really made, so a cached re-run
reports the same model latency instead of ~0 ms.
"""

from __future__ import annotations

from typing import Any

from charter.evals.metrics import CaseResult, MetricContext


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    # Linear interpolation between closest ranks (numpy's default method).
    pos = (len(ordered) - 1) * q / 100.0
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


class Latency:
    name = "latency"
    produces = ("latency_p50_ms", "latency_p95_ms")
    needs_answer = False

    async def score(self, result: CaseResult, ctx: MetricContext) -> dict[str, Any] | None:
        if result.error:
            return None
        return {
            "latency_ms": result.latency_ms,
            "retrieval_ms": result.retrieval_ms,
            "model_ms": result.model_ms,
            "cached": result.cached,
        }

    def summarize(self, scores: list[dict[str, Any]], ctx: MetricContext) -> dict[str, dict[str, Any]]:
        total = [s["latency_ms"] for s in scores]
        retrieval = [s["retrieval_ms"] for s in scores]
        cached = sum(1 for s in scores if s["cached"])
        return {
            "latency_p50_ms": {
                "value": percentile(total, 50),
                "n": len(total),
                "retrieval_p50_ms": percentile(retrieval, 50),
                "cached": cached,
            },
            "latency_p95_ms": {
                "value": percentile(total, 95),
                "n": len(total),
                "retrieval_p95_ms": percentile(retrieval, 95),
                "cached": cached,
            },
        }
