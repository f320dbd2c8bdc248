"""The v1 delivery envelope: one normalised shape for every payload, whatever the source.

    {"id", "type", "schema": {"id", "version"}, "locale": {"requested", "resolved"},
     "revision", "published_at", "data", "included": [...]}

``included`` carries the published entries that ``data`` references (resolved in the same
locale), so a front end renders a page from one response. Referenced ids stay in ``data`` exactly
as the schema says; nothing is rewritten in place.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from charter.content.models import Entry, Revision
from charter.schemas.references import find_references
from charter.schemas.registry import ContentType


@dataclass
class Rendered:
    """A rendered delivery payload plus the surrogate keys that invalidate it."""

    body: dict[str, Any]
    surrogate_keys: list[str] = field(default_factory=list)
    # Render facts for logs and traces (the seed: log content ids and schema versions with every render).
    facts: dict[str, Any] = field(default_factory=dict)


def iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.isoformat().replace("+00:00", "Z")


def envelope(ct: ContentType, entry: Entry, revision: Revision, requested: str | None) -> dict[str, Any]:
    doc, resolved = ct.resolve(revision.data, requested)
    return {
        "id": entry.id,
        "type": entry.type,
        "schema": {"id": revision.schema_id, "version": revision.schema_version},
        "locale": {"requested": requested or ct.locales.default, "resolved": resolved},
        "revision": revision.number,
        "published_at": iso(entry.published_at),
        "data": doc,
    }


def references_of(ct: ContentType, doc: dict[str, Any]) -> list[str]:
    seen: dict[str, None] = {}
    for _ptr, _target, ref in find_references(ct.schema, doc):
        seen[ref] = None
    return list(seen)
