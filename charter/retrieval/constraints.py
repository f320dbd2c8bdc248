"""Constraints a question puts on its answer: a name qualifying what is asked ("the *Team* plan")
that the content mentions must be held by what the answer cites, or the answer is about a sibling
of what was asked and is refused (``unsupported_constraint``, docs/retrieval.md)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from charter.retrieval.index import COMPOUNDING, compound_part, identifier_words
from charter.retrieval.service import mentions
from charter.retrieval.text import QUESTION_WORDS, language_of, named_terms, tokenizer_for

if TYPE_CHECKING:
    from charter.retrieval.service import RetrievalService


def modifies(name: str, question: str, language: str) -> bool:
    """Whether ``name`` qualifies a word after it in ``question`` ("the *Team* plan", "*Okta* SSO",
    "*Team*-Plan"): a constraint on what is asked, not its subject ("Can I run *Lumen* on my own
    servers?"). In German a name is only ever found as the first part of a hyphenated compound
    (:func:`~charter.retrieval.text.named_terms`), which qualifies the compound's head."""
    drop = QUESTION_WORDS.get(language, frozenset()) | tokenizer_for(language).stopwords
    for m in re.finditer(rf"(?<!\w){re.escape(name)}(?!\w)", question):
        before = re.search(r"(\w+)\s+$", question[: m.start()])
        if before and before.group(1).lower() in _AUXILIARIES:
            continue  # "Does Lumen support Okta?": the subject of the verb after it
        after = re.match(r"[\s-]+(\w+)", question[m.end() :])
        if after and after.group(1).lower() not in drop:
            return True
    return False


#: Code in a source (```lumen.track('signup', {plan: 'team'})```) and the string literals in it: an
#: example value, not a mention of the thing a question names ("the Team plan").
_CODE = re.compile(r"`[^`]*`")
_LITERAL = re.compile(r"'[^']*'|\"[^\"]*\"")


#: Verbs whose subject follows them in a question ("Does *Lumen* support ...", "Kann *Lumen* ...").
_AUXILIARIES = frozenset(
    re.findall(
        r"\w+",
        """do does did is are was were can could will would should may might has have
        kann können ist sind wird werden hat haben unterstützt bietet""",
    )
)


def unsupported_names(
    service: RetrievalService, question: str, locale: str, texts: list[str], language: str | None = None
) -> list[str]:
    """The names of ``question`` (:func:`~charter.retrieval.text.named_terms`: ``Team`` in "the
    Team plan", ``Enterprise``, ``Okta``) that the content of ``locale`` mentions but none of
    ``texts`` (what the answer cites: its sources' text and headings) holds, neither as written
    nor as a synonym of the shipped lexicon, after ``locale``'s analyzer: the answer is about a
    sibling of what was asked ("What uptime SLA does the Team plan have?" answered from the
    Enterprise plan). Only a name that qualifies a word after it counts (:func:`modifies`):
    "Can I run Lumen on my own servers?" is about Lumen, not constrained to it; a name no
    content mentions is left to the evidence gate (:meth:`RetrievalService.unknown_names`). Empty
    when the question's language is not ``locale``'s (a locale fallback's content is read through
    translations)."""
    lang = language or language_of(locale)
    if language_of(locale) != lang:
        return []
    names = named_terms(question, lang)
    if not names:
        return []
    tokenize = tokenizer_for(lang)
    df = service.locale_statistics(locale)[2]
    held: set[str] = set()
    for text in texts:
        text = _CODE.sub(lambda m: _LITERAL.sub(" ", m.group(0)), text)
        held.update(tokenize(text))
        held.update(tokenize(identifier_words(text)))

    def holds(term: str) -> bool:
        if term in held:
            return True
        return lang in COMPOUNDING and any(compound_part(w, term) or compound_part(term, w) for w in held)

    out: list[str] = []
    for name in dict.fromkeys(names):
        words = tokenize(name)
        if not words or not all(mentions(t, df, lang) for t in words):
            continue  # unknown: the evidence gate's (unknown_names)
        if not modifies(name, question, lang):
            continue  # the question's subject, not a constraint on it
        if all(holds(t) for t in words):
            continue
        spelled = [alt for m in service.lexicon.matches(name, lang) for alt in m.alternatives]
        if any(all(holds(t) for t in tokenize(alt)) for alt in spelled if tokenize(alt)):
            continue
        out.append(name)
    return out
