"""Cut an entry's document into chunks, following the contract's chunking rules.

A chunk never spans two Markdown sections when ``by_heading`` is on; a section longer than
``max_tokens`` words is cut into windows that overlap by ``overlap`` words, so a sentence on a
window boundary is still found whole in one of them. Words stand in for model tokens: they are
what BM25 scores and what a reader counts.

Structured fields become readable passages, each cited to the field it came from:

* a list of strings (a plan's ``features``) is one sentence: "Features: a, b and c.";
* an object (a page section, an FAQ item, a feature card) is one passage of its prose strings
  (sentences, or strings of six words or more), headed by its short strings (title, question, name)
  under its parent's heading; identifiers, URLs and the section ``intent`` are not text; its
  objects and lists of objects become passages of their own (``sections[4].items[1]``);
* a source's ``passages`` are templates over the document's fields, written per language
  ("The {name} plan costs {price} {currency}."), so numbers and names read as what they mean.

Only text written in the chunk's locale is taken: a localized field the locale does not have itself
(it would be the fallback locale's words) is left to that locale's index, where the fallback chain
of a question finds it (:func:`own_fields`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from charter.retrieval.contract import Chunking, Passage, Source

_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$", re.MULTILINE)
_PLACEHOLDER = re.compile(r"{([A-Za-z_][\w-]*)}")
_ID_LIKE = re.compile(
    r"^(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|https?://\S+|/\S*|#\S*)$", re.I
)
#: Keys of structured content that hold identifiers or presentation, never text a visitor reads.
SKIP_KEYS = frozenset({"id", "intent", "href", "url", "slug", "icon", "image", "src", "plans", "layout"})
#: Keys whose short string heads an object's passage, in order of preference.
LABEL_KEYS = ("title", "question", "name", "label", "heading", "author")
#: The word that joins the last two items of a list, per language.
AND = {"en": "and", "de": "und", "fr": "et", "es": "y", "it": "e", "nl": "en", "pt": "e", "sv": "och", "da": "og"}


@dataclass(frozen=True)
class Piece:
    """A chunk before it is tied to an entry: the heading path it sits under, its text and the
    field it was built from."""

    heading: str
    text: str
    field: str = ""


def field_values(doc: Any, path: str) -> list[str]:
    """Every string at ``path`` in ``doc`` (``a.b``, ``items[].text``); nested strings flattened."""
    values: list[Any] = [doc]
    for part in path.split("."):
        many = part.endswith("[]")
        key = part.removesuffix("[]")
        nxt: list[Any] = []
        for value in values:
            if isinstance(value, dict) and key in value:
                item = value[key]
                if many and isinstance(item, list):
                    nxt.extend(item)
                elif not many:
                    nxt.append(item)
        values = nxt
    out: list[str] = []
    for value in values:
        out.extend(_strings(value))
    return out


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        if value.strip():
            yield value
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        yield str(value)


def sections(text: str, by_heading: bool) -> list[Piece]:
    """Split Markdown at headings; each piece carries its heading path (``A > B``)."""
    if not by_heading:
        return [Piece("", text)]
    pieces: list[Piece] = []
    stack: list[tuple[int, str]] = []
    last = 0
    heading = ""
    for match in _HEADING.finditer(text):
        body = text[last : match.start()]
        if body.strip():
            pieces.append(Piece(heading, body))
        level = len(match.group(1))
        stack = [(lvl, h) for lvl, h in stack if lvl < level] + [(level, match.group(2))]
        heading = " > ".join(h for _, h in stack)
        last = match.end()
    body = text[last:]
    if body.strip():
        pieces.append(Piece(heading, body))
    if not pieces and heading:
        pieces.append(Piece(heading, heading))
    return pieces


def windows(words: list[str], max_tokens: int, overlap: int) -> Iterator[list[str]]:
    if len(words) <= max_tokens:
        yield words
        return
    step = max(1, max_tokens - overlap)
    start = 0
    while True:
        yield words[start : start + max_tokens]
        if start + max_tokens >= len(words):
            return
        start += step


def field_items(doc: Any, path: str) -> list[tuple[str, Any]]:
    """Every value at ``path`` in ``doc`` with its pointer (``sections[4]``, ``features``)."""
    values: list[tuple[str, Any]] = [("", doc)]
    for part in path.split("."):
        many = part.endswith("[]")
        key = part.removesuffix("[]")
        nxt: list[tuple[str, Any]] = []
        for pointer, value in values:
            if isinstance(value, dict) and key in value:
                item = value[key]
                where = f"{pointer}.{key}" if pointer else key
                if many and isinstance(item, list):
                    nxt.extend((f"{where}[{i}]", v) for i, v in enumerate(item))
                elif not many:
                    nxt.append((where, item))
        values = nxt
    return values


def join_items(items: list[str], language: str = "en") -> str:
    """``a, b and c`` in ``language``."""
    items = [i.strip().rstrip(".") for i in items if i.strip()]
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {AND.get(language, 'and')} {items[-1]}"


def _sentence(text: str) -> str:
    text = " ".join(text.split())
    return text if text[-1:] in ".!?" else text + "."


def _is_prose(text: str) -> bool:
    text = text.strip()
    return text[-1:] in ".!?" or len(text.split()) >= 6


def humanise(key: str) -> str:
    """``dataRetention`` / ``data_retention`` -> ``Data retention``."""
    words = re.sub(r"([a-z])([A-Z])", r"\1 \2", key).replace("_", " ").replace("-", " ").split()
    return " ".join(words).capitalize()


def structured_pieces(value: Any, pointer: str, heading: str, language: str = "en") -> list[Piece]:
    """Readable passages of a structured value (see the module docstring)."""
    if isinstance(value, str):
        return [] if _ID_LIKE.match(value.strip()) else [Piece(heading, value, pointer)]
    if isinstance(value, list):
        if all(isinstance(v, str | int | float) and not isinstance(v, bool) for v in value):
            items = [str(v) for v in value if str(v).strip() and not _ID_LIKE.match(str(v).strip())]
            if not items:
                return []
            label = humanise(re.sub(r"\[\d+\]$", "", pointer.rsplit(".", 1)[-1]))
            return [Piece(heading, _sentence(f"{label}: {join_items(items, language)}"), pointer)]
        out: list[Piece] = []
        for i, item in enumerate(value):
            out.extend(structured_pieces(item, f"{pointer}[{i}]", heading, language))
        return out
    if isinstance(value, int | float) and not isinstance(value, bool):
        return [Piece(heading, str(value), pointer)]
    if not isinstance(value, dict):
        return []
    prose: list[str] = []
    labels: dict[str, str] = {}
    children: list[tuple[str, Any]] = []
    for key, item in value.items():
        if key in SKIP_KEYS:
            continue
        if isinstance(item, str):
            text = item.strip()
            if not text or _ID_LIKE.match(text):
                continue
            if _is_prose(text) and key not in ("title", "name", "label", "author", "role"):
                prose.append(_sentence(text))
            else:
                labels[key] = text
        elif isinstance(item, dict | list):
            children.append((key, item))
    title: str | None = next((labels[k] for k in LABEL_KEYS if k in labels), None)
    if title is None and isinstance(value.get("intent"), str):
        title = humanise(value["intent"])
    here = " > ".join(part for part in (heading, title or "") if part)
    out = []
    if prose:
        # A question's own words open its answer ("Is there a free plan? Yes. ..."), so the
        # passage matches the way visitors ask.
        out.append(Piece(here, " ".join(prose), pointer))
    for key, item in children:
        out.extend(structured_pieces(item, f"{pointer}.{key}", here, language))
    return out


def render_passage(doc: dict[str, Any], passage: Passage, language: str) -> tuple[str, str] | None:
    """(text, field) of a passage template for ``language``, or None when the template has no
    wording for the language or the document lacks a field it uses."""
    template = passage.text if isinstance(passage.text, str) else passage.text.get(language)
    if template is None:
        return None
    values: dict[str, str] = {}
    for name in _PLACEHOLDER.findall(template):
        value = doc.get(name)
        if value is None or value == "" or value == []:
            return None
        if isinstance(value, list):
            value = join_items([str(v) for v in value if isinstance(v, str | int | float)], language)
        elif isinstance(value, float) and value.is_integer():
            value = int(value)
        values[name] = str(value)
    fields = _PLACEHOLDER.findall(template)
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], template), passage.field or (fields[0] if fields else "")


def passage_fields(passage: Passage, language: str) -> list[str]:
    template = passage.text if isinstance(passage.text, str) else passage.text.get(language, "")
    return _PLACEHOLDER.findall(template)


def chunk_document(
    doc: dict[str, Any],
    source: Source,
    rules: Chunking,
    *,
    language: str = "en",
    own: Callable[[str], bool] | None = None,
    localized: frozenset[str] = frozenset(),
) -> list[Piece]:
    """The chunks of one document for one source, in reading order. ``own(field)`` says whether a
    top-level field's text is written in this chunk's locale (default: every field is); a
    passage template may also use fields that are not ``localized`` (a price, a currency)."""
    mine = own or (lambda _field: True)
    out: list[Piece] = []
    for passage in source.passages:
        if not all(mine(f) or f not in localized for f in passage_fields(passage, language)):
            continue
        rendered = render_passage(doc, passage, language)
        if rendered is not None:
            out.append(Piece("", rendered[0], rendered[1]))
    for path in source.fields:
        if not mine(path.split(".")[0].removesuffix("[]")):
            continue
        for pointer, value in field_items(doc, path):
            raw = structured_pieces(value, pointer, "", language) if not isinstance(value, str) else []
            if isinstance(value, str):
                raw = [Piece("", value, pointer)]
            for item in raw:
                for piece in sections(item.text, rules.by_heading):
                    heading = " > ".join(h for h in (item.heading, piece.heading) if h)
                    words = piece.text.split()
                    for window in windows(words, rules.max_tokens, rules.overlap):
                        if window:
                            out.append(Piece(heading, " ".join(window), item.field))
    return out


def document_title(doc: dict[str, Any], source: Source) -> str:
    if source.title:
        values = field_values(doc, source.title)
        if values:
            return values[0]
    for key in ("title", "name", "headline", "claim"):
        if isinstance(doc.get(key), str):
            return str(doc[key])
    return ""
