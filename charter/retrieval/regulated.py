"""Regulated indexes, enforced (``regulated: true`` in ``retrieval.yaml``, docs/retrieval.md).

An answer that draws on a regulated index (any of its sources came from one) must:

* come from an intent that **names** that index (``regulated_index_not_allowed`` otherwise: a
  routing fallback or a caller's choice cannot pull regulated text into another intent's answer);
* carry a citation in **every sentence** (``regulated_uncited`` otherwise): an uncited claim is
  never mixed with regulated evidence. The answer is refused rather than trimmed, even where the
  index's contract would merely drop uncited sentences.

A violation turns the answer into the contract's refusal with the reason, and counts in
``charter_retrieval_regulated_refusals_total{reason, index}``. :func:`enforce` is called once,
by :func:`charter.retrieval.answer.ask`, after the citation rules.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from prometheus_client import Counter

from charter.retrieval.text import citation_markers, sentences

if TYPE_CHECKING:
    from charter.observability.telemetry import Telemetry
    from charter.retrieval.answer import Answer
    from charter.retrieval.contract import Contract
    from charter.retrieval.index import Hit

NOT_ALLOWED = "regulated_index_not_allowed"
UNCITED = "regulated_uncited"
_lock = threading.Lock()


def refusals(telemetry: Telemetry) -> Counter:
    """``charter_retrieval_regulated_refusals_total`` on ``telemetry``'s registry (registered once)."""
    with _lock:
        found = telemetry.extra.get("retrieval_regulated_refusals")
        if isinstance(found, Counter):
            return found
        counter = Counter(
            "charter_retrieval_regulated_refusals",
            "Answers refused because they broke a regulated index's rules",
            ["reason", "index"],
            registry=telemetry.registry,
        )
        telemetry.extra["retrieval_regulated_refusals"] = counter
        return counter


def regulated_indexes(contract: Contract) -> set[str]:
    return {name for name, index in contract.indexes.items() if index.regulated}


def violation(contract: Contract, intent: str | None, hits: list[Hit], answer: Answer) -> tuple[str, str] | None:
    """``(reason, index)`` when ``answer`` breaks a regulated index's rules, else None."""
    if answer.refused:
        return None
    regulated = regulated_indexes(contract)
    drawn = sorted({h.chunk.index for h in hits if h.chunk.index in regulated})
    if not drawn:
        return None
    named = set(contract.intents[intent].indexes) if intent in contract.intents else set()
    for index in drawn:
        if index not in named:
            return NOT_ALLOWED, index
    offered = len(hits)
    uncited = answer.dropped_sentences > 0 or any(
        not [m for m in citation_markers(s) if 1 <= m <= offered] for s in sentences(answer.answer)
    )
    if uncited:
        return UNCITED, drawn[0]
    return None


def enforce(
    telemetry: Telemetry | Any, contract: Contract, intent: str | None, hits: list[Hit], answer: Answer
) -> Answer:
    """``answer``, or the contract's refusal with the reason when it breaks a regulated index's rules."""
    found = violation(contract, intent, hits, answer)
    if found is None:
        return answer
    reason, index = found
    answer.answer = contract.answering.refusal
    answer.refused = True
    answer.refusal_reason = reason
    answer.citations = []
    if telemetry is not None:
        refusals(telemetry).labels(reason, index).inc()
    return answer
