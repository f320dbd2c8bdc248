"""The content-type registry: a project's ``content-types/*.schema.json`` loaded as contracts.

A content type is a JSON Schema 2020-12 document with ``$id`` ``<name>.v<major>``, a semver
``version`` and an ``x-charter`` block for what JSON Schema cannot say::

    "x-charter": {
      "domain": "marketing",                 # owner, for the schema-break-rate metric
      "slug": "slug",                        # field that addresses the entry in /v1/pages/{slug}
      "localized": ["title", "sections"],    # fields with a value per locale
      "locales": {"default": "en", "required": ["en", "de-DE"],
                  "fallbacks": {"de-AT": ["de-DE", "en"], "de-DE": ["en"]}},
      "presentation": ["layout"],            # presentation-only fields this type explicitly allows
      "policy": "TOLERANT"                   # compatibility policy for schema evolution (the default)
    }

Entry data is stored per locale: ``{locale: document}``. The default locale holds the full
document; every other locale holds only localised fields. Reading a locale applies its fallback
chain field by field (:meth:`ContentType.resolve`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from charter.exceptions import NotFound, SchemaFileError
from charter.schemas.content_type import ContentType, LocaleRules
from charter.schemas.lint import lint_directory

__all__ = ["ContentType", "LocaleRules", "Registry"]


@dataclass
class Registry:
    """The content types of one project, by name; immutable once loaded."""

    types: dict[str, ContentType]
    directory: Path | None = None

    @classmethod
    def load(cls, directory: Path, extra_intents: tuple[str, ...] = ()) -> Registry:
        """Load and lint every ``*.schema.json``; any lint error stops the load (SchemaFileError)."""
        types, errors = lint_directory(directory, extra_intents)
        if errors:
            files = sorted({e.file or "" for e in errors})
            raise SchemaFileError(
                detail=f"{len(errors)} problem(s) in content types: {', '.join(files)}", errors=errors
            )
        return cls(types={t.name: t for t in types}, directory=directory)

    def get(self, name_or_id: str) -> ContentType:
        name, _, major = name_or_id.partition(".v")
        ct = self.types.get(name)
        if ct is None or (major and str(ct.major) != major):
            raise NotFound(f"unknown content type {name_or_id!r}")
        return ct

    def __iter__(self) -> Iterator[ContentType]:
        return iter(self.types.values())

    def __contains__(self, name: str) -> bool:
        return name in self.types
