"""AI drafts at medium or high risk publish only through an approved release.

The gateway records every AI draft it saves (``gateway_drafts``: the prompt run's entry, its risk
level and its review state; the admin's editor records a generated draft when it is saved). While
such a draft of medium or high risk still ``needs_review``:

- a direct publish of the entry is refused (:class:`~charter.exceptions.ApprovalRequired`), from
  every door, whatever the content type's workflow allows, for every actor;
- a release that publishes it needs at least one approval, never by an author of the entry
  (:func:`charter.content.workflow.release_policy` with ``ai_draft=True``, read through
  :func:`policy_for`), so its author cannot approve it alone;
- when that release publishes it, the draft is marked ``published``.

This is the one rule the release actions, the API, the admin and the CLI all go through.
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa

from charter.auth.roles import Actor
from charter.config import Settings
from charter.content.releases import Release
from charter.content.workflow import Policy, in_approved_change, release_policy
from charter.db.tables import revisions
from charter.exceptions import ApprovalRequired
from charter.gateway.tables import gateway_drafts

RISKY = ("medium", "high")


def risky_drafts(conn: sa.Connection, entry_ids: Iterable[str]) -> dict[str, str]:
    """entry id -> risk level, for those of ``entry_ids`` that are medium or high risk AI drafts
    still waiting for review."""
    ids = sorted(set(entry_ids))
    if not ids:
        return {}
    rows = conn.execute(
        sa.select(gateway_drafts.c.entry_id, gateway_drafts.c.risk).where(
            gateway_drafts.c.entry_id.in_(ids),
            gateway_drafts.c.risk.in_(RISKY),
            gateway_drafts.c.status == "needs_review",
        )
    )
    return {r.entry_id: r.risk for r in rows}


def _published_items(rel: Release) -> list[str]:
    return [i.entry_id for i in rel.items if i.action == "update"]


def policy_for(settings: Settings, conn: sa.Connection, rel: Release) -> Policy:
    """The release's policy, counting the risky AI drafts it publishes."""
    return release_policy(settings, rel.types, ai_draft=bool(risky_drafts(conn, _published_items(rel))))


def draft_authors(conn: sa.Connection, rel: Release) -> set[str]:
    """Everyone who wrote a revision of a risky AI draft the release publishes (the draft's
    author first of all): none of them may approve it."""
    ids = list(risky_drafts(conn, _published_items(rel)))
    if not ids:
        return set()
    rows = conn.execute(sa.select(revisions.c.author).where(revisions.c.entry_id.in_(ids)).distinct())
    return {r.author for r in rows}


def check_publish(conn: sa.Connection, actor: Actor, entry_id: str) -> None:
    """Refuse a direct publish of a risky AI draft; inside an approved release, mark it published."""
    risk = risky_drafts(conn, [entry_id]).get(entry_id)
    if risk is None:
        return
    if not in_approved_change():
        raise ApprovalRequired(
            f"entry {entry_id} is an AI draft at {risk} risk: it needs an approval by someone other than "
            "its author; publish it through a release (POST /v1/manage/releases, then submit, approve and publish)",
            extra={"entry_id": entry_id, "risk": risk, "approvals": 1},
        )
    conn.execute(sa.update(gateway_drafts).where(gateway_drafts.c.entry_id == entry_id).values(status="published"))
