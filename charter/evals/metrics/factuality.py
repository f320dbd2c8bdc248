"""``factuality``: the share of an answer's claims supported by the context the answer cites.

A claim is one sentence. Deterministic by default: supported when at least ``support_threshold``
(0.6) of its stemmed content words occur in the sources it cites (in all sources given to the
model when it cites none). With a judge model configured (``eval.judge`` in the model config), the
judge decides each claim instead. Expected ``facts`` are checked the same way against the answer
(``fact_recall``, reported as a detail). Refusals have no claims and are skipped.
"""

from __future__ import annotations

from typing import Any

from charter.evals.metrics import CaseResult, MetricContext, mean_metric
from charter.retrieval.text import language_of, overlap, strip_markers


class Factuality:
    name = "factuality"
    produces = ("factuality",)
    needs_answer = True

    async def score(self, result: CaseResult, ctx: MetricContext) -> dict[str, Any] | None:
        if result.error or result.refused or not result.answer:
            return None
        lang = language_of(result.case.locale)
        supported = 0
        claims = 0
        for sentence, markers in result.sentences:
            claim = strip_markers(sentence)
            if not claim:
                continue
            claims += 1
            cited = [s for m in markers if (s := result.source(m))] or result.sources
            evidence = " ".join(s.text for s in cited)
            if ctx.judge is not None:
                ok = await ctx.judge(claim, evidence)
            else:
                ok = overlap(claim, evidence, lang) >= ctx.support_threshold
            supported += ok
        out: dict[str, Any] = {
            "claims": claims,
            "supported": supported,
            "factuality": supported / claims if claims else 1.0,
        }
        if result.case.facts:
            answer = strip_markers(result.answer)
            found = sum(overlap(f, answer, lang) >= ctx.support_threshold for f in result.case.facts)
            out["fact_recall"] = found / len(result.case.facts)
        return out

    def summarize(self, scores: list[dict[str, Any]], ctx: MetricContext) -> dict[str, dict[str, Any]]:
        fact = [s["fact_recall"] for s in scores if "fact_recall" in s]
        return {
            "factuality": mean_metric(
                [s["factuality"] for s in scores],
                claims=sum(s["claims"] for s in scores),
                supported=sum(s["supported"] for s in scores),
                fact_recall=(sum(fact) / len(fact)) if fact else None,
                method="judge" if ctx.judge else "overlap",
            )
        }
