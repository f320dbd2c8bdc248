"""Releases: named bundles of entry changes, reviewed as a whole and published atomically.

This module holds the release tables and the reads; the writes are the actions in
:mod:`charter.content.actions.release`, :mod:`charter.content.actions.workflow` and
:mod:`charter.content.actions.rollback`.

A release moves through ``draft → in_review → approved → scheduled → published`` (or
``rejected``, with a comment, back to an editable state); a published release can be
``rolled_back``. Each item is one change to one entry: ``create`` (new entry with ``data``),
``update`` (new content ``data``, or publish a pinned draft ``revision``) or ``unpublish``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from charter.db.tables import JSON, TS, metadata
from charter.exceptions import NotFound

STATUSES = ("draft", "in_review", "approved", "scheduled", "published", "rejected", "rolled_back", "failed")
ITEM_ACTIONS = ("create", "update", "unpublish")

releases = sa.Table(
    "releases",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("description", sa.Text, nullable=True),
    sa.Column("status", sa.String(20), nullable=False),
    # Bumped whenever the content changes after submission, so older approvals stop counting.
    sa.Column("round", sa.Integer, nullable=False, server_default="1"),
    sa.Column("created_by", sa.String(200), nullable=False),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("updated_at", TS, nullable=False),
    sa.Column("scheduled_at", TS, nullable=True),
    sa.Column("schedule_tz", sa.String(64), nullable=True),
    sa.Column("published_at", TS, nullable=True),
    sa.Column("published_by", sa.String(200), nullable=True),
    sa.Column("publish_delay_ms", sa.Float, nullable=True),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("rolled_back_at", TS, nullable=True),
    sa.Column("rolled_back_by", sa.String(200), nullable=True),
    sa.Index("ix_releases_status_scheduled", "status", "scheduled_at"),
)

release_items = sa.Table(
    "release_items",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("release_id", sa.String(36), sa.ForeignKey("releases.id"), nullable=False),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("action", sa.String(20), nullable=False),  # create | update | unpublish
    sa.Column("entry_id", sa.String(36), nullable=False),
    sa.Column("type", sa.String(100), nullable=False),
    sa.Column("data", JSON, nullable=True),  # the content as it will publish (create, update)
    sa.Column("revision", sa.Integer, nullable=True),  # update without data: the pinned draft revision
    sa.Column("base_revision", sa.Integer, nullable=True),  # the entry's current revision when added
    sa.Column("added_by", sa.String(200), nullable=False),
    sa.Column("added_at", TS, nullable=False),
    # Filled in when the release publishes, so a rollback knows what to restore.
    sa.Column("before_revision", sa.Integer, nullable=True),
    sa.Column("before_published", sa.Integer, nullable=True),
    sa.Column("published_revision", sa.Integer, nullable=True),
    sa.UniqueConstraint("release_id", "entry_id", name="uq_release_items_release_entry"),
)

release_reviews = sa.Table(
    "release_reviews",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("release_id", sa.String(36), sa.ForeignKey("releases.id"), nullable=False),
    sa.Column("round", sa.Integer, nullable=False),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("role", sa.String(20), nullable=False),
    sa.Column("decision", sa.String(20), nullable=False),  # approve | reject
    sa.Column("comment", sa.Text, nullable=True),
    sa.Column("at", TS, nullable=False),
    sa.Index("ix_release_reviews_release", "release_id", "round"),
)


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


@dataclass(frozen=True)
class ReleaseItem:
    id: str
    action: str
    entry_id: str
    type: str
    data: dict[str, Any] | None
    revision: int | None
    base_revision: int | None
    added_by: str
    added_at: datetime
    before_revision: int | None
    before_published: int | None
    published_revision: int | None

    @classmethod
    def from_row(cls, row: Any) -> ReleaseItem:
        return cls(
            row.id,
            row.action,
            row.entry_id,
            row.type,
            row.data,
            row.revision,
            row.base_revision,
            row.added_by,
            _aware(row.added_at),  # type: ignore[arg-type]
            row.before_revision,
            row.before_published,
            row.published_revision,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "action": self.action,
            "entry_id": self.entry_id,
            "type": self.type,
            "data": self.data,
            "revision": self.revision,
            "base_revision": self.base_revision,
            "added_by": self.added_by,
            "added_at": self.added_at.isoformat(),
            "before_revision": self.before_revision,
            "before_published": self.before_published,
            "published_revision": self.published_revision,
        }


@dataclass(frozen=True)
class Review:
    round: int
    actor: str
    role: str
    decision: str
    comment: str | None
    at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "round": self.round,
            "actor": self.actor,
            "role": self.role,
            "decision": self.decision,
            "comment": self.comment,
            "at": self.at.isoformat(),
        }


@dataclass(frozen=True)
class Release:
    id: str
    name: str
    description: str | None
    status: str
    round: int
    created_by: str
    created_at: datetime
    updated_at: datetime
    scheduled_at: datetime | None
    schedule_tz: str | None
    published_at: datetime | None
    published_by: str | None
    publish_delay_ms: float | None
    error: str | None
    rolled_back_at: datetime | None
    rolled_back_by: str | None
    items: list[ReleaseItem] = field(default_factory=list)
    reviews: list[Review] = field(default_factory=list)

    @classmethod
    def from_row(cls, row: Any) -> Release:
        return cls(
            row.id,
            row.name,
            row.description,
            row.status,
            row.round,
            row.created_by,
            _aware(row.created_at),  # type: ignore[arg-type]
            _aware(row.updated_at),  # type: ignore[arg-type]
            _aware(row.scheduled_at),
            row.schedule_tz,
            _aware(row.published_at),
            row.published_by,
            row.publish_delay_ms,
            row.error,
            _aware(row.rolled_back_at),
            row.rolled_back_by,
        )

    @property
    def authors(self) -> set[str]:
        """Everyone who authored part of this change (the creator and whoever added or edited an
        item); under a no-self-approval policy they may not approve it."""
        return {self.created_by, *(i.added_by for i in self.items)}

    @property
    def types(self) -> list[str]:
        return sorted({i.type for i in self.items})

    def approvals(self) -> list[Review]:
        """Approvals that count: those given in the current review round."""
        return [r for r in self.reviews if r.round == self.round and r.decision == "approve"]

    def to_dict(self) -> dict[str, Any]:
        local = None
        if self.scheduled_at and self.schedule_tz:
            from zoneinfo import ZoneInfo

            local = self.scheduled_at.astimezone(ZoneInfo(self.schedule_tz)).isoformat()
        return {
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "status": self.status,
            "round": self.round,
            "created_by": self.created_by,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            "schedule": {"at": _iso(self.scheduled_at), "timezone": self.schedule_tz, "local": local}
            if self.scheduled_at
            else None,
            "published_at": _iso(self.published_at),
            "published_by": self.published_by,
            "publish_delay_ms": self.publish_delay_ms,
            "error": self.error,
            "rolled_back_at": _iso(self.rolled_back_at),
            "rolled_back_by": self.rolled_back_by,
            "items": [i.to_dict() for i in self.items],
            "reviews": [r.to_dict() for r in self.reviews],
        }


def get_release(conn: sa.Connection, release_id: str, *, lock: bool = False) -> Release:
    """The release with its items (in order) and reviews. ``lock`` takes a row lock on PostgreSQL
    (SQLite writers are serialised by ``BEGIN IMMEDIATE``)."""
    q = sa.select(releases).where(releases.c.id == release_id)
    if lock and conn.dialect.name == "postgresql":
        q = q.with_for_update()
    row = conn.execute(q).first()
    if row is None:
        raise NotFound(f"release {release_id!r} not found")
    rel = Release.from_row(row)
    items = conn.execute(
        sa.select(release_items).where(release_items.c.release_id == release_id).order_by(release_items.c.position)
    )
    rel.items.extend(ReleaseItem.from_row(r) for r in items)
    reviews = conn.execute(
        sa.select(release_reviews).where(release_reviews.c.release_id == release_id).order_by(release_reviews.c.id)
    )
    rel.reviews.extend(
        Review(r.round, r.actor, r.role, r.decision, r.comment, _aware(r.at))  # type: ignore[arg-type]
        for r in reviews
    )
    return rel


def list_releases(
    conn: sa.Connection, status: str | None = None, limit: int = 100, entry_id: str | None = None
) -> list[Release]:
    """Releases, newest first, without items; ``entry_id`` keeps those that change that entry."""
    q = sa.select(releases).order_by(releases.c.created_at.desc(), releases.c.id).limit(limit)
    if status:
        q = q.where(releases.c.status == status)
    if entry_id:
        q = q.where(
            releases.c.id.in_(sa.select(release_items.c.release_id).where(release_items.c.entry_id == entry_id))
        )
    return [Release.from_row(r) for r in conn.execute(q)]
