"""Publish a release: every item, or none, in one transaction.

The items run through the ordinary content actions (create, update, publish, unpublish), so each
change is validated, versioned, audited and has its event exactly as a single publish would;
they all join one transaction (:meth:`Runtime.write` is re-entrant), so a failure in item 57 of
100 — or the process being killed — leaves nothing published. A failed publish marks the
release ``failed`` with the reason, in a separate transaction, and can be retried.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import structlog

from charter.auth.roles import Actor, Permission
from charter.content import store
from charter.content.actions.create import create_entry
from charter.content.actions.publish import publish_entry, unpublish_entry
from charter.content.actions.release import actor_id, audit_release, release_event, set_status
from charter.content.actions.update import update_entry
from charter.content.releases import Release, ReleaseItem, get_release, release_items
from charter.content.revisions import require
from charter.content.workflow import ALLOWED_FROM, approved_change, check_transition
from charter.events import RELEASE_FAILED, RELEASE_PUBLISHED, utcnow
from charter.exceptions import CharterError, Conflict
from charter.runtime import Runtime
from charter.schemas.references import find_references

log = structlog.get_logger("charter.releases")

#: A release published more than this late (ms) was caught up at start-up, not on time.
CATCH_UP_MS = 1000.0


def application_order(rt: Runtime, items: list[ReleaseItem]) -> list[ReleaseItem]:
    """Creates first, each after the new entries it references; then updates; unpublishes last."""
    creates = {i.entry_id: i for i in items if i.action == "create"}
    ordered: list[ReleaseItem] = []
    done: set[str] = set()

    def visit(item: ReleaseItem, path: tuple[str, ...]) -> None:
        if item.entry_id in done:
            return
        if item.entry_id in path:
            raise Conflict(f"new entries in this release reference each other in a cycle: {' -> '.join(path)}")
        ct = rt.registry.get(item.type)
        for doc in (item.data or {}).values():
            if not isinstance(doc, dict):
                continue
            for _p, _t, ref in find_references(ct.schema, doc):
                if ref in creates and ref != item.entry_id:
                    visit(creates[ref], (*path, item.entry_id))
        done.add(item.entry_id)
        ordered.append(item)

    for item in items:
        if item.action == "create":
            visit(item, ())
    ordered.extend(i for i in items if i.action == "update")
    ordered.extend(i for i in items if i.action == "unpublish")
    return ordered


def publish_release(rt: Runtime, actor: Actor, release_id: str, *, due: bool = False) -> Release:
    """Publish an approved (or scheduled, or failed) release now. ``due`` marks a publish made by
    the scheduler because the release fell due. Raises Conflict when it is not publishable;
    any error while applying the items rolls everything back and marks the release failed."""
    require(actor, Permission.PUBLISH)
    try:
        return _publish(rt, actor, release_id, due)
    except CharterError as exc:
        if isinstance(exc, Conflict) and exc.extra.get("status_now") is not None:
            raise
        mark_failed(rt, actor, release_id, exc)
        raise


def _publish(rt: Runtime, actor: Actor, release_id: str, due: bool) -> Release:
    with rt.write() as (conn, pending), approved_change(f"release:{release_id}"):
        rel = get_release(conn, release_id, lock=True)
        if rel.status not in ALLOWED_FROM["publish"]:
            raise Conflict(
                f"release {release_id} is {rel.status}; only an approved or scheduled release can publish",
                extra={"status_now": rel.status},
            )
        check_transition(release_id, rel.status, "published")
        message = f"release {rel.name!r} ({rel.id})"
        applied = []
        for item in application_order(rt, rel.items):
            revision, before_revision, before_published = _apply(rt, conn, actor, item, message)
            conn.execute(
                sa.update(release_items)
                .where(release_items.c.id == item.id)
                .values(before_revision=before_revision, before_published=before_published, published_revision=revision)
            )
            applied.append({"entry_id": item.entry_id, "action": item.action, "revision": revision})
        now = utcnow()
        delay = _delay_ms(rel.scheduled_at, now) if rel.scheduled_at else None
        set_status(
            conn,
            release_id,
            "published",
            published_at=now,
            published_by=actor_id(actor),
            publish_delay_ms=delay,
            error=None,
        )
        audit_release(conn, actor, "publish", release_id, items=applied, delay_ms=delay, due=due)
        rel = get_release(conn, release_id)
        release_event(
            conn,
            pending,
            RELEASE_PUBLISHED,
            rel,
            actor,
            items=applied,
            published_by=actor_id(actor),
            scheduled_at=rel.scheduled_at.isoformat() if rel.scheduled_at else None,
            delay_ms=delay,
            catch_up=bool(delay is not None and delay > CATCH_UP_MS),
            lead_time_ms=_delay_ms(rel.created_at, now),
        )
    if delay is not None and delay > CATCH_UP_MS:
        log.warning("release_published_late", release_id=release_id, delay_ms=round(delay, 1))
    return rel


def _apply(
    rt: Runtime, conn: sa.Connection, actor: Actor, item: ReleaseItem, message: str
) -> tuple[int | None, int | None, int | None]:
    """Apply one item; returns (published revision, current revision before, published before)."""
    if item.action == "create":
        entry = create_entry(rt, actor, item.type, item.data or {}, entry_id=item.entry_id, message=message)
        entry = publish_entry(rt, actor, entry.id)
        return entry.published_revision, None, None
    entry = store.get_entry(conn, item.entry_id)
    before = (entry.current_revision, entry.published_revision)
    if item.action == "unpublish":
        unpublish_entry(rt, actor, entry.id)
        return None, *before
    if item.data is not None:
        entry = update_entry(rt, actor, entry.id, item.data, if_match=entry.etag, message=message)
        entry = publish_entry(rt, actor, entry.id)
    else:
        entry = publish_entry(rt, actor, entry.id, revision=item.revision)
    return entry.published_revision, *before


def _delay_ms(since: datetime, now: datetime) -> float:
    return round((now - since).total_seconds() * 1000, 3)


def mark_failed(rt: Runtime, actor: Actor, release_id: str, exc: CharterError) -> None:
    reason = str(exc) + "".join(f"; {e.pointer}: {e.message}" for e in exc.errors[:10])
    try:
        with rt.write() as (conn, pending):
            rel = get_release(conn, release_id, lock=True)
            if rel.status not in ALLOWED_FROM["publish"]:
                return
            set_status(conn, release_id, "failed", error=reason)
            audit_release(conn, actor, "fail", release_id, error=reason)
            release_event(conn, pending, RELEASE_FAILED, get_release(conn, release_id), actor, error=reason)
    except CharterError:  # the release itself vanished; nothing to mark
        log.warning("release_fail_mark_skipped", release_id=release_id)
    log.error("release_publish_failed", release_id=release_id, error=reason)
