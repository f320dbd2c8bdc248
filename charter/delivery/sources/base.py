"""The content-source interface. A source returns published content already in the v1 envelope,
so front ends see the same shape whichever CMS is behind Charter."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from charter.delivery.envelope import Rendered


@dataclass
class RenderedList:
    items: list[Rendered]
    next_cursor: str | None
    surrogate_keys: list[str] = field(default_factory=list)


class ContentSource(Protocol):
    """Implementers return None (or an empty list) when nothing published matches; they raise
    ``charter.exceptions`` errors for bad input (unknown type or locale)."""

    def page(self, slug: str, locale: str | None) -> Rendered | None: ...

    def entry(self, type_name: str, entry_id: str, locale: str | None) -> Rendered | None: ...

    def entries(
        self, type_name: str, locale: str | None, *, cursor: str | None, limit: int, filters: dict[str, str]
    ) -> RenderedList: ...
