"""``evidence``: how well the evidence gate separates answerable from unanswerable questions.

Every case with ``expected.must_refuse`` and no ``context`` of its own is a labelled example: the
retrieval's evidence score (:meth:`~charter.retrieval.service.RetrievalService.evidence`) against
"answerable" (``must_refuse: false``). At the gate the retrieval was held to
(``answering.min_evidence`` for the mode), ``evidence_precision`` is the share of questions let
through that are answerable and ``evidence_recall`` the share of answerable questions let through.
The summary also sweeps the thresholds and names the one that lets the most answerable questions
through while keeping out at least ``refusal_target`` (95 %) of the unanswerable ones
(``suggested_threshold``): the calibration, re-run with ``charter eval run --metrics evidence``
(docs/retrieval.md).
"""

from __future__ import annotations

from typing import Any

from charter.evals.metrics import CaseResult, MetricContext

REFUSAL_TARGET = 0.95


class Evidence:
    name = "evidence"
    produces = ("evidence_precision", "evidence_recall")
    needs_answer = False

    async def score(self, result: CaseResult, ctx: MetricContext) -> dict[str, Any] | None:
        case = result.case
        if result.error or case.must_refuse is None or case.context is not None or result.evidence is None:
            return None
        return {
            "answerable": not case.must_refuse,
            "evidence": result.evidence,
            "threshold": result.evidence_threshold,
            "locale": case.locale,
        }

    def summarize(self, scores: list[dict[str, Any]], ctx: MetricContext) -> dict[str, dict[str, Any]]:
        gates = [s["threshold"] for s in scores if s["threshold"] is not None]
        gate = gates[0] if gates else 0.0
        precision, recall, passed, answerable = _at(scores, gate)
        sweep = sorted({round(s["evidence"], 4) for s in scores})
        suggested = None
        best = -1.0
        unanswerable = [s for s in scores if not s["answerable"]]
        for t in sweep:
            kept_out = sum(1 for s in unanswerable if s["evidence"] < t) / len(unanswerable) if unanswerable else 1.0
            _p, r, _n, _a = _at(scores, t)
            if kept_out >= REFUSAL_TARGET and r is not None and r > best:
                best, suggested = r, t
        detail = {
            "threshold": gate,
            "suggested_threshold": suggested,
            "suggested_recall": best if suggested is not None else None,
            "refusal_target": REFUSAL_TARGET,
            "answerable": answerable,
            "unanswerable": len(unanswerable),
            "scores": sorted(
                ({"evidence": round(s["evidence"], 4), "answerable": s["answerable"]} for s in scores),
                key=lambda s: s["evidence"],
            ),
        }
        return {
            "evidence_precision": {"value": precision, "n": passed, **detail},
            "evidence_recall": {"value": recall, "n": answerable, "threshold": gate},
        }


def _at(scores: list[dict[str, Any]], threshold: float) -> tuple[float | None, float | None, int, int]:
    passed = [s for s in scores if s["evidence"] >= threshold]
    answerable = [s for s in scores if s["answerable"]]
    precision = sum(1 for s in passed if s["answerable"]) / len(passed) if passed else None
    recall = sum(1 for s in answerable if s["evidence"] >= threshold) / len(answerable) if answerable else None
    return precision, recall, len(passed), len(answerable)
