"""Query-time synonyms (charter.retrieval.synonyms): a visitor's words find what the content calls
otherwise, in retrieval, in the evidence gate and in the local provider's sentence choice, and
questions about what no content covers are still refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from charter.app import create_app
from charter.exceptions import ValidationFailed
from charter.gateway.providers.local import answer as local_answer
from charter.retrieval.contract import parse_contract
from charter.retrieval.index import Chunk, LocaleIndex
from charter.retrieval.synonyms import Lexicon, parse_rule
from charter.runtime import Runtime

TERMS = "29b9433c-608b-5f93-befc-6abe82a72777"
DASHBOARDS = "e8d037db-6028-561e-a8f2-fca689a2b3b5"
RETENTION = "f6f777a2-ad89-5ed0-b1e0-0848078e5d19"
BILLING = "61244c0f-0047-5394-9c18-749e43d024cd"
SSO = "5d6d0c16-e8c3-57e1-bcb4-235a6796dff5"


def _set_synonyms(project: Path, block: str) -> None:
    path = project / "retrieval.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "\n" + block, encoding="utf-8")


def test_rules_in_solr_format() -> None:
    assert parse_rule("yearly, annual") == (("yearly", "annual"), ("yearly", "annual"))
    assert parse_rule("money back, reimbursement => refund") == (("money back", "reimbursement"), ("refund",))
    assert parse_rule(["Abo", "Plan"]) == (("Abo", "Plan"), ("Abo", "Plan"))
    for bad in ("annual", "a => b => c", " => refund", "yearly, ---"):
        with pytest.raises(ValueError):
            parse_rule(bad)


def test_a_lexicon_matches_words_by_stem_phrases_first_and_german_compounds_by_their_head() -> None:
    lexicon = Lexicon(
        {
            "en": ["yearly, annual", "money back => refund", "free, for free"],
            "de": ["Abo, Plan"],
        }
    )
    question = "Can I get my money back on yearly plans?"
    found = [(question[m.start : m.end], m.alternatives) for m in lexicon.matches(question, "en")]
    assert found == [("money back", ("refund",)), ("yearly", ("annual",))]
    assert [m.alternatives for m in lexicon.matches("Annually billed?", "en")] == [("yearly",)]  # by stem
    assert lexicon.matches("Is a refund possible?", "en") == []  # one-way: refund is not money back
    assert [m.alternatives for m in lexicon.matches("Mein Jahresabo", "de")] == [("jahresplan",)]


def test_an_index_matches_a_synonym_it_holds_and_counts_it_as_the_word() -> None:
    lexicon = Lexicon({"en": ["yearly, annual, per year", "money back, reimbursement => refund"]})
    idx = LocaleIndex("legal", "en", lexicon=lexicon)
    plain = LocaleIndex("legal", "en")
    for i in (idx, plain):
        i.put_entry("t", [Chunk("legal", "en", "t", 1, 0, "legal-text", "", "", "Annual plans can be refunded.", "/")])
        i.put_entry("o", [Chunk("legal", "en", "o", 1, 0, "legal-text", "", "", "Other text about plans.", "/")])
    assert idx.query_slots("yearly money back") == [("year", "annual"), ("refund",)]
    chunk = idx.chunks_of("t")[0]
    stats = idx.statistics()
    assert idx.support(idx.query_slots("yearly money back"), chunk, stats) == pytest.approx(1.0)
    assert plain.support(plain.query_slots("yearly money back"), chunk, stats) < 0.3
    assert idx.search_bm25("yearly money back", 1)[0].chunk.entry_id == "t"
    assert not plain.search_bm25("yearly money back", 1)


def test_the_local_provider_reads_synonyms_when_it_picks_sentences() -> None:
    messages = [
        {
            "role": "system",
            "content": "Sources:\n[S1] (source: a#0) Annual plans can be refunded pro rata within 30 days. "
            "Monthly plans renew each month.",
        },
        {"role": "user", "content": "Can I get my money back on a yearly plan?"},
    ]
    text, cited = local_answer(messages)
    assert text.startswith("Annual plans can be refunded pro rata") and cited == ["a#0"]
    assert not local_answer(messages, synonyms=False)[0].startswith("Annual plans")


def test_the_contract_validates_its_synonyms() -> None:
    base = (
        "version: 1\nindexes:\n  docs:\n    sources: [{type: doc, fields: [body]}]\n"
        "intents:\n  help: {indexes: [docs]}\n"
    )
    contract = parse_contract(base + "synonyms:\n  builtin: false\n  en: ['tile, tiles => chart']\n")
    assert contract.synonyms.lexicon().rules == {"en": [(("tile", "tiles"), ("chart",))]}
    assert parse_contract(base).synonyms.lexicon().rules["de"]  # the shipped rules by default
    with pytest.raises(ValidationFailed) as err:
        parse_contract(base + "synonyms:\n  en: ['a => b => c']\n  xx: ['a, b']\n")
    pointers = {e.pointer for e in err.value.errors}
    assert "/synonyms/en" in pointers and "/synonyms/xx" in pointers


@pytest.mark.parametrize(
    ("question", "locale", "entry", "says"),
    [
        ("Can I get my money back on a yearly subscription?", "en", TERMS, "pro rata"),
        ("Bekomme ich bei einem Jahresabo mein Geld zurück?", "de-DE", TERMS, "anteilig erstattet"),
        ("How many graphs fit on one board?", "en", DASHBOARDS, "40 charts"),
    ],
)
def test_visitor_words_are_answered_through_the_shipped_synonyms(
    client: TestClient, question: str, locale: str, entry: str, says: str
) -> None:
    body = client.post("/v1/ask", json={"question": question, "locale": locale}).json()
    assert not body["refused"], body
    assert says in body["answer"] and entry in {c["entry_id"] for c in body["citations"]}


@pytest.mark.parametrize(
    ("question", "locale"),
    [
        ("Kann ich mit Bitcoin bezahlen?", "de-DE"),
        ("Is there a discount for students?", "en"),
        ("Gibt es einen Rabatt für Vereine?", "de-DE"),
        ("How many employees does Lumen have?", "en"),
    ],
)
def test_synonyms_do_not_make_what_no_content_covers_answerable(client: TestClient, question: str, locale: str) -> None:
    body = client.post("/v1/ask", json={"question": question, "locale": locale}).json()
    assert body["refused"], body


def test_without_the_shipped_synonyms_the_visitor_words_miss_and_a_project_rule_brings_them_back(
    project_dir: Path, tmp_path: Path
) -> None:
    from charter.config import load_settings
    from charter.demo import load_demo_content

    question = {"question": "Can I get my money back on a yearly subscription?", "locale": "en"}
    for block, refused in (("synonyms: {builtin: false}\n", True), (None, False)):
        if block:
            _set_synonyms(project_dir, block)
        else:
            path = project_dir / "retrieval.yaml"
            text = path.read_text(encoding="utf-8").replace(
                "synonyms: {builtin: false}\n",
                "synonyms:\n  builtin: false\n  en: ['money back => refund', 'yearly, annual', 'subscription, plan']\n",
            )
            path.write_text(text, encoding="utf-8")
        db = tmp_path / f"charter-{refused}.db"
        runtime = Runtime.open(load_settings(project_dir, database_url=f"sqlite:///{db}"))
        try:
            load_demo_content(runtime)
            with TestClient(create_app(runtime.settings, runtime=runtime)) as c:
                body = c.post("/v1/ask", json=question).json()
        finally:
            runtime.close()
        assert body["refused"] is refused, body


def test_a_german_word_finds_the_compounds_it_ends() -> None:
    """ "Daten" finds "Kundendaten" (the rest, "kunden", is long enough to be a word of its own), not
    "Mandat"; English, which does not compound, is left alone."""

    def chunk(key: str, text: str, locale: str = "de-DE") -> Chunk:
        return Chunk("legal", locale, key, 1, 0, "legal-text", "", "", text, "/")

    idx = LocaleIndex("legal", "de-DE")
    idx.put_entry("k", [chunk("k", "Kundendaten werden in Frankfurt gespeichert.")])
    idx.put_entry("m", [chunk("m", "Das Mandat endet im Juni.")])
    assert idx.query_slots("Wo liegen die Daten?")[-1] == ("dat", "kundendat")
    assert idx.search_bm25("Daten", 5)[0].chunk.entry_id == "k" and len(idx.search_bm25("Daten", 5)) == 1
    en = LocaleIndex("legal", "en")
    en.put_entry("k", [chunk("k", "Customer data is stored in Frankfurt.", "en")])
    assert en.query_slots("data")[0] == ("data",)


@pytest.mark.parametrize(
    ("question", "locale", "entry", "says"),
    [
        ("Wo werden meine Daten gespeichert?", "de-DE", "19cdb78d-5e12-55ae-b8c0-99553812bae4", "Frankfurt"),
        ("How does billing work?", "en", "61244c0f-0047-5394-9c18-749e43d024cd", "billed monthly or annually"),
        ("Can I pay in euros?", "en", None, "EUR"),  # the billing doc or a plan's price: both say EUR
    ],
)
def test_compounds_frame_words_and_currencies(
    client: TestClient, question: str, locale: str, entry: str | None, says: str
) -> None:
    body = client.post("/v1/ask", json={"question": question, "locale": locale}).json()
    assert not body["refused"], body
    assert says in body["answer"] and (entry is None or entry in {c["entry_id"] for c in body["citations"]}), body


def test_frame_words_say_nothing_about_the_subject() -> None:
    idx = LocaleIndex("docs", "en")
    idx.put_entry("a", [Chunk("docs", "en", "a", 1, 0, "doc", "", "", "Annual plans renew.", "/")])
    assert idx.query_terms("I just need everything about annual plans, does that work?") == ["annual", "plan"]
    de = LocaleIndex("docs", "de-DE")
    de.put_entry("a", [Chunk("docs", "de-DE", "a", 1, 0, "doc", "", "", "Jahrespläne verlängern sich.", "/")])
    assert de.query_terms("Wie lange dauert es eigentlich noch?") == ["lang"]


def test_translations_lead_a_question_into_the_content_language() -> None:
    lexicon = Lexicon({"de": ["Rechnung, Beleg"]}, {("de", "en"): ["Rechnung, Rechnungen => invoice, bill"]})
    question = "Wann kommt meine Rechnung?"
    assert [m.alternatives for m in lexicon.matches(question, "de")] == [("Beleg",)]
    assert [m.alternatives for m in lexicon.matches(question, "de", into="en")] == [("invoice", "bill")]
    assert [m.alternatives for m in lexicon.matches(question, "de", into="de")] == [("Beleg",)]
    assert lexicon.translates("de", "en") and not lexicon.translates("en", "de")
    # A pair without translations keeps the question language's own synonyms.
    assert [m.alternatives for m in lexicon.matches(question, "de", into="fr")] == [("Beleg",)]


def test_an_index_of_another_language_is_searched_through_the_translations() -> None:
    from charter.retrieval.synonyms import builtin

    idx = LocaleIndex("docs", "en", lexicon=builtin())
    idx.put_entry("b", [Chunk("docs", "en", "b", 1, 0, "doc", "", "", "Invoices are sent by e-mail.", "/")])
    assert ("invoic",) in [s[-1:] for s in idx.query_slots("Wann kommt die Rechnung?", "de")]
    assert idx.search_bm25("Wann kommt die Rechnung?", 5, "de")[0].chunk.entry_id == "b"
    # Without a translation the German word finds nothing in English content.
    plain = LocaleIndex("docs", "en", lexicon=Lexicon({}))
    plain.put_entry("b", [Chunk("docs", "en", "b", 1, 0, "doc", "", "", "Invoices are sent by e-mail.", "/")])
    assert plain.search_bm25("Wann kommt die Rechnung?", 5, "de") == []


@pytest.mark.parametrize(
    ("question", "entry", "says"),
    [
        ("Wie lange dauert es, bis gelöschte Projekte endgültig entfernt sind?", RETENTION, "within 30 days"),
        ("Wie viel spart die jährliche Abrechnung?", BILLING, "saves two months"),
    ],
)
def test_a_german_question_is_answered_from_english_content_through_the_translations(
    client: TestClient, question: str, entry: str, says: str
) -> None:
    """The German content is silent; the English content, next on the locale fallback chain, is
    searched and read with the question's words translated, and the answer says where it is from."""
    body = client.post("/v1/ask", json={"question": question, "locale": "de-DE"}).json()
    assert not body["refused"], body
    assert says in body["answer"] and entry in {c["entry_id"] for c in body["citations"]}, body
    assert body["answer_locale"] == "en" and "locale" in body["fallback"], body


def test_a_word_only_the_fallback_locale_holds_sends_the_question_there(client: TestClient, rt: Runtime) -> None:
    """German content speaks of sign-in ("SSO mit Google") but never names OneLogin; the English SSO
    doc does, so it answers, though the German plans support the question's other words."""
    from charter.retrieval.lifecycle import service_for

    question = "Funktioniert die Anmeldung mit OneLogin?"
    assert service_for(rt).fallback_words(question, "de-DE") == ["onelogin"]
    assert service_for(rt).fallback_words("Was kostet der Team-Plan?", "de-DE") == []
    body = client.post("/v1/ask", json={"question": question, "locale": "de-DE"}).json()
    assert not body["refused"], body
    assert "OneLogin" in body["answer"] and SSO in {c["entry_id"] for c in body["citations"]}, body
    assert body["answer_locale"] == "en", body
    # Austrian German (de-AT -> de-DE -> en): the German content that supports a question decides
    # whether it lacks a word, not the near-empty de-AT content, so German answers stay German.
    austrian = client.post("/v1/ask", json={"question": "Was kostet der Team-Plan?", "locale": "de-AT"}).json()
    assert not austrian["refused"] and austrian["answer_locale"] == "de-DE", austrian
    assert "49 EUR" in austrian["answer"], austrian


@pytest.mark.parametrize(
    ("participle", "verb", "is_it"),
    [
        ("geladen", "laden", True),
        ("gekündigt", "kündigen", True),
        ("gespeichert", "speichern", True),
        ("eingerichtet", "einrichten", True),
        ("Gebühr", "Bühne", False),
        ("gemeinsam", "Meinung", False),
    ],
)
def test_a_german_participle_is_matched_to_its_verb(participle: str, verb: str, is_it: bool) -> None:
    from charter.retrieval.index import participle_of
    from charter.retrieval.text import tokenizer_for

    stem = tokenizer_for("de")
    assert participle_of(stem(participle)[0], stem(verb)[0], "de") is is_it
    assert not participle_of(stem(participle)[0], stem(verb)[0], "en")


def test_a_participle_finds_the_verb_in_the_index_and_in_the_sentence_choice() -> None:
    idx = LocaleIndex("docs", "de-DE")
    for key, text in (("a", "Berichte laden in unter einer Sekunde."), ("b", "Berichte werden monatlich versendet.")):
        idx.put_entry(key, [Chunk("docs", "de-DE", key, 1, 0, "doc", "", "", text, "/")])
    assert "lad" in idx.query_terms("Wie schnell ist ein Bericht geladen?")
    assert idx.search_bm25("Wie schnell ist ein Bericht geladen?", 5)[0].chunk.entry_id == "a"
    text, cites = local_answer(
        [
            {
                "role": "system",
                "content": "Sources:\n[S1] (source: b#0) Berichte werden monatlich versendet.\n"
                "[S2] (source: a#0) Berichte laden in unter einer Sekunde.",
            },
            {"role": "user", "content": "Wie schnell ist ein Bericht geladen?"},
        ]
    )
    assert text.startswith("Berichte laden in unter einer Sekunde. [S2]") and cites[0] == "a#0"
