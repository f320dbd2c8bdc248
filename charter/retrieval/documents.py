"""What an entry's published revision contributes to the indexes.

Every index with a source for the entry's type gets, in each locale the type supports, the
entry's document resolved for that locale, cut into pieces by the index's chunking rules
(:mod:`charter.retrieval.chunking`); each piece becomes a :class:`Chunk` carrying the source's
title, its URL template filled from the document and the field it was built from.

A locale's index holds only what is written in that locale: a localized field the locale does not
have itself (the resolved document would show the fallback locale's words) is indexed once, in
the locale it is written in, and a question reaches it along the locale fallback chain
(:meth:`~charter.retrieval.service.RetrievalService.answer_sources`). Fields that are not
localized (numbers, identifiers) belong to every locale.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from charter.retrieval.chunking import chunk_document, document_title
from charter.retrieval.index import Chunk
from charter.retrieval.text import language_of

if TYPE_CHECKING:
    from charter.content.models import Entry, Revision
    from charter.retrieval.contract import Contract
    from charter.schemas.registry import Registry


def chunks_for(
    registry: Registry, contract: Contract, entry: Entry, revision: Revision
) -> dict[tuple[str, str], list[Chunk]]:
    """Every chunk an entry's published revision contributes, by (index, locale)."""
    out: dict[tuple[str, str], list[Chunk]] = {}
    ct = registry.types.get(entry.type)
    if ct is None:
        return out
    for name, source in contract.indexes_for_type(entry.type):
        rules = contract.chunking_for(name)
        for locale in ct.locales.supported:
            doc, _resolved = ct.resolve(revision.data, locale)
            bucket = out.setdefault((name, locale), [])
            title = document_title(doc, source)
            url = source.url.format_map(_UrlFields(doc, entry, locale))
            own = _own_fields(revision.data, locale, ct.locales.default)
            pieces = chunk_document(doc, source, rules, language=language_of(locale), own=own, localized=ct.localized)
            for piece in pieces:
                bucket.append(
                    Chunk(
                        index=name,
                        locale=locale,
                        entry_id=entry.id,
                        revision=revision.number,
                        chunk=len(bucket),
                        type=entry.type,
                        title=title,
                        heading=piece.heading,
                        text=piece.text,
                        url=url,
                        field=piece.field,
                    )
                )
    return out


def _own_fields(data: dict[str, Any], locale: str, default: str) -> Callable[[str], bool]:
    """Whether a top-level field's text is written in ``locale``: every field in the default
    locale; elsewhere the fields the locale has values of its own for."""
    if locale == default:
        return lambda _field: True
    mine = set((data.get(locale) or {}).keys())
    return mine.__contains__


class _UrlFields(dict[str, str]):
    """``str.format_map`` fields for a source's URL template: entry fields, slug, id, locale, type."""

    def __init__(self, doc: dict[str, Any], entry: Entry, locale: str) -> None:
        super().__init__(
            id=entry.id,
            entry_id=entry.id,
            slug=entry.slug or str(doc.get("slug", entry.id)),
            locale=locale,
            type=entry.type,
        )
        self.update({k: str(v) for k, v in doc.items() if isinstance(v, str | int | float)})
        self["entry_id"] = entry.id

    def __missing__(self, key: str) -> str:
        return ""
