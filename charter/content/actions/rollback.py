"""Roll back an entry to an earlier revision, or a whole release to the state before it published.

History is never rewritten: a rollback appends a new revision (action ``rollback``) whose content
is the earlier revision's, and publishes it when the entry is live. Caches are purged by the
``entry.rolled_back`` / ``release.rolled_back`` events like any publish.

For a content type whose policy needs approvals, the target must be a revision that was live
before (Charter checks the event log): a rollback restores approved content, it is not a way
around review.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from charter.auth.roles import Actor, Permission
from charter.content import store
from charter.content.actions.publish import publish_entry, unpublish_entry
from charter.content.actions.release import actor_id, audit_release, release_event, set_status
from charter.content.actions.release_publish import application_order
from charter.content.actions.update import update_entry
from charter.content.models import Entry
from charter.content.releases import Release, get_release
from charter.content.revisions import entry_event, lock_entry, require
from charter.content.workflow import approved_change, check_transition, type_policy
from charter.db.tables import events
from charter.events import ENTRY_PUBLISHED, ENTRY_ROLLED_BACK, RELEASE_ROLLED_BACK, Event, utcnow
from charter.exceptions import ApprovalRequired, Conflict, NotFound
from charter.runtime import Runtime


def was_published(conn: sa.Connection, entry_id: str, revision: int) -> bool:
    """Whether ``revision`` of the entry was ever live, from the event log."""
    published = sa.select(events.c.id).where(
        events.c.type == ENTRY_PUBLISHED,
        events.c.payload["id"].as_string() == entry_id,
        events.c.payload["revision"].as_integer() == revision,
    )
    return conn.execute(published.limit(1)).first() is not None


def rollback_entry(
    rt: Runtime,
    actor: Actor,
    entry_id: str,
    revision: int,
    *,
    message: str | None = None,
    publish: bool | None = None,
) -> Entry:
    """Restore revision ``revision``'s content as a new revision; publish it when the entry is
    live (or when ``publish`` says so). NotFound for an unknown entry or revision; Conflict when
    the entry already has that content; ApprovalRequired for a never-published revision of a
    type that needs approvals."""
    require(actor, Permission.PUBLISH)
    with rt.write() as (conn, pending):
        entry = lock_entry(conn, entry_id)
        if revision < 1 or revision > entry.current_revision:
            raise NotFound(
                f"entry {entry_id} has no revision {revision} (revisions 1 to {entry.current_revision})",
                extra={"current_revision": entry.current_revision},
            )
        if type_policy(rt.settings, entry.type).approvals > 0 and not was_published(conn, entry_id, revision):
            raise ApprovalRequired(
                f"revision {revision} of {entry.type} {entry_id} was never published; a {entry.type} can only be "
                "rolled back to a revision that was live before (send other content through a release)"
            )
        live = publish if publish is not None else entry.published_revision is not None
        target = store.get_revision(conn, entry_id, revision).data
        current = store.get_revision(conn, entry_id, entry.current_revision).data
        if target == current and (not live or entry.published_revision == entry.current_revision):
            raise Conflict(f"entry {entry_id} already has the content of revision {revision}; nothing to roll back")
        return _restore(rt, conn, pending, actor, entry, revision, live, message or f"rollback to revision {revision}")


def _restore(
    rt: Runtime,
    conn: sa.Connection,
    pending: list[Event],
    actor: Actor,
    entry: Entry,
    revision: int | None,
    live: bool,
    message: str,
    release_id: str | None = None,
) -> Entry:
    """Append revision ``revision``'s content (``None``: take the entry offline) and publish it."""
    previous = entry.published_revision
    with approved_change(f"rollback:{entry.id}"):
        if revision is None:
            entry = unpublish_entry(rt, actor, entry.id)
        else:
            data = store.get_revision(conn, entry.id, revision).data
            entry = update_entry(rt, actor, entry.id, data, if_match=entry.etag, message=message, action="rollback")
            if live:
                entry = publish_entry(rt, actor, entry.id)
    ct = rt.registry.get(entry.type)
    entry_event(
        conn,
        pending,
        ENTRY_ROLLED_BACK,
        entry,
        ct,
        revision=entry.current_revision,
        restored_revision=revision,
        previous_revision=previous,
        published=entry.published_revision is not None,
        release_id=release_id,
    )
    return entry


def rollback_release(
    rt: Runtime, actor: Actor, release_id: str, *, message: str | None = None, force: bool = False
) -> Release:
    """Restore every entry a published release changed to what was live before it, as new
    revisions, in one transaction. Conflict when an entry changed after the release (name them),
    unless ``force``."""
    require(actor, Permission.PUBLISH)
    with rt.write() as (conn, pending):
        rel = get_release(conn, release_id, lock=True)
        check_transition(release_id, rel.status, "rolled_back")
        items = list(reversed(application_order(rt, rel.items)))
        current: dict[str, Entry] = {}
        drifted: list[dict[str, Any]] = []
        for item in items:
            try:
                entry = lock_entry(conn, item.entry_id)
            except NotFound:
                drifted.append({"entry_id": item.entry_id, "reason": "deleted since the release"})
                continue
            current[item.entry_id] = entry
            if entry.published_revision != item.published_revision:
                drifted.append(
                    {
                        "entry_id": item.entry_id,
                        "reason": f"live revision is {entry.published_revision}, the release published "
                        f"{item.published_revision}",
                    }
                )
        if drifted and not force:
            raise Conflict(
                f"{len(drifted)} entr{'y' if len(drifted) == 1 else 'ies'} changed after release {release_id} "
                "published; roll back with force to overwrite them",
                extra={"changed": drifted},
            )
        note = message or f"rollback of release {rel.name!r} ({rel.id})"
        restored = []
        for item in items:
            found = current.get(item.entry_id)
            if found is None:
                continue
            entry = found
            target = None if item.action == "create" else item.before_published
            if target is None and entry.published_revision is None:
                continue
            entry = _restore(rt, conn, pending, actor, entry, target, target is not None, note, release_id)
            restored.append({"entry_id": item.entry_id, "revision": entry.current_revision, "restored": target})
        now = utcnow()
        set_status(conn, release_id, "rolled_back", rolled_back_at=now, rolled_back_by=actor_id(actor))
        audit_release(conn, actor, "rollback", release_id, items=restored, forced=bool(drifted), message=message)
        rel = get_release(conn, release_id)
        release_event(conn, pending, RELEASE_ROLLED_BACK, rel, actor, items=restored, forced=bool(drifted))
        return rel
