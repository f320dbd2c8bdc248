"""``routing``: intent-routing accuracy on cases that name their expected ``intent``, and
misroutes: questions whose routed indexes held no support, answered from the intent's fallback
indexes or, when the classifier (or the default) picked the intent, by another intent
(``misroutes`` counts them over every case, named intent or not)."""

from __future__ import annotations

from typing import Any

from charter.evals.metrics import CaseResult, MetricContext, mean_metric


class Routing:
    name = "routing"
    produces = ("routing_accuracy",)
    needs_answer = False

    async def score(self, result: CaseResult, ctx: MetricContext) -> dict[str, Any] | None:
        if result.error or result.routed_intent is None:
            return None
        if result.case.intent is None:
            return {"misrouted": result.misrouted}
        return {
            "expected": result.case.intent,
            "routed": result.routed_intent,
            "correct": float(result.case.intent == result.routed_intent),
            "misrouted": result.misrouted,
        }

    def summarize(self, scores: list[dict[str, Any]], ctx: MetricContext) -> dict[str, dict[str, Any]]:
        confusion: dict[str, dict[str, int]] = {}
        named = [s for s in scores if "expected" in s]
        for s in named:
            row = confusion.setdefault(s["expected"], {})
            row[s["routed"]] = row.get(s["routed"], 0) + 1
        return {
            "routing_accuracy": mean_metric(
                [s["correct"] for s in named],
                confusion=confusion,
                misroutes=sum(1 for s in scores if s.get("misrouted")),
                routed=len(scores),
            )
        }
