"""Review a release: approve it or reject it with a comment, under the policy of its types."""

from __future__ import annotations

import sqlalchemy as sa

from charter.auth.roles import Actor, Permission
from charter.content import store
from charter.content.actions.release import actor_id, audit_release, release_event, set_status
from charter.content.ai_risk import draft_authors, policy_for
from charter.content.releases import Release, get_release, release_reviews
from charter.content.revisions import require
from charter.content.workflow import ALLOWED_FROM, check_transition, role_at_least
from charter.events import RELEASE_APPROVED, RELEASE_REJECTED, utcnow
from charter.exceptions import BadRequest, Conflict, Forbidden
from charter.runtime import Runtime


def _authors(conn: sa.Connection, rel: Release) -> set[str]:
    """The release's authors plus the authors of every draft revision it publishes."""
    authors = set(rel.authors) | draft_authors(conn, rel)
    for item in rel.items:
        if item.action == "update" and item.data is None and item.revision is not None:
            authors.add(store.get_revision(conn, item.entry_id, item.revision).author)
    return authors


def _check_reviewer(rt: Runtime, conn: sa.Connection, actor: Actor, rel: Release, verb: str) -> None:
    require(actor, Permission.READ)
    policy = policy_for(rt.settings, conn, rel)
    if not role_at_least(actor, policy.approver_role):
        raise Forbidden(
            f"release {rel.id} needs {policy.describe()}; role {actor.role.value!r} may not {verb} it",
            extra={"required_role": policy.approver_role.value},
        )
    if not policy.self_approval and actor_id(actor) in _authors(conn, rel):
        raise Forbidden(f"{actor_id(actor)} authored part of release {rel.id} and may not {verb} it")


def approve_release(rt: Runtime, actor: Actor, release_id: str, *, comment: str | None = None) -> Release:
    """Record an approval; the release becomes ``approved`` once the policy's count is reached.
    Raises Forbidden (role too low, or an author approving), Conflict (not in review, or this
    reviewer already approved this round)."""
    with rt.write() as (conn, pending):
        rel = get_release(conn, release_id, lock=True)
        if rel.status not in ALLOWED_FROM["approve"]:
            raise Conflict(f"release {release_id} is {rel.status}; only a release in review can be approved")
        _check_reviewer(rt, conn, actor, rel, "approve")
        if any(r.actor == actor_id(actor) for r in rel.approvals()):
            raise Conflict(f"{actor_id(actor)} already approved round {rel.round} of release {release_id}")
        conn.execute(
            sa.insert(release_reviews).values(
                release_id=release_id,
                round=rel.round,
                actor=actor_id(actor),
                role=actor.role.value,
                decision="approve",
                comment=comment,
                at=utcnow(),
            )
        )
        policy = policy_for(rt.settings, conn, rel)
        count = len(rel.approvals()) + 1
        audit_release(
            conn,
            actor,
            "approve",
            release_id,
            round=rel.round,
            comment=comment,
            approvals=count,
            needed=policy.approvals,
        )
        if count >= policy.approvals:
            check_transition(release_id, rel.status, "approved")
            set_status(conn, release_id, "approved")
            rel = get_release(conn, release_id)
            release_event(
                conn,
                pending,
                RELEASE_APPROVED,
                rel,
                actor,
                approvals=[r.actor for r in rel.approvals()],
                comment=comment,
            )
        return get_release(conn, release_id)


def reject_release(rt: Runtime, actor: Actor, release_id: str, *, comment: str) -> Release:
    """Send a release back to its authors; a comment saying why is required."""
    if not comment or not comment.strip():
        raise BadRequest("a rejection needs a comment saying what to change")
    with rt.write() as (conn, pending):
        rel = get_release(conn, release_id, lock=True)
        if rel.status not in ALLOWED_FROM["reject"]:
            raise Conflict(f"release {release_id} is {rel.status}; only a release in review can be rejected")
        _check_reviewer(rt, conn, actor, rel, "reject")
        conn.execute(
            sa.insert(release_reviews).values(
                release_id=release_id,
                round=rel.round,
                actor=actor_id(actor),
                role=actor.role.value,
                decision="reject",
                comment=comment.strip(),
                at=utcnow(),
            )
        )
        check_transition(release_id, rel.status, "rejected")
        set_status(conn, release_id, "rejected")
        audit_release(conn, actor, "reject", release_id, round=rel.round, comment=comment.strip())
        rel = get_release(conn, release_id)
        release_event(conn, pending, RELEASE_REJECTED, rel, actor, comment=comment.strip())
        return rel
