"""The local provider picks the sentences that answer the question (charter.gateway.providers.local.answer)."""

from __future__ import annotations

import sys
from typing import Any

from charter.gateway.providers.local import REFUSAL, answer, focus_of, holds_focus


def messages(question: str, *lines: str) -> list[dict[str, Any]]:
    return [{"role": "system", "content": "Sources:\n" + "\n".join(lines)}, {"role": "user", "content": question}]


def test_an_amount_question_gets_the_sentence_with_the_amount() -> None:
    text, cites = answer(
        messages(
            "How much is the Team plan?",
            "[S1] (source: plan#1) The Team plan includes SSO with Google and shared dashboards.",
            "[S2] (source: plan#0) The Team plan costs 49 EUR per month.",
        )
    )
    assert text.startswith("The Team plan costs 49 EUR per month. [S2]")
    assert cites[0] == "plan#0"


def test_a_where_question_gets_the_sentence_with_the_place() -> None:
    text, _ = answer(
        messages(
            "Where is my data stored?",
            "[S1] (source: p#0) Your data is stored encrypted and backed up every day.",
            "[S2] (source: p#1) Customer data is stored in the EU by default.",
        )
    )
    assert text.startswith("Customer data is stored in the EU by default. [S2]")


def test_identifiers_and_word_variants_match_the_question() -> None:
    # "initialise" / `init(apiKey)`: Snowball stems them apart; the identifier holds "api" and "key".
    text, cites = answer(
        messages(
            "How do I initialise the client with my API key?",
            "[S1] (source: keys#0) Create API keys under Settings.",
            "[S2] (source: start#1; section: Setup) Call `client.init(apiKey)` once at start-up.",
        )
    )
    assert text.startswith("Call `client.init(apiKey)` once at start-up. [S2]"), text
    assert cites[0] == "start#1"


def test_a_heading_that_only_shares_a_word_does_not_answer() -> None:
    question = "Who started Acme?"
    getting_started = "[S1] (source: docs#1; section: Getting started) Install the Acme CLI with pip and run it."
    assert answer(messages(question, getting_started)) == (REFUSAL, [])
    about = "[S2] (source: about#0; section: About) Acme was started in 2019 by two chemists in Leeds."
    text, cites = answer(messages(question, getting_started, about))
    assert text == "Acme was started in 2019 by two chemists in Leeds. [S2]" and cites == ["about#0"]


def test_a_name_only_one_sentence_holds_is_what_the_question_asks_about() -> None:
    # "Acme" is named by every source: the subject. "Keycloak" by one sentence: the point of the
    # question, answered by that sentence though "log in" is only in its section's heading.
    question = "Can Acme users log in with Keycloak?"
    sso = (
        "[S1] (source: sso#1; section: Single sign-on) Acme plans support SSO with Google. "
        "Business plans add SAML with Keycloak and Okta."
    )
    about = "[S2] (source: about#0; section: About) Acme was started in 2019 by two chemists in Leeds."
    text, cites = answer(messages(question, sso, about))
    assert text.startswith("Business plans add SAML with Keycloak and Okta. [S1]") and cites[0] == "sso#1"


def test_a_section_whose_heading_is_the_question_answers_it() -> None:
    # German: "Events senden" is the title of the section whose sentence answers.
    text, cites = answer(
        messages(
            "Wie sende ich mein erstes Event?",
            "[S1] (source: doc#2; section: Erste Schritte > Events senden) Rufen Sie `lumen.track()` im Browser auf.",
        )
    )
    assert text == "Rufen Sie `lumen.track()` im Browser auf. [S1]" and cites == ["doc#2"]


def test_what_a_question_asks_for() -> None:
    assert focus_of("How much does it cost?", "en") == "amount"
    assert focus_of("In what year was it founded?", "en") == "year"
    assert focus_of("Where is my data kept?", "en") == "place"
    assert focus_of("When do events show up?", "en") == "time"
    assert focus_of("Who do I email about my data?", "en") == "whom"
    assert focus_of("Wo liegen meine Daten?", "de") == "place"
    assert focus_of("Wie viel kostet der Team-Plan?", "de") == "amount"
    assert focus_of("Does it support SSO?", "en") is None
    assert holds_focus("Write to privacy@example.com.", "whom", "en")
    assert holds_focus("Events appear within five seconds.", "time", "en")
    assert not holds_focus("Events appear in the live view.", "time", "en")
    assert holds_focus("Daten liegen in der EU.", "place", "de")


def test_dense_sentences_never_load_the_model() -> None:
    module = sys.modules.get("charter.retrieval.embeddings")
    loaded = module is not None and "model" in module._models
    lines = ("[S1] (source: a#0) The Team plan costs 49 EUR per month.",)
    assert (
        answer(messages("What does the Team plan cost?", *lines), dense=True)
        == answer(messages("What does the Team plan cost?", *lines))
        or loaded
    )
    module = sys.modules.get("charter.retrieval.embeddings")
    assert loaded or module is None or "model" not in module._models


def test_the_frame_words_of_a_question_are_not_words_a_sentence_must_hold() -> None:
    # "anything", "actually", "still", "work" say how the question is asked, as the retrieval's
    # analyzer has it (charter.retrieval.text.QUESTION_WORDS): only "OneLogin" is asked about.
    from charter.gateway.providers.local import terms

    assert terms("How does billing actually work?") == ["bill"]
    text, cites = answer(
        messages(
            "Does anything actually still work with OneLogin?",
            "[S1] (source: sso#1) Enterprise plans add SAML with OneLogin.",
        )
    )
    assert text == "Enterprise plans add SAML with OneLogin. [S1]" and cites == ["sso#1"]


def test_the_language_of_a_question_is_read_from_its_function_words() -> None:
    from charter.gateway.providers.local import language_of_text

    # bm25s's English stop words lack "do" and "you", which the Portuguese list holds ("do").
    for question in ("Do you offer refunds?", "My API token leaked. What should I do?", "Do you support Okta?"):
        assert language_of_text(question) == "en", question
    assert language_of_text("Wie viele Diagramme passen auf ein Dashboard?") == "de"
    assert language_of_text("Der Plan Team kostet 49 EUR.") == "de"
    # Read as English, the question's words meet the English synonyms ("gather": "process").
    text, cites = answer(
        messages(
            "Do you gather usage events?",
            "[S1] (source: reports#0) Usage reports are sent every month.",
            "[S2] (source: data#0) We process the product events our customers send.",
        )
    )
    assert text.startswith("We process the product events our customers send. [S2]") and cites[0] == "data#0", text
