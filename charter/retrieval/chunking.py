"""Cut an entry's document into chunks, following the contract's chunking rules.

A chunk never spans two Markdown sections when ``by_heading`` is on; a section longer than
``max_tokens`` words is cut into windows that overlap by ``overlap`` words, so a sentence on a
window boundary is still found whole in one of them. Words stand in for model tokens: they are
what BM25 scores and what a reader counts.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from charter.retrieval.contract import Chunking, Source

_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$", re.MULTILINE)


@dataclass(frozen=True)
class Piece:
    """A chunk before it is tied to an entry: the heading path it sits under and its text."""

    heading: str
    text: str


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


def chunk_document(doc: dict[str, Any], source: Source, rules: Chunking) -> list[Piece]:
    """The chunks of one document for one source, in reading order."""
    out: list[Piece] = []
    for path in source.fields:
        for value in field_values(doc, path):
            for piece in sections(value, rules.by_heading):
                words = piece.text.split()
                for window in windows(words, rules.max_tokens, rules.overlap):
                    if window:
                        out.append(Piece(piece.heading, " ".join(window)))
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
