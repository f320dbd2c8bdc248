"""What decides whether a question is answerable, beside the evidence score: names the content
never mentions, questions that ask for an amount, word variants the analyzer leaves apart, and
intents re-tried when the classifier's choice holds no support."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from charter.retrieval.index import Chunk, LocaleIndex, identifier_words, prefix_match
from charter.retrieval.text import asks_year, expects_quantity, named_terms, states_quantity
from charter.runtime import Runtime

TERMS = "29b9433c-608b-5f93-befc-6abe82a72777"
ENTERPRISE = "543ed651-06d2-5c62-8bec-935560b23b90"


@pytest.mark.parametrize(
    ("question", "language", "names"),
    [
        ("Is there a Python SDK?", "en", ["Python", "SDK"]),
        ("Can I pay with PayPal or on my iPhone?", "en", ["PayPal", "iPhone"]),
        ("Is Lumen SOC2 certified?", "en", ["Lumen", "SOC2"]),
        ("Lumen is fast. Really?", "en", []),  # words that open a sentence are not names
        ("Was kostet der Tarif für Teams?", "de", []),  # German capitalises every noun
        ("Was kostet der Enterprise-Tarif?", "de", ["Enterprise"]),  # a hyphen marks the name
        ("Gibt es eine Android-App oder E-Mail-Support?", "de", ["Android"]),
        ("Wie initialisiere ich das SDK mit meinem API-Key?", "de", ["SDK", "API"]),
        ("WHAT DOES IT COST?", "en", []),
    ],
)
def test_named_terms(question: str, language: str, names: list[str]) -> None:
    assert named_terms(question, language) == names


@pytest.mark.parametrize(
    ("question", "language", "expected"),
    [
        ("How many charts fit on a dashboard?", "en", True),
        ("How much is the Team plan?", "en", True),
        ("In what year was Lumen founded?", "en", True),
        ("What does the Enterprise plan cost?", "en", True),
        ("How do I rotate a key?", "en", False),
        ("Wie viele Dashboards hat Starter?", "de", True),
        ("Wie lange werden Daten aufbewahrt?", "de", True),
        ("Wie installiere ich das SDK?", "de", False),
    ],
)
def test_questions_that_ask_for_an_amount(question: str, language: str, expected: bool) -> None:
    assert expects_quantity(question, language) is expected


def test_what_states_an_amount() -> None:
    assert states_quantity("A dashboard holds up to 40 charts.")
    assert states_quantity("Events appear within five seconds.")
    assert states_quantity("Starter is free forever.")
    assert states_quantity("Events erscheinen innerhalb von fünf Sekunden.", "de")
    assert not states_quantity("Customers retire their spreadsheets in the first week.")
    assert not states_quantity("Eine Kennzahl einmal definieren.", "de")
    assert asks_year("In what year was Lumen founded?") and not asks_year("How many years of data?")
    assert states_quantity("Founded in 2019 in Berlin.", year=True)
    assert not states_quantity("Events appear within five seconds.", year=True)


def test_word_variants_the_stemmer_leaves_apart() -> None:
    vocab = frozenset({"liabil", "week", "renew", "renewal"})
    assert prefix_match("liabl", vocab) == "liabil"  # liable / liability
    assert prefix_match("weekend", vocab) == "weekend"  # a longer word is not its prefix
    assert prefix_match("week", vocab) == "week"  # too short to guess
    assert identifier_words("call `lumen.init(apiKey)` or e-mail us") == "api Key email"


def test_variants_find_code_and_spellings_but_plain_bm25_stays_plain() -> None:
    def chunk(text: str) -> Chunk:
        return Chunk("docs", "en", "e1", 1, 0, "doc", "", "", text, "/")

    idx = LocaleIndex("docs", "en")
    idx.put_entry("e1", [chunk("Call lumen.init(apiKey). Lumen's liability is limited.")])
    assert idx.search_bm25("where does my api key go", 1)
    assert idx.query_terms("Is Lumen liable?") == ["lumen", "liabil"]
    plain = LocaleIndex("docs", "en", variants=False)
    plain.put_entry("e1", [chunk("Call lumen.init(apiKey). Lumen's liability is limited.")])
    assert not plain.search_bm25("key", 1) and plain.query_terms("Is Lumen liable?") == ["lumen", "liabl"]


@pytest.mark.parametrize(
    ("question", "locale"),
    [
        ("Is there a Python SDK?", "en"),
        ("Can I pay with PayPal?", "en"),
        ("Is Lumen HIPAA certified?", "en"),
        ("Does Lumen work with Slack?", "en"),
        ("Was kostet der Premium-Plan?", "de-DE"),
    ],
)
def test_a_question_naming_what_no_content_mentions_is_refused(client: TestClient, question: str, locale: str) -> None:
    body = client.post("/v1/ask", json={"question": question, "locale": locale}).json()
    assert body["refused"] and body["refusal_reason"] == "unknown_subject" and body["evidence"] == 0.0


def test_names_the_content_mentions_still_answer(client: TestClient) -> None:
    body = client.post("/v1/ask", json={"question": "Does Lumen support Okta?", "locale": "en"}).json()
    assert not body["refused"] and "Okta" in body["answer"]


def test_an_amount_question_is_not_answered_without_one(client: TestClient) -> None:
    body = client.post("/v1/ask", json={"question": "How many customers does Lumen have?", "locale": "en"}).json()
    assert body["refused"] and body["refusal_reason"] in ("weak_evidence", "no_amount", "model_refused")
    body = client.post("/v1/ask", json={"question": "How many charts can one dashboard show?"}).json()
    assert not body["refused"] and "40" in body["answer"]
    body = client.post("/v1/ask", json={"question": "In what year did Lumen begin?"}).json()
    assert body["refused"] or "2019" in body["answer"]  # never a sentence without a year


def test_german_compounds_with_a_hyphen_are_not_names(client: TestClient) -> None:
    body = client.post("/v1/ask", json={"question": "Was kostet der Enterprise-Tarif?", "locale": "de-DE"}).json()
    assert not body["refused"] and "499 EUR" in body["answer"]
    assert [c["entry_id"] for c in body["citations"]] == [ENTERPRISE]


def test_a_classified_question_without_support_is_tried_under_the_other_intents(rt: Runtime) -> None:
    """The classifier's pick (product help) holds no support for a question about cancelling; its
    fallback may not read the regulated legal index, so the legal intent, which names it, answers
    and says it was a fallback."""
    from charter.retrieval.lifecycle import service_for
    from charter.retrieval.routing import RouteDecision

    service = service_for(rt)
    guess = RouteDecision("product-help", ["product-docs"], "classifier", 0.2)
    found = service.answer_sources("Wann endet ein gekündigter Monatsplan?", "de-DE", decision=guess)
    assert found.supported and found.decision.intent == "legal" and found.decision.method == "fallback"
    assert "intent" in found.fallback and found.indexes == ["legal"] and found.hits[0].chunk.entry_id == TERMS
    ruled = RouteDecision("product-help", ["product-docs"], "rule", 1.0)
    found = service.answer_sources("Wann endet ein gekündigter Monatsplan?", "de-DE", decision=ruled)
    assert found.decision.intent == "product-help" and "intent" not in found.fallback


def test_a_rule_decision_is_not_rerouted(client: TestClient) -> None:
    """A keyword rule is the contract's decision: "sdk" routes to product help, whatever else matches."""
    body = client.post("/v1/ask", json={"question": "Is the SDK covered by the liability limit?"}).json()
    assert body["intent"] == "product-help" and "intent" not in body["fallback"]
