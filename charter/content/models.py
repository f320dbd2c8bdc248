"""Entry and Revision: what callers of the store and the actions get back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Entry:
    id: str
    type: str
    slug: str | None
    current_revision: int
    published_revision: int | None
    published_at: datetime | None
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None
    created_by: str

    @classmethod
    def from_row(cls, row: Any) -> Entry:
        return cls(
            id=row.id,
            type=row.type,
            slug=row.slug,
            current_revision=row.current_revision,
            published_revision=row.published_revision,
            published_at=_aware(row.published_at),
            created_at=_aware(row.created_at),  # type: ignore[arg-type]
            updated_at=_aware(row.updated_at),  # type: ignore[arg-type]
            deleted_at=_aware(row.deleted_at),
            created_by=row.created_by,
        )

    @property
    def status(self) -> str:
        """draft (never published), published, changed (published, with a newer draft), deleted."""
        if self.deleted_at is not None:
            return "deleted"
        if self.published_revision is None:
            return "draft"
        return "published" if self.published_revision == self.current_revision else "changed"

    @property
    def etag(self) -> str:
        """Strong entity tag of the current revision (RFC 9110 §8.8.3)."""
        return f'"{self.id}.{self.current_revision}"'

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": self.type,
            "slug": self.slug,
            "status": self.status,
            "current_revision": self.current_revision,
            "published_revision": self.published_revision,
            "published_at": self.published_at.isoformat() if self.published_at else None,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            "created_by": self.created_by,
        }


@dataclass(frozen=True)
class Revision:
    entry_id: str
    number: int
    data: dict[str, Any]
    schema_id: str
    schema_version: str
    author: str
    created_at: datetime
    message: str | None
    action: str

    @classmethod
    def from_row(cls, row: Any) -> Revision:
        return cls(
            entry_id=row.entry_id,
            number=row.number,
            data=row.data,
            schema_id=row.schema_id,
            schema_version=row.schema_version,
            author=row.author,
            created_at=_aware(row.created_at),  # type: ignore[arg-type]
            message=row.message,
            action=row.action,
        )

    def to_dict(self, with_data: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {
            "number": self.number,
            "schema": {"id": self.schema_id, "version": self.schema_version},
            "author": self.author,
            "created_at": self.created_at.isoformat(),
            "message": self.message,
            "action": self.action,
        }
        if with_data:
            out["data"] = self.data
        return out
