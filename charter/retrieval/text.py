"""Text handling shared by indexing, routing, answers and evaluation.

Tokenisation follows ``bm25s.tokenize`` exactly (lower-case, ``(?u)\\b\\w\\w+\\b``, the language's
stop words, then a Snowball stemmer from PyStemmer), so Charter's BM25 ranks like plain bm25s.
"""

from __future__ import annotations

import re
import threading
from functools import lru_cache
from typing import Any

TOKEN_PATTERN = re.compile(r"(?u)\b\w\w+\b")
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[]?[A-Z0-9ÄÖÜ])")
_CITATION = re.compile(r"\[S(\d+)\]")
_LEADING_MARKERS = re.compile(r"^(?:\s*\[S\d+\])+")

#: Locale prefix -> (Snowball stemmer, bm25s stop-word list name).
LANGUAGES: dict[str, tuple[str, str]] = {
    "en": ("english", "STOPWORDS_EN"),
    "de": ("german", "STOPWORDS_GERMAN"),
    "fr": ("french", "STOPWORDS_FRENCH"),
    "es": ("spanish", "STOPWORDS_SPANISH"),
    "it": ("italian", "STOPWORDS_ITALIAN"),
    "nl": ("dutch", "STOPWORDS_DUTCH"),
    "pt": ("portuguese", "STOPWORDS_PORTUGUESE"),
    "sv": ("swedish", "STOPWORDS_SWEDISH"),
    "da": ("danish", "STOPWORDS_DANISH"),
}


#: Words of a question's frame that say nothing about its subject (interrogatives, auxiliaries,
#: pronouns of the asker and the asked): left out of a question's terms when it is searched and
#: when its evidence is measured (bm25s's stop-word lists, Lucene's, keep most of them).
QUESTION_WORDS: dict[str, frozenset[str]] = {
    "en": frozenset(
        re.findall(
            r"\w+",
            """who what when where why how which whom whose do does did done can could would should will
            shall may might must i me my mine you your yours we our us am have has had get got tell please
            any some much many kind work works offer offers provide provides available possible exist just yet
            still already actually really even everyone everybody everything someone somebody something anyone
            anybody anything nothing need needs want wants like let put make makes go goes happen happens about""",
        )
    ),
    "de": frozenset(
        re.findall(
            r"\w+",
            """wer was wann wo warum wie welche welcher welches wem wen wessen gibt ich mich mir mein meine
            meinen meiner meinem sie ihr ihre ihren ihrem wir uns unser unsere kann können darf dürfen muss
            bitte es viel viele funktioniert funktionieren bieten bietet anbieten möglich verfügbar schon noch
            eigentlich wirklich gerade bereits denn mal jemand irgendwas brauche brauchen möchte möchten passiert
            dauert dauern""",
        )
    ),
}


#: Languages that capitalise every noun: a capital letter there does not mark a name.
CAPITALISED_NOUNS = frozenset({"de"})
_WORD = re.compile(r"\w+", re.UNICODE)
#: What may stand before a word that opens a sentence (or a quotation).
_OPENERS = frozenset(".!?:;\"'([“‘«„")


def named_terms(question: str, language: str = "en") -> list[str]:
    """The words of ``question`` that name something: a product, a company, a place, a standard
    (``Python``, ``PayPal``, ``iPhone``, ``HIPAA``, ``SOC2``). A name is a word written with a capital
    letter inside it or in capitals throughout (``iPhone``, ``GraphQL``, ``SDK``), a word of letters
    and digits (``S3``), or, in a language that does not capitalise its nouns, a capitalised word
    that does not open a sentence (``Python`` in "Is there a Python SDK?"). In German every noun is
    capitalised, so a capital letter marks a name there only as the first part of a hyphenated
    compound, which German writes with a hyphen exactly when that part is a name, an abbreviation or
    a foreign word (``Premium-Plan``, ``Android-App``; ``Enterprise-Tarif`` names ``Enterprise``, which
    the demo content mentions). The parts of a hyphenated word are words of their own.

    A question that names something its content never mentions asks about a subject the content
    does not cover (:meth:`charter.retrieval.service.RetrievalService.unknown_names`)."""
    out: list[str] = []
    if question.isupper():
        return out  # shouted: capitals say nothing
    for match in _WORD.finditer(question):
        word = match.group(0)
        letters = [ch for ch in word if ch.isalpha()]
        if len(word) < 2 or not letters:
            continue
        inner_capital = any(ch.isupper() for ch in word[1:] if ch.isalpha())
        mixed_digits = any(ch.isdigit() for ch in word) and len(letters) >= 1
        before = question[: match.start()].rstrip()
        opens = not before or before[-1] in _OPENERS
        if language in CAPITALISED_NOUNS:
            # German hyphenates a compound whose first part is a name, an abbreviation or a foreign
            # word (Duden: "Premium-Plan", "Android-App"), so that part is a name.
            capitalised = word[0].isupper() and question[match.end() : match.end() + 2][:1] == "-"
            capitalised = capitalised and question[match.end() + 1 : match.end() + 2].isalpha()
            capitalised = capitalised and question[max(0, match.start() - 1) : match.start()] != "-"
        else:
            capitalised = word[0].isupper() and not opens
        if inner_capital or mixed_digits or capitalised:
            out.append(word)
    return out


#: Questions that ask for an amount (a count, a price, a duration, a year), per language: their
#: answer holds a number (or a word that is one: "three", "free", "unlimited").
QUANTITY_QUESTIONS: dict[str, re.Pattern[str]] = {
    "en": re.compile(
        r"\bhow (?:many|much|long|often|old|far back)\b|\b(?:what|which) (?:year|price|percentage)\b"
        r"|\bwhat does .{1,40}\bcost\b",
        re.IGNORECASE,
    ),
    "de": re.compile(r"\bwie (?:viele?|lange|oft|alt|hoch)\b|\bin welchem jahr\b|\bwas kostet\b", re.IGNORECASE),
}
_QUANTITY_WORDS: dict[str, frozenset[str]] = {
    "en": frozenset(
        re.findall(
            r"\w+",
            """one two three four five six seven eight nine ten eleven twelve twenty thirty forty fifty
            sixty hundred thousand million billion dozen half free unlimited""",
        )
    ),
    "de": frozenset(
        re.findall(
            r"\w+",
            """eins zwei drei vier fünf sechs sieben acht neun zehn elf zwölf zwanzig dreißig vierzig
            fünfzig hundert tausend million millionen milliarde milliarden halb kostenlos unbegrenzt
            unbegrenzte""",
        )
    ),
}
_DIGIT = re.compile(r"\d")
#: "one" standing for a noun, not counting ("a new one", "the old one", "one."): no amount.
_PRONOUN_ONE = re.compile(
    r"\b(?:a|an|the|new|old|this|that|another|same|other|each|every|which)\s+one\b|\bone(?=\s*(?:[.;,!?)]|$))"
)


def expects_quantity(question: str, language: str = "en") -> bool:
    """Whether ``question`` asks for an amount ("How many charts ...", "Wie lange ...", "In what
    year ..."): an answer to it must state one."""
    pattern = QUANTITY_QUESTIONS.get(language)
    return bool(pattern and pattern.search(question)) or asks_year(question, language)


#: Questions that ask for a year: their answer holds one.
YEAR_QUESTIONS: dict[str, re.Pattern[str]] = {
    "en": re.compile(r"\b(?:what|which) year\b", re.IGNORECASE),
    "de": re.compile(r"\b(?:in )?welchem jahr\b|\bseit wann\b", re.IGNORECASE),
}
_YEAR = re.compile(r"\b(?:1[5-9]|2[0-9])\d\d\b")


def asks_year(question: str, language: str = "en") -> bool:
    """Whether ``question`` asks for a year ("In what year was Lumen founded?")."""
    pattern = YEAR_QUESTIONS.get(language)
    return bool(pattern and pattern.search(question))


def states_quantity(text: str, language: str = "en", *, year: bool = False) -> bool:
    """Whether ``text`` states an amount: a digit, or a number word of ``language`` (or English);
    with ``year``, whether it states a year (four digits, 1500-2999)."""
    if year:
        return bool(_YEAR.search(text))
    if _DIGIT.search(text):
        return True
    words = set(re.findall(r"\w+", _PRONOUN_ONE.sub(" ", text.lower())))
    return bool(words & (_QUANTITY_WORDS.get(language, frozenset()) | _QUANTITY_WORDS["en"]))


def language_of(locale: str) -> str:
    prefix = locale.split("-")[0].lower()
    return prefix if prefix in LANGUAGES else "en"


class Tokenizer:
    """Tokenises text for one language. Thread-safe (PyStemmer objects are not)."""

    def __init__(self, language: str = "en", *, stem: bool = True) -> None:
        import bm25s.stopwords as sw

        stemmer_name, stop_name = LANGUAGES.get(language, LANGUAGES["en"])
        self.language = language
        self.stopwords = frozenset(getattr(sw, stop_name))
        self._stemmer: Any = None
        if stem:
            import Stemmer

            self._stemmer = Stemmer.Stemmer(stemmer_name)
        self._lock = threading.Lock()
        self._cache: dict[str, str] = {}

    def stemmer(self) -> Any:
        """The PyStemmer object (for handing to ``bm25s.tokenize`` in benchmarks)."""
        return self._stemmer

    def __call__(self, text: str) -> list[str]:
        words = [w for w in TOKEN_PATTERN.findall(text.lower()) if w not in self.stopwords]
        if self._stemmer is None:
            return words
        cache = self._cache
        missing = [w for w in set(words) if w not in cache]
        if missing:
            with self._lock:
                for word, stem in zip(missing, self._stemmer.stemWords(missing), strict=True):
                    cache[word] = stem
                if len(cache) > 500_000:  # bound memory on unbounded vocabularies
                    cache.clear()
        return [cache.get(w) or w for w in words]


@lru_cache(maxsize=16)
def tokenizer_for(language: str) -> Tokenizer:
    return Tokenizer(language)


def sentences(text: str) -> list[str]:
    """Split prose into sentences (a deterministic, good-enough splitter for citation checks)."""
    out: list[str] = []
    for block in re.split(r"\n\s*\n|\n(?=[-*#] )", text):
        block = " ".join(block.split())
        for piece in _SENTENCE.split(block):
            piece = piece.strip()
            # Citation markers written after the full stop ("... refunded. [S1]") belong to the
            # sentence before them, not to the next one.
            lead = _LEADING_MARKERS.match(piece)
            if lead and out:
                out[-1] = f"{out[-1]} {lead.group(0).strip()}"
                piece = piece[lead.end() :].strip()
            if piece:
                out.append(piece)
    return out


def citation_markers(sentence: str) -> list[int]:
    """``[S1]``-style markers in a sentence, as 1-based source numbers."""
    return [int(n) for n in _CITATION.findall(sentence)]


def strip_markers(text: str) -> str:
    return " ".join(_CITATION.sub("", text).split())


def content_words(text: str, language: str = "en") -> set[str]:
    """Stemmed content words: the unit for overlap-based support checks."""
    return set(tokenizer_for(language)(strip_markers(text)))


def overlap(claim: str, evidence: str, language: str = "en") -> float:
    """Share of the claim's content words found in the evidence (0..1; 1 for an empty claim)."""
    words = content_words(claim, language)
    if not words:
        return 1.0
    return len(words & content_words(evidence, language)) / len(words)
