"""Intent routing: declared rules first, then the nearest centroid of the labelled examples."""

from __future__ import annotations

import pytest

from charter.config import DEMO_DIR
from charter.retrieval.contract import load_contract, parse_contract
from charter.retrieval.routing import CentroidClassifier, Router, routing_accuracy


@pytest.fixture(scope="module")
def router() -> Router:
    return Router(load_contract(DEMO_DIR / "retrieval.yaml"))


@pytest.mark.parametrize(
    ("question", "intent", "method"),
    [
        ("Can I get a refund?", "legal", "rule"),
        ("What proof is there that dashboards are fast?", "claims", "rule"),  # the first declared rule wins
        ("How do I install the SDK?", "product-help", "rule"),
        ("Which personal data do you keep about me?", "legal", "classifier"),
        ("Do customers actually stop using spreadsheets?", "claims", "classifier"),
        ("zzz qqq", "product-help", "default"),
    ],
)
def test_routes(router: Router, question: str, intent: str, method: str) -> None:
    decision = router.route(question)
    assert (decision.intent, decision.method) == (intent, method)
    assert decision.indexes == router.contract.intents[intent].indexes


def test_an_explicit_intent_skips_routing(router: Router) -> None:
    assert router.route("anything", "legal").method == "explicit"


def test_classifier_prefers_the_closest_centroid() -> None:
    clf = CentroidClassifier([("refund my plan", "legal"), ("cancel the contract", "legal"), ("chart colours", "docs")])
    assert clf.predict("how to refund")[0] == "legal"
    assert clf.predict("chart")[0] == "docs"
    assert clf.predict("unrelated words") == (None, 0.0)


def test_accuracy_is_measured() -> None:
    contract = load_contract(DEMO_DIR / "retrieval.yaml")
    loo = routing_accuracy(contract)
    assert loo.n == sum(len(i.examples) for i in contract.intents.values())
    assert 0.0 <= loo.accuracy <= 1.0 and set(loo.confusion) == set(contract.intents)
    cases = [("Can I get a refund?", "legal"), ("How do I install the SDK?", "product-help"), ("zzz", "legal")]
    scored = routing_accuracy(contract, cases)
    assert scored.n == 3 and scored.accuracy == pytest.approx(2 / 3)
    assert scored.confusion["legal"] == {"legal": 1, "product-help": 1}


def test_a_separable_example_set_routes_perfectly() -> None:
    text = """
indexes:
  a: {sources: [{type: doc, fields: [body]}]}
  b: {sources: [{type: doc, fields: [body]}]}
intents:
  billing: {indexes: [a], examples: [invoice payment, invoice overdue payment, payment card invoice]}
  setup: {indexes: [b], examples: [install sdk, sdk install guide, guide to install]}
"""
    assert routing_accuracy(parse_contract(text)).accuracy == 1.0
