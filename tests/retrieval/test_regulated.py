"""Regulated indexes are enforced (charter.retrieval.regulated): only intents naming the index use
it, every sentence drawing on it is cited, and a violation is a refusal with its reason, counted."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from fastapi.testclient import TestClient

from charter.retrieval.answer import Answer, Citation
from charter.retrieval.lifecycle import service_for
from charter.retrieval.regulated import NOT_ALLOWED, UNCITED, enforce, violation
from charter.retrieval.text import citation_markers, sentences
from charter.runtime import Runtime


def _hits(*indexes: str) -> list[Any]:
    return [SimpleNamespace(chunk=SimpleNamespace(index=i)) for i in indexes]


def _answer(text: str, dropped: int = 0) -> Answer:
    cite = Citation("S1", "e", 1, 0, "marketing-claims", "en", "/claims/x", "x", "")
    return Answer("q?", "en", text, False, None, [cite], dropped_sentences=dropped)


@pytest.mark.parametrize(
    ("intent", "indexes", "text", "dropped", "expected"),
    [
        ("claims", ("marketing-claims",), "Dashboards load fast. [S1]", 0, None),
        ("claims", ("marketing-claims",), "Dashboards load fast. [S1] It is the best tool.", 0, UNCITED),
        ("claims", ("marketing-claims",), "Dashboards load fast. [S1]", 1, UNCITED),  # a dropped uncited sentence
        ("claims", ("marketing-claims",), "Dashboards load fast. [S7]", 0, UNCITED),  # a marker never offered
        ("product-help", ("product-docs", "marketing-claims"), "Fast. [S1] [S2]", 0, NOT_ALLOWED),
        ("legal", ("legal",), "Refunds within 30 days. [S1]", 0, None),
        ("product-help", ("product-docs",), "Fast. And cheap. [S1]", 0, None),  # nothing regulated drawn on
    ],
)
def test_violations(rt: Runtime, intent: str, indexes: tuple[str, ...], text: str, dropped: int, expected: Any) -> None:
    contract = service_for(rt).contract
    found = violation(contract, intent, _hits(*indexes), _answer(text, dropped))
    assert (found[0] if found else None) == expected


def test_a_violation_is_a_refusal_counted_in_the_metrics(rt: Runtime, client: TestClient) -> None:
    contract = service_for(rt).contract
    answer = enforce(rt.telemetry, contract, "claims", _hits("marketing-claims"), _answer("Fast. [S1] Best ever."))
    assert answer.refused and answer.refusal_reason == UNCITED and answer.citations == []
    assert answer.answer == contract.answering.refusal
    metrics = client.get("/metrics").text
    assert (
        'charter_retrieval_regulated_refusals_total{index="marketing-claims",reason="regulated_uncited"} 1.0' in metrics
    )


def test_the_demo_claims_intent_uses_only_the_regulated_index(rt: Runtime, client: TestClient) -> None:
    assert service_for(rt).contract.intents["claims"].indexes == ["marketing-claims"]
    for question in ("What evidence backs your speed claim?", "Is it true that dashboards load in under a second?"):
        body = client.post("/v1/ask", json={"question": question, "locale": "en", "intent": "claims"}).json()
        assert body["intent"] == "claims"
        cited = {c["index"] for c in body["citations"]}
        # A fallback search may reach other indexes; regulated text of another intent is never used.
        assert "legal" not in cited
        if body["refused"]:
            continue
        if "marketing-claims" in cited:
            assert all(citation_markers(s) for s in sentences(body["answer"]))
