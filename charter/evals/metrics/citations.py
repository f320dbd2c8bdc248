"""``citations``: coverage and correctness of an answer's citations.

* ``citation_coverage``: the share of an answer's sentences that carry at least one citation
  marker (answers only; refusals are skipped). Cases with ``must_cite: true`` and no citation at
  all count as 0.
* ``citation_correctness``: the share of citations that point at a source that was given to the
  model *and* supports the sentence (content-word overlap >= the support threshold); when the case
  lists ``relevant`` ids, the cited source must also be one of them.
"""

from __future__ import annotations

from typing import Any

from charter.evals.metrics import CaseResult, MetricContext, mean_metric
from charter.retrieval.text import language_of, overlap, strip_markers


class Citations:
    name = "citations"
    produces = ("citation_coverage", "citation_correctness")
    needs_answer = True

    async def score(self, result: CaseResult, ctx: MetricContext) -> dict[str, Any] | None:
        if result.error or result.refused or not result.answer or not result.sentences:
            return None
        lang = language_of(result.case.locale)
        with_cite = sum(1 for _, markers in result.sentences if markers)
        coverage = with_cite / len(result.sentences)
        total = correct = 0
        for sentence, markers in result.sentences:
            for marker in markers:
                total += 1
                source = result.source(marker)
                if source is None:
                    continue
                if result.case.relevant and source.doc_id not in result.case.relevant:
                    continue
                if overlap(strip_markers(sentence), source.text, lang) >= ctx.support_threshold:
                    correct += 1
        return {
            "coverage": coverage,
            "citations": total,
            "correct": correct,
            "correctness": correct / total if total else None,
        }

    def summarize(self, scores: list[dict[str, Any]], ctx: MetricContext) -> dict[str, dict[str, Any]]:
        total = sum(s["citations"] for s in scores)
        correct = sum(s["correct"] for s in scores)
        return {
            "citation_coverage": mean_metric([s["coverage"] for s in scores]),
            "citation_correctness": {"value": correct / total if total else None, "n": total, "correct": correct},
        }
