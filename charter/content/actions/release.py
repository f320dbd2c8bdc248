"""Compose a release: create it, add, change and remove items, submit it for review, withdraw it.

Items are editable only while the release is ``draft`` or ``rejected``; editing a rejected
release makes it a draft again. Every change is validated when it is made (the content against
its type, references against live entries and the release's own new entries) and again when the
release publishes, and every change is in the audit log with its diff.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from charter.audit import diff, record_audit
from charter.auth.roles import Actor, Permission
from charter.content import store
from charter.content.ai_risk import policy_for
from charter.content.releases import ITEM_ACTIONS, Release, get_release, release_items, release_reviews, releases
from charter.content.revisions import require, slug_of
from charter.content.workflow import ALLOWED_FROM, check_transition
from charter.db.tables import entries
from charter.events import RELEASE_APPROVED, RELEASE_SUBMITTED, Event, record, utcnow
from charter.exceptions import BadRequest, Conflict, ContentInvalid, ErrorDetail, NotFound
from charter.runtime import Runtime
from charter.schemas.references import find_references


def actor_id(actor: Actor) -> str:
    return f"{actor.kind}:{actor.name}"


@dataclass(frozen=True)
class ItemSpec:
    """One change in a release.

    * ``create``: a new entry of ``type`` with ``data`` (``entry_id`` optional, a UUID).
    * ``update``: an existing entry; either new ``data``, or a draft ``revision`` to publish
      (neither: its current revision).
    * ``unpublish``: take a live entry off the delivery API.
    """

    action: str
    entry_id: str | None = None
    type: str | None = None
    data: dict[str, Any] | None = None
    revision: int | None = None


# --- shared by the release actions ----------------------------------------------------------------


def audit_release(conn: sa.Connection, actor: Actor, verb: str, release_id: str, **detail: Any) -> None:
    record_audit(conn, actor, f"release.{verb}", "release", release_id, detail)


def release_event(
    conn: sa.Connection, pending: list[Event], event_type: str, rel: Release, actor: Actor, **extra: Any
) -> None:
    payload = {
        "id": rel.id,
        "name": rel.name,
        "status": extra.pop("status", rel.status),
        "round": rel.round,
        "actor": actor_id(actor),
        "types": rel.types,
        "entries": [i.entry_id for i in rel.items],
        **extra,
    }
    pending.append(record(conn, Event(event_type, payload, domain="releases")))


def set_status(conn: sa.Connection, release_id: str, status: str, **values: Any) -> None:
    conn.execute(
        sa.update(releases).where(releases.c.id == release_id).values(status=status, updated_at=utcnow(), **values)
    )


def editable(rel: Release) -> None:
    if rel.status not in ALLOWED_FROM["edit"]:
        hint = " withdraw it first" if rel.status in ALLOWED_FROM["withdraw"] else ""
        raise Conflict(f"release {rel.id} is {rel.status}; its items can change only in draft or rejected.{hint}")


def _reopen(conn: sa.Connection, rel: Release) -> None:
    """An edit to a rejected release makes it a draft again (the next submit starts a new round)."""
    if rel.status == "rejected":
        set_status(conn, rel.id, "draft")
    else:
        conn.execute(sa.update(releases).where(releases.c.id == rel.id).values(updated_at=utcnow()))


# --- create, rename, delete -----------------------------------------------------------------------


def create_release(
    rt: Runtime,
    actor: Actor,
    name: str,
    *,
    description: str | None = None,
    items: list[ItemSpec] | None = None,
) -> Release:
    """A new draft release, optionally with items (all validated; nothing stored on an error).
    An item may reference an entry that another item of the release creates."""
    require(actor, Permission.WRITE)
    name = _check_name(name)
    release_id = str(uuid.uuid4())
    now = utcnow()
    with rt.write() as (conn, _):
        conn.execute(
            sa.insert(releases).values(
                id=release_id,
                name=name,
                description=description,
                status="draft",
                round=0,
                created_by=actor_id(actor),
                created_at=now,
                updated_at=now,
            )
        )
        audit_release(conn, actor, "create", release_id, name=name, description=description)
        # New entries first, so other items may reference them whatever order they were given in.
        for spec in sorted(items or [], key=lambda s: s.action != "create"):
            add_item(rt, actor, release_id, spec)
        return get_release(conn, release_id)


def update_release(
    rt: Runtime, actor: Actor, release_id: str, *, name: str | None = None, description: str | None = None
) -> Release:
    require(actor, Permission.WRITE)
    with rt.write() as (conn, _):
        rel = get_release(conn, release_id, lock=True)
        if rel.status in ("published", "rolled_back"):
            raise Conflict(f"release {release_id} is {rel.status}; it can no longer change")
        values: dict[str, Any] = {}
        if name is not None:
            values["name"] = _check_name(name)
        if description is not None:
            values["description"] = description
        if values:
            conn.execute(sa.update(releases).where(releases.c.id == release_id).values(updated_at=utcnow(), **values))
            old = {k: getattr(rel, k) for k in values}
            audit_release(conn, actor, "update", release_id, diff=diff(old, values))
        return get_release(conn, release_id)


def delete_release(rt: Runtime, actor: Actor, release_id: str) -> None:
    """Delete a draft or rejected release (its audit trail stays)."""
    require(actor, Permission.WRITE)
    with rt.write() as (conn, _):
        rel = get_release(conn, release_id, lock=True)
        if rel.status not in ALLOWED_FROM["delete"]:
            raise Conflict(f"release {release_id} is {rel.status}; only draft or rejected releases can be deleted")
        conn.execute(sa.delete(release_reviews).where(release_reviews.c.release_id == release_id))
        conn.execute(sa.delete(release_items).where(release_items.c.release_id == release_id))
        conn.execute(sa.delete(releases).where(releases.c.id == release_id))
        audit_release(conn, actor, "delete", release_id, name=rel.name, items=[i.to_dict() for i in rel.items])


def _check_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > 200:
        raise BadRequest("a release needs a name of 1 to 200 characters")
    return name


# --- items ----------------------------------------------------------------------------------------


def add_item(rt: Runtime, actor: Actor, release_id: str, spec: ItemSpec) -> Release:
    """Add one change; raises ValidationFailed, NotFound (entry, type, revision) or Conflict
    (the entry is already in this release, a slug clash, nothing to unpublish)."""
    require(actor, Permission.WRITE)
    with rt.write() as (conn, _):
        rel = get_release(conn, release_id, lock=True)
        editable(rel)
        if spec.entry_id and any(i.entry_id == spec.entry_id for i in rel.items):
            raise Conflict(f"entry {spec.entry_id} is already in release {release_id}; change that item instead")
        values = _resolve_item(rt, conn, rel, spec)
        last = conn.execute(_last_position(release_id)).scalar()
        position = (last or 0) + 1
        item_id = str(uuid.uuid4())
        conn.execute(
            sa.insert(release_items).values(
                id=item_id,
                release_id=release_id,
                position=position,
                added_by=actor_id(actor),
                added_at=utcnow(),
                **values,
            )
        )
        audit_release(
            conn,
            actor,
            "item.add",
            release_id,
            item_id=item_id,
            action=values["action"],
            entry_id=values["entry_id"],
            type=values["type"],
            revision=values["revision"],
            diff=_item_diff(conn, values),
        )
        _reopen(conn, rel)
        return get_release(conn, release_id)


class EntryFixed(BadRequest):
    type_slug = "entry-fixed"
    title = "The item's entry cannot change"


def update_item(rt: Runtime, actor: Actor, release_id: str, item_id: str, spec: ItemSpec) -> Release:
    """Replace an item's change (same entry)."""
    require(actor, Permission.WRITE)
    with rt.write() as (conn, _):
        rel = get_release(conn, release_id, lock=True)
        editable(rel)
        item = next((i for i in rel.items if i.id == item_id), None)
        if item is None:
            raise NotFound(f"release {release_id} has no item {item_id!r}")
        if spec.entry_id and spec.entry_id != item.entry_id:
            raise EntryFixed("an item's entry cannot change; remove the item and add another")
        others = Release(**{**rel.__dict__, "items": [i for i in rel.items if i.id != item_id]})
        values = _resolve_item(rt, conn, others, ItemSpec(**{**spec.__dict__, "entry_id": item.entry_id}))
        conn.execute(
            sa.update(release_items)
            .where(release_items.c.id == item_id)
            .values(added_by=actor_id(actor), added_at=utcnow(), **values)
        )
        audit_release(
            conn,
            actor,
            "item.update",
            release_id,
            item_id=item_id,
            entry_id=item.entry_id,
            diff=diff({"data": item.data, "revision": item.revision, "action": item.action}, values_view(values)),
        )
        _reopen(conn, rel)
        return get_release(conn, release_id)


def remove_item(rt: Runtime, actor: Actor, release_id: str, item_id: str) -> Release:
    require(actor, Permission.WRITE)
    with rt.write() as (conn, _):
        rel = get_release(conn, release_id, lock=True)
        editable(rel)
        item = next((i for i in rel.items if i.id == item_id), None)
        if item is None:
            raise NotFound(f"release {release_id} has no item {item_id!r}")
        dependants = [
            i.entry_id for i in rel.items if i.id != item_id and item.entry_id in _refs(rt, i.type, i.data or {})
        ]
        if item.action == "create" and dependants:
            raise Conflict(
                f"item {item_id} creates entry {item.entry_id}, which other items reference: {', '.join(dependants)}"
            )
        conn.execute(sa.delete(release_items).where(release_items.c.id == item_id))
        audit_release(conn, actor, "item.remove", release_id, item=item.to_dict())
        _reopen(conn, rel)
        return get_release(conn, release_id)


def values_view(values: dict[str, Any]) -> dict[str, Any]:
    return {"data": values.get("data"), "revision": values.get("revision"), "action": values.get("action")}


def _last_position(release_id: str) -> sa.Select[Any]:
    return sa.select(sa.func.max(release_items.c.position)).where(release_items.c.release_id == release_id)


def _item_diff(conn: sa.Connection, values: dict[str, Any]) -> list[dict[str, Any]]:
    """The diff an item makes against the entry's live (else current) content."""
    if values["action"] == "create":
        return diff({}, values["data"])
    entry = store.get_entry(conn, values["entry_id"])
    base_number = entry.published_revision or entry.current_revision
    base = store.get_revision(conn, entry.id, base_number).data
    if values["action"] == "unpublish":
        return diff(base, {})
    new = values["data"] if values["data"] is not None else store.get_revision(conn, entry.id, values["revision"]).data
    return diff(base, new)


def _refs(rt: Runtime, type_name: str, data: dict[str, Any]) -> set[str]:
    ct = rt.registry.get(type_name)
    return {ref for doc in data.values() if isinstance(doc, dict) for _p, _t, ref in find_references(ct.schema, doc)}


def _resolve_item(rt: Runtime, conn: sa.Connection, rel: Release, spec: ItemSpec) -> dict[str, Any]:
    if spec.action not in ITEM_ACTIONS:
        raise BadRequest(f"unknown item action {spec.action!r}; use one of {', '.join(ITEM_ACTIONS)}")
    if spec.action == "create":
        if not spec.type:
            raise BadRequest("a create item needs 'type'")
        if spec.data is None:
            raise BadRequest("a create item needs 'data'")
        if spec.revision is not None:
            raise BadRequest("a create item has no 'revision'")
        ct = rt.registry.get(spec.type)
        entry_id = spec.entry_id or str(uuid.uuid4())
        try:
            entry_id = str(uuid.UUID(entry_id))
        except ValueError:
            raise BadRequest(f"entry id {entry_id!r} is not a UUID")
        if conn.execute(sa.select(entries.c.id).where(entries.c.id == entry_id)).first():
            raise Conflict(f"entry {entry_id} already exists; use an update item")
        check_content(rt, conn, rel, spec.type, spec.data, entry_id)
        return {
            "action": "create",
            "entry_id": entry_id,
            "type": ct.name,
            "data": spec.data,
            "revision": None,
            "base_revision": None,
        }
    if not spec.entry_id:
        raise BadRequest(f"an {spec.action} item needs 'entry_id'")
    entry = store.get_entry(conn, spec.entry_id)
    if spec.type and spec.type != entry.type:
        raise BadRequest(f"entry {entry.id} is a {entry.type}, not a {spec.type}")
    if spec.action == "unpublish":
        if spec.data is not None or spec.revision is not None:
            raise BadRequest("an unpublish item takes neither 'data' nor 'revision'")
        if entry.published_revision is None:
            raise Conflict(f"entry {entry.id} is not published; there is nothing to unpublish")
        return {
            "action": "unpublish",
            "entry_id": entry.id,
            "type": entry.type,
            "data": None,
            "revision": None,
            "base_revision": entry.current_revision,
        }
    if spec.data is not None and spec.revision is not None:
        raise BadRequest("an update item takes either 'data' (new content) or 'revision' (a draft to publish)")
    if spec.data is not None:
        check_content(rt, conn, rel, entry.type, spec.data, entry.id)
        revision = None
    else:
        revision = spec.revision or entry.current_revision
        if revision < 1 or revision > entry.current_revision:
            raise NotFound(f"entry {entry.id} has no revision {revision} (revisions 1 to {entry.current_revision})")
        if revision == entry.published_revision:
            raise Conflict(f"revision {revision} of entry {entry.id} is already published")
    return {
        "action": "update",
        "entry_id": entry.id,
        "type": entry.type,
        "data": spec.data,
        "revision": revision,
        "base_revision": entry.current_revision,
    }


def check_content(rt: Runtime, conn: sa.Connection, rel: Release, type_name: str, data: Any, entry_id: str) -> None:
    """Validate ``data`` for ``type_name`` as it would be in this release: its references may
    name live entries or entries this release creates; its slug must be free in both."""
    ct = rt.registry.get(type_name)
    errors = ct.validate(data)
    if errors:
        raise ContentInvalid(detail=f"{len(errors)} error(s) validating {ct.schema_id} {ct.version}", errors=errors)
    created = {i.entry_id: i.type for i in rel.items if i.action == "create"}
    unpublished = {i.entry_id for i in rel.items if i.action == "unpublish"}
    wanted: dict[str, list[tuple[str, str]]] = {}
    for loc, doc in data.items():
        for ptr, target, ref in find_references(ct.schema, doc):
            wanted.setdefault(ref, []).append((f"/{loc}{ptr}", target))
    if wanted:
        rows = conn.execute(
            sa.select(entries.c.id, entries.c.type).where(
                entries.c.id.in_(list(wanted)), entries.c.deleted_at.is_(None)
            )
        )
        found = {r.id: r.type for r in rows} | created
        for ref, places in wanted.items():
            for ptr, target in places:
                if ref not in found:
                    errors.append(ErrorDetail(ptr, f"referenced entry {ref!r} does not exist", "x-charter-ref"))
                elif found[ref] != target:
                    errors.append(ErrorDetail(ptr, f"entry {ref!r} is a {found[ref]}, not a {target}", "x-charter-ref"))
                elif ref in unpublished:
                    errors.append(ErrorDetail(ptr, f"entry {ref!r} is unpublished by this release", "x-charter-ref"))
    if errors:
        raise ContentInvalid(detail=f"{len(errors)} error(s) in references", errors=errors)
    slug = slug_of(ct, data)
    if slug is None:
        return
    clash = conn.execute(
        sa.select(entries.c.id).where(
            entries.c.type == ct.name, entries.c.slug == slug, entries.c.deleted_at.is_(None), entries.c.id != entry_id
        )
    ).first()
    if clash is None:
        clash_item = next(
            (
                i
                for i in rel.items
                if i.type == ct.name and i.entry_id != entry_id and i.data and slug_of(ct, i.data) == slug
            ),
            None,
        )
        clash_id = clash_item.entry_id if clash_item else None
    else:
        clash_id = clash.id
    if clash_id:
        raise Conflict(
            f"a {ct.name} with slug {slug!r} already exists (entry {clash_id})", extra={"existing_id": clash_id}
        )


# --- review round ---------------------------------------------------------------------------------


def submit_release(rt: Runtime, actor: Actor, release_id: str) -> Release:
    """Send a draft (or rejected) release for review: a new review round starts, and earlier
    approvals stop counting. A policy that needs no approvals approves it at once."""
    require(actor, Permission.WRITE)
    with rt.write() as (conn, pending):
        rel = get_release(conn, release_id, lock=True)
        check_transition(release_id, rel.status, "in_review")
        if not rel.items:
            raise Conflict(f"release {release_id} has no items; add at least one change before submitting")
        policy = policy_for(rt.settings, conn, rel)
        conn.execute(sa.update(releases).where(releases.c.id == release_id).values(round=rel.round + 1, error=None))
        set_status(conn, release_id, "in_review")
        audit_release(conn, actor, "submit", release_id, round=rel.round + 1, policy=policy.describe())
        rel = get_release(conn, release_id)
        release_event(conn, pending, RELEASE_SUBMITTED, rel, actor, policy=policy.describe())
        if policy.approvals == 0:
            set_status(conn, release_id, "approved")
            audit_release(conn, actor, "approve", release_id, round=rel.round, automatic=True)
            rel = get_release(conn, release_id)
            release_event(conn, pending, RELEASE_APPROVED, rel, actor, approvals=[], automatic=True)
        return rel


def withdraw_release(rt: Runtime, actor: Actor, release_id: str) -> Release:
    """Take a release back to draft (from review, approved, scheduled or failed) to change it."""
    require(actor, Permission.WRITE)
    with rt.write() as (conn, _):
        rel = get_release(conn, release_id, lock=True)
        check_transition(release_id, rel.status, "draft")
        set_status(conn, release_id, "draft", scheduled_at=None, schedule_tz=None)
        audit_release(conn, actor, "withdraw", release_id, status_before=rel.status)
        return get_release(conn, release_id)
