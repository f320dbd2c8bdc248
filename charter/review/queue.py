"""The review queue: the one set of actions behind ``/v1/manage/review``, ``charter review`` and
the admin's review page.

One reviewer at a time: :func:`claim` holds an item for the policy's ``lease`` (another
reviewer's claim or label is refused with 409 until it runs out), and :func:`label` is a single
compare-and-set ``UPDATE`` on a pending item not held by someone else (and, when the caller
passes the ``version`` it saw, not changed since), so two reviewers labelling at once never
overwrite each other: one wins, the other gets 409. A label is final.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from charter.auth.roles import Actor, Permission
from charter.exceptions import BadRequest, Conflict, Forbidden, NotFound
from charter.review.tables import review_items as t

LABELS = ("correct", "incorrect", "should_have_refused", "citation_wrong", "unsafe")
STATUSES = ("pending", "reviewed")
REASONS = ("high_risk", "regulated_index", "refusal", "low_retrieval_score", "high_risk_tool", "sampled")
MAX_COMMENT = 4000
MAX_FACTS = 20


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def reviewer(actor: Actor) -> str:
    return f"{actor.kind}:{actor.name}"


def _require(actor: Actor, permission: Permission) -> None:
    if not actor.can(permission):
        verb = "read" if permission == Permission.READ else "label items of"
        raise Forbidden(f"role {actor.role.value!r} may not {verb} the review queue")


def to_dict(row: Any, now: datetime | None = None) -> dict[str, Any]:
    now = now or _now()
    data = dict(row._mapping)
    for key in ("created_at", "claimed_until", "reviewed_at"):
        data[key] = _aware(data[key])
    held = data["claimed_by"] if data["claimed_until"] is not None and data["claimed_until"] > now else None
    data["claimed_by"] = held if data["status"] == "pending" else None
    data["claimed_until"] = data["claimed_until"] if held and data["status"] == "pending" else None
    data["age_seconds"] = round((now - data["created_at"]).total_seconds(), 1)
    return data


@dataclass(frozen=True)
class ItemFilter:
    status: str | None = "pending"
    reason: str | None = None
    intent: str | None = None
    prompt: str | None = None
    label: str | None = None

    def __post_init__(self) -> None:
        if self.status is not None and self.status not in STATUSES:
            raise BadRequest(f"status is one of {', '.join(STATUSES)}")
        if self.reason is not None and self.reason not in REASONS:
            raise BadRequest(f"reason is one of {', '.join(REASONS)}")
        if self.label is not None and self.label not in LABELS:
            raise BadRequest(f"label is one of {', '.join(LABELS)}")


def list_items(rt: Any, actor: Actor, flt: ItemFilter, limit: int = 50, *, sync: bool = True) -> list[dict[str, Any]]:
    """Items oldest first (the queue's order), ``limit`` at most; syncs from the audit record first."""
    _require(actor, Permission.READ)
    if not 1 <= limit <= 500:
        raise BadRequest("limit is from 1 to 500")
    if sync:
        from charter.review.collect import sync as do_sync

        do_sync(rt)
    q = sa.select(t).order_by(t.c.created_at, t.c.id)
    if flt.reason is None:  # a reason is inside a JSON list: filtered below, then cut to ``limit``
        q = q.limit(limit)
    for column in ("status", "intent", "prompt", "label"):
        value = getattr(flt, column)
        if value is not None:
            q = q.where(getattr(t.c, column) == value)
    with rt.read() as conn:
        rows = conn.execute(q).all()
    now = _now()
    items = [to_dict(r, now) for r in rows]
    if flt.reason is not None:
        items = [i for i in items if flt.reason in (i["reasons"] or [])][:limit]
    return items


def get_item(rt: Any, actor: Actor, item_id: str) -> dict[str, Any]:
    _require(actor, Permission.READ)
    with rt.read() as conn:
        row = conn.execute(sa.select(t).where(t.c.id == item_id[:36])).first()
    if row is None:
        raise NotFound(f"there is no review item {item_id!r}")
    return to_dict(row)


def _why_not(conn: sa.Connection, item_id: str, me: str, now: datetime, version: int | None) -> Exception:
    """The error for a claim or label that changed nothing."""
    row = conn.execute(sa.select(t).where(t.c.id == item_id)).first()
    if row is None:
        return NotFound(f"there is no review item {item_id!r}")
    if row.status == "reviewed":
        return Conflict(
            f"review item {item_id} was already labelled {row.label!r} by {row.reviewed_by}",
            extra={"label": row.label, "reviewed_by": row.reviewed_by, "version": row.version},
        )
    until = _aware(row.claimed_until)
    if row.claimed_by and row.claimed_by != me and until is not None and until > now:
        return Conflict(
            f"review item {item_id} is being reviewed by {row.claimed_by} until {until.isoformat()}",
            extra={"claimed_by": row.claimed_by, "claimed_until": until.isoformat(), "version": row.version},
        )
    return Conflict(
        f"review item {item_id} changed since you read it (version {version}, now {row.version}); reload it",
        extra={"version": row.version},
    )


def _free_for(me: str, now: datetime) -> Any:
    return sa.and_(
        t.c.status == "pending",
        sa.or_(t.c.claimed_by.is_(None), t.c.claimed_by == me, t.c.claimed_until.is_(None), t.c.claimed_until <= now),
    )


def claim(rt: Any, actor: Actor, item_id: str, *, lease_seconds: float | None = None) -> dict[str, Any]:
    """Hold a pending item for the policy's lease (renewed when already held by ``actor``)."""
    _require(actor, Permission.WRITE)
    if lease_seconds is None:
        from charter.review.policy import load_policy

        lease_seconds = load_policy(rt).lease_seconds
    me, now = reviewer(actor), _now()
    item_id = item_id[:36]
    with rt.write() as (conn, _pending):
        done = conn.execute(
            sa.update(t)
            .where(t.c.id == item_id, _free_for(me, now))
            .values(claimed_by=me, claimed_until=now + timedelta(seconds=lease_seconds), version=t.c.version + 1)
        ).rowcount
        if not done:
            raise _why_not(conn, item_id, me, now, None)
        row = conn.execute(sa.select(t).where(t.c.id == item_id)).one()
    return to_dict(row, now)


def unclaim(rt: Any, actor: Actor, item_id: str) -> dict[str, Any]:
    """Let go of an item ``actor`` holds (nothing to do when nobody holds it)."""
    _require(actor, Permission.WRITE)
    me, now = reviewer(actor), _now()
    item_id = item_id[:36]
    with rt.write() as (conn, _pending):
        done = conn.execute(
            sa.update(t)
            .where(t.c.id == item_id, _free_for(me, now))
            .values(claimed_by=None, claimed_until=None, version=t.c.version + 1)
        ).rowcount
        if not done:
            raise _why_not(conn, item_id, me, now, None)
        row = conn.execute(sa.select(t).where(t.c.id == item_id)).one()
    return to_dict(row, now)


def _check_facts(facts: list[str] | None) -> list[str] | None:
    if facts is None:
        return None
    if len(facts) > MAX_FACTS or not all(isinstance(f, str) and f.strip() and len(f) <= 500 for f in facts):
        raise BadRequest(f"facts are up to {MAX_FACTS} non-empty strings of at most 500 characters")
    return [f.strip() for f in facts]


def label(
    rt: Any,
    actor: Actor,
    item_id: str,
    value: str,
    *,
    comment: str | None = None,
    facts: list[str] | None = None,
    version: int | None = None,
) -> dict[str, Any]:
    """Label a pending item (final). ``facts`` are what a correct answer states (exported as the
    golden case's expected facts). ``version``, when given, must be the item's current version.
    NotFound for no such item; Conflict when it was already labelled, is held by another
    reviewer, or changed since ``version``."""
    _require(actor, Permission.WRITE)
    if value not in LABELS:
        raise BadRequest(f"label is one of {', '.join(LABELS)}, not {value!r}")
    if comment is not None and len(comment) > MAX_COMMENT:
        raise BadRequest(f"a comment is at most {MAX_COMMENT} characters")
    checked = _check_facts(facts)
    me, now = reviewer(actor), _now()
    item_id = item_id[:36]
    cond = [t.c.id == item_id, _free_for(me, now)]
    if version is not None:
        cond.append(t.c.version == version)
    with rt.write() as (conn, pending):
        done = conn.execute(
            sa.update(t)
            .where(*cond)
            .values(
                status="reviewed",
                label=value,
                comment=(comment or "").strip() or None,
                facts=checked,
                reviewed_by=me,
                reviewed_at=now,
                claimed_by=None,
                claimed_until=None,
                version=t.c.version + 1,
            )
        ).rowcount
        if not done:
            raise _why_not(conn, item_id, me, now, version)
        from charter.audit import record_audit

        record_audit(conn, actor, "review.label", "review_item", item_id, {"label": value, "comment": comment})
        row = conn.execute(sa.select(t).where(t.c.id == item_id)).one()
        from charter.events import ReviewLabelled, record

        queued = _aware(row.created_at)
        event = record(
            conn,
            ReviewLabelled(
                item_id=item_id,
                label=value,
                reviewed_by=me,
                queued_at=queued.isoformat() if queued else "",
                prompt=row.prompt,
                prompt_version=row.prompt_version,
            ).event(domain="review"),
        )
        pending.append(event)
    return to_dict(row, now)


def stats(rt: Any) -> dict[str, Any]:
    """Backlog (pending items), the oldest pending item's age, reviewed count and share, labels
    by count, and the error rate by prompt version (labels other than ``correct``)."""
    now = _now()
    with rt.read() as conn:
        pending = conn.execute(
            sa.select(sa.func.count(), sa.func.min(t.c.created_at)).where(t.c.status == "pending")
        ).one()
        by = conn.execute(
            sa.select(t.c.prompt, t.c.prompt_version, t.c.label, sa.func.count())
            .where(t.c.status == "reviewed")
            .group_by(t.c.prompt, t.c.prompt_version, t.c.label)
        ).all()
    labels: dict[str, int] = {}
    versions: dict[str, dict[str, int]] = {}
    for prompt, version, lab, n in by:
        labels[lab] = labels.get(lab, 0) + n
        key = f"{prompt or '-'}@{version or '-'}"
        entry = versions.setdefault(key, {"reviewed": 0, "errors": 0})
        entry["reviewed"] += n
        entry["errors"] += n if lab != "correct" else 0
    reviewed = sum(labels.values())
    total = reviewed + pending[0]
    oldest = _aware(pending[1])
    return {
        "backlog": pending[0],
        "oldest_pending_age_seconds": round((now - oldest).total_seconds(), 1) if oldest else None,
        "reviewed": reviewed,
        "reviewed_share": round(reviewed / total, 4) if total else None,
        "labels": labels,
        "error_rate_by_prompt_version": {
            k: {**v, "error_rate": round(v["errors"] / v["reviewed"], 4)} for k, v in sorted(versions.items())
        },
    }
