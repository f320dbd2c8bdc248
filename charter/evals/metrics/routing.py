"""``routing``: intent-routing accuracy on cases that name their expected ``intent``."""

from __future__ import annotations

from typing import Any

from charter.evals.metrics import CaseResult, MetricContext, mean_metric


class Routing:
    name = "routing"
    produces = ("routing_accuracy",)
    needs_answer = False

    async def score(self, result: CaseResult, ctx: MetricContext) -> dict[str, Any] | None:
        if result.error or result.case.intent is None or result.routed_intent is None:
            return None
        return {
            "expected": result.case.intent,
            "routed": result.routed_intent,
            "correct": float(result.case.intent == result.routed_intent),
        }

    def summarize(self, scores: list[dict[str, Any]], ctx: MetricContext) -> dict[str, dict[str, Any]]:
        confusion: dict[str, dict[str, int]] = {}
        for s in scores:
            row = confusion.setdefault(s["expected"], {})
            row[s["routed"]] = row.get(s["routed"], 0) + 1
        return {"routing_accuracy": mean_metric([s["correct"] for s in scores], confusion=confusion)}
