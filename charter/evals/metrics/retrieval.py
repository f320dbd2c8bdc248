"""``retrieval``: recall@k and nDCG@10 of the retrieved documents against ``expected.relevant``.

Documents are ranked by their best chunk (a document appears once, at its first chunk's rank).
nDCG uses graded relevance when the case gives grades (``{"id": 2}``), exponential gain
``2^rel - 1`` as in trec_eval and BEIR. ``k`` for recall is ``recall_k`` in the retriever config.
"""

from __future__ import annotations

import math
from typing import Any

from charter.evals.metrics import CaseResult, MetricContext, mean_metric


def ndcg_at(ranked: list[str], relevant: dict[str, float], k: int = 10) -> float:
    dcg = sum((2 ** relevant.get(doc, 0.0) - 1) / math.log2(i + 2) for i, doc in enumerate(ranked[:k]))
    ideal = sorted(relevant.values(), reverse=True)[:k]
    idcg = sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def recall_at(ranked: list[str], relevant: dict[str, float], k: int) -> float:
    return len(set(ranked[:k]) & set(relevant)) / len(relevant) if relevant else 0.0


class Retrieval:
    name = "retrieval"
    produces = ("recall_at_k", "ndcg_at_10")
    needs_answer = False

    async def score(self, result: CaseResult, ctx: MetricContext) -> dict[str, Any] | None:
        if result.error or not result.case.relevant or result.case.context is not None:
            return None
        return {
            "recall": recall_at(result.retrieved, result.case.relevant, ctx.recall_k),
            "ndcg10": ndcg_at(result.retrieved, result.case.relevant, 10),
        }

    def summarize(self, scores: list[dict[str, Any]], ctx: MetricContext) -> dict[str, dict[str, Any]]:
        return {
            "recall_at_k": mean_metric([s["recall"] for s in scores], k=ctx.recall_k),
            "ndcg_at_10": mean_metric([s["ndcg10"] for s in scores]),
        }
