"""A name that qualifies what a question asks ("the Team plan") must be held by what the answer
cites: an answer drawn from a sibling (the Enterprise plan) is refused with
``unsupported_constraint`` (charter.retrieval.constraints), through the real app."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from charter.retrieval.constraints import modifies

TEAM = "ff6dcf98-de74-5663-a8ef-2263d4d0f054"
ENTERPRISE = "543ed651-06d2-5c62-8bec-935560b23b90"


@pytest.mark.parametrize(
    ("name", "question", "language", "expected"),
    [
        ("Team", "What uptime SLA does the Team plan have?", "en", True),
        ("Okta", "Is there an Okta connector?", "en", True),
        ("Lumen", "Does Lumen support Okta?", "en", False),  # the subject of the verb after it
        ("Lumen", "Can I run Lumen on my own servers?", "en", False),  # the subject, not a constraint
        ("Lumen", "Who started Lumen?", "en", False),
        ("Team", "Welche Verfügbarkeit garantieren Sie im Team-Plan?", "de", True),
    ],
)
def test_a_name_qualifies_the_word_after_it(name: str, question: str, language: str, expected: bool) -> None:
    assert modifies(name, question, language) is expected


@pytest.mark.parametrize(
    ("question", "locale"),
    [
        ("What uptime SLA does the Team plan have?", "en"),
        ("Is there a free trial of the Enterprise plan?", "en"),
        ("Welche Verfügbarkeit garantieren Sie im Team-Plan?", "de-DE"),
    ],
)
def test_an_answer_about_a_sibling_of_the_named_thing_is_refused(
    client: TestClient, question: str, locale: str
) -> None:
    body = client.post("/v1/ask", json={"question": question, "locale": locale}).json()
    assert body["refused"] and body["citations"] == []
    if body["refusal_reason"] == "unsupported_constraint":
        assert body["unsupported"] in (["Team"], ["Enterprise"])
    else:  # refused earlier on this install (the gate or the model)
        assert body["refusal_reason"] in ("weak_evidence", "model_refused", "no_amount")


def test_the_sla_question_is_refused_for_the_missing_constraint(client: TestClient) -> None:
    body = client.post("/v1/ask", json={"question": "What uptime SLA does the Team plan have?"}).json()
    assert body["refusal_reason"] == "unsupported_constraint" and body["unsupported"] == ["Team"]


@pytest.mark.parametrize(
    ("question", "locale", "fact", "entry"),
    [
        ("What uptime SLA does the Enterprise plan have?", "en", "99.9%", ENTERPRISE),
        ("How much does the Team plan cost?", "en", "49 EUR", TEAM),
        ("Wie viel kostet der Team-Plan im Monat?", "de-DE", "49 EUR", TEAM),
    ],
)
def test_an_answer_that_holds_the_named_thing_still_answers(
    client: TestClient, question: str, locale: str, fact: str, entry: str
) -> None:
    body = client.post("/v1/ask", json={"question": question, "locale": locale}).json()
    assert not body["refused"] and fact in body["answer"] and body["unsupported"] == []
    assert entry in [c["entry_id"] for c in body["citations"]]


def test_a_value_in_code_is_not_a_mention_of_the_named_thing(client: TestClient) -> None:
    """The getting-started doc's ``lumen.track('signup', {plan: 'team'})`` holds 'team' as an example
    value; it does not say anything about the Team plan."""
    body = client.post("/v1/ask", json={"question": "How many events per month can I send on the Team plan?"}).json()
    assert body["refused"]


def test_one_standing_for_a_noun_is_no_amount(client: TestClient) -> None:
    from charter.retrieval.text import states_quantity

    assert not states_quantity("Rotate a key by creating a new one and revoking the old one.")
    assert states_quantity("A dashboard shows one chart per metric.")
    body = client.post("/v1/ask", json={"question": "How many API keys can I create?"}).json()
    assert body["refused"] and body["refusal_reason"] in ("no_amount", "weak_evidence", "model_refused")
