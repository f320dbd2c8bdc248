"""The built-in ``local`` provider: no network, no key, deterministic and extractive.

Context convention (shared with retrieval): a system message holds one source per line::

    [S1] (source: <entry_id>#<chunk>) <text>

The answer is made of the source sentences with the best term overlap with the last user message,
in source order, each followed by its marker (``... [S1]``); ``citations`` lists the cited
``<entry_id>#<chunk>`` ids. When no sentence covers at least ``min_overlap`` of the question's
(IDF-weighted) terms, the answer is exactly :data:`REFUSAL`.

With ``response_format`` ``json_object``/``json_schema`` it builds a JSON object from ``key: value``
lines in the messages, coerced to the schema's property types (still extractive: it invents
nothing, so a field absent from the context stays absent).

Options: ``min_overlap`` (default 0.3), ``max_sentences`` (default 3).
"""

from __future__ import annotations

import math
import re
from collections.abc import AsyncGenerator
from typing import Any

import orjson

from charter.gateway.config import ProviderConfig
from charter.gateway.providers.base import text_of
from charter.gateway.types import ChatRequest, ProviderResult, StreamDelta

REFUSAL = "I don't know based on the provided sources."
SOURCE_LINE = re.compile(r"^\s*\[(S\d+)\]\s*\(source:\s*([^)]*)\)\s*(.*)$")
SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
WORD = re.compile(r"\w+", re.UNICODE)
KEY_VALUE = re.compile(r"^\s*(?:[-*]\s*)?([A-Za-z_][\w .-]{0,60}?)\s*:\s*(.+?)\s*$")
NUMBER = re.compile(r"-?\d+(?:[.,]\d+)?")
_STOP = """a an and are as at be been but by can could did do does for from had has have how i if in into is it
    its me my no not of on or our should so than that the their them then there these they this to us was
    we were what when where which who whom why will with would you your about any all also just tell please
    much many long take get
    der die das und ist ein eine wie was wer wo für mit von zu den dem des im auf es sie ich"""
STOPWORDS = frozenset(_STOP.split())


def terms(text: str) -> list[str]:
    """Lower-cased word stems minus stop words (a light suffix strip, enough for overlap)."""
    out = []
    for w in WORD.findall(text.lower()):
        if w in STOPWORDS:
            continue
        for suffix in ("ing", "es", "ed", "s"):
            if len(w) > len(suffix) + 3 and w.endswith(suffix):
                w = w[: -len(suffix)]
                break
        out.append(w)
    return out


def parse_sources(messages: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    """``(marker, source_id, text)`` for every source line in the system messages."""
    sources = []
    for m in messages:
        if m.get("role") != "system":
            continue
        for line in text_of(m.get("content")).splitlines():
            match = SOURCE_LINE.match(line)
            if match:
                sources.append((match.group(1), match.group(2).strip(), match.group(3).strip()))
    return sources


def question_of(messages: list[dict[str, Any]]) -> str:
    for m in reversed(messages):
        if m.get("role") == "user":
            return text_of(m.get("content"))
    return ""


def answer(messages: list[dict[str, Any]], min_overlap: float = 0.3, max_sentences: int = 3) -> tuple[str, list[str]]:
    """The extractive answer and the source ids it cites."""
    q_terms = set(terms(question_of(messages)))
    sentences: list[tuple[int, int, str, str, str, set[str]]] = []  # (src, idx, marker, id, text, terms)
    for si, (marker, source_id, text) in enumerate(parse_sources(messages)):
        for k, sentence in enumerate(s for s in SENTENCE_END.split(text) if s.strip()):
            sentences.append((si, k, marker, source_id, sentence.strip(), set(terms(sentence))))
    if not q_terms or not sentences:
        return REFUSAL, []
    n = len(sentences)
    df = {t: sum(1 for s in sentences if t in s[5]) for t in q_terms}
    idf = {t: math.log((n + 1) / (df[t] + 0.5)) + 1.0 for t in q_terms}
    # Coverage (share of the question's terms a sentence has) decides whether a sentence answers
    # at all; the IDF-weighted overlap ranks the sentences that do.
    scored = [(sum(idf[t] for t in q_terms & s[5]), len(q_terms & s[5]) / len(q_terms), s) for s in sentences]
    eligible = [item for item in scored if item[1] >= min_overlap]
    if not eligible:
        return REFUSAL, []
    best = max(score for score, _, _ in eligible)
    keep = sorted((item for item in eligible if item[0] >= 0.6 * best), key=lambda x: (-x[0], x[2][0], x[2][1]))[
        :max_sentences
    ]
    chosen = sorted((s for _, _, s in keep), key=lambda s: (s[0], s[1]))
    parts, citations = [], []
    for _, _, marker, source_id, sentence, _ in chosen:
        parts.append(f"{sentence} [{marker}]")
        if source_id not in citations:
            citations.append(source_id)
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


class LocalProvider:
    name = "local"

    def __init__(self, config: ProviderConfig) -> None:
        self.name = config.name
        self.min_overlap = float(config.options.get("min_overlap", 0.3))
        self.max_sentences = int(config.options.get("max_sentences", 3))

    def _run(self, request: ChatRequest) -> ProviderResult:
        fmt = request.params.get("response_format") or {}
        citations: list[str] = []
        if fmt.get("type") in ("json_object", "json_schema"):
            schema = (fmt.get("json_schema") or {}).get("schema")
            text = orjson.dumps(structured(request.messages, schema)).decode()
        else:
            text, citations = answer(request.messages, self.min_overlap, self.max_sentences)
        prompt_tokens = sum(count_tokens(text_of(m.get("content"))) for m in request.messages)
        return ProviderResult(
            text=text,
            model=request.model,
            usage={"prompt_tokens": prompt_tokens, "completion_tokens": count_tokens(text)},
            citations=citations,
        )

    async def complete(self, request: ChatRequest, timeout: float | None = None) -> ProviderResult:
        return self._run(request)

    async def stream(self, request: ChatRequest, timeout: float | None = None) -> AsyncGenerator[StreamDelta, None]:
        result = self._run(request)
        words = result.text.split(" ")
        for i, word in enumerate(words):
            yield StreamDelta(text=word if i == 0 else " " + word)
        yield StreamDelta(finish_reason="stop", usage=result.usage)

    async def aclose(self) -> None:
        return None


def factory(config: ProviderConfig) -> LocalProvider:
    return LocalProvider(config)
