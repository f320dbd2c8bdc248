"""``answers``: what a visitor gets. ``answer_rate`` is the share of answerable cases answered with
the right citation and the facts; ``refusal_rate`` the share of unanswerable cases refused.

A case is *answerable* when ``expected.must_refuse`` is false and it brings no ``context`` of its
own. It counts as answered well when the answer is not a refusal, cites at least one of
``expected.relevant`` (when the case lists any) and contains every expected fact (at least
``support_threshold`` of each fact's stemmed content words, as ``factuality`` checks facts). A
case is *unanswerable* when ``expected.must_refuse`` is true. Both figures are also given per
locale (``by_locale``), since a platform that answers English and refuses German is half a platform.
"""

from __future__ import annotations

from typing import Any

from charter.evals.metrics import CaseResult, MetricContext
from charter.retrieval.text import language_of, overlap, strip_markers


class Answers:
    name = "answers"
    produces = ("answer_rate", "refusal_rate")
    needs_answer = True

    async def score(self, result: CaseResult, ctx: MetricContext) -> dict[str, Any] | None:
        case = result.case
        if result.error or case.must_refuse is None or result.refused is None:
            return None
        if case.must_refuse:
            return {"kind": "unanswerable", "locale": case.locale, "ok": bool(result.refused)}
        if case.context is not None:
            return None
        lang = language_of(case.locale)
        answered = not result.refused and bool(result.answer)
        cited = {s.doc_id for m in result.cited if (s := result.source(m))}
        right_citation = answered and (not case.relevant or bool(cited & set(case.relevant)))
        text = strip_markers(result.answer or "")
        facts = answered and all(overlap(f, text, lang) >= ctx.support_threshold for f in case.facts)
        return {
            "kind": "answerable",
            "locale": case.locale,
            "answered": answered,
            "right_citation": right_citation,
            "facts": facts,
            "ok": bool(answered and right_citation and facts),
        }

    def summarize(self, scores: list[dict[str, Any]], ctx: MetricContext) -> dict[str, dict[str, Any]]:
        return {
            "answer_rate": _rate([s for s in scores if s["kind"] == "answerable"], "answered"),
            "refusal_rate": _rate([s for s in scores if s["kind"] == "unanswerable"], None),
        }


def _rate(scores: list[dict[str, Any]], also: str | None) -> dict[str, Any]:
    by_locale: dict[str, list[bool]] = {}
    for s in scores:
        by_locale.setdefault(s["locale"], []).append(bool(s["ok"]))
    out: dict[str, Any] = {
        "value": sum(s["ok"] for s in scores) / len(scores) if scores else None,
        "n": len(scores),
        "by_locale": {loc: {"value": sum(v) / len(v), "n": len(v)} for loc, v in sorted(by_locale.items())},
    }
    if also:
        out[also] = sum(bool(s[also]) for s in scores)
    return out
