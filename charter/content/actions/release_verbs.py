"""The release action registry: every verb a release accepts, written once.

A verb names its action (the use case in :mod:`charter.content.actions`), the permission a caller
needs, the release statuses it applies to (:data:`charter.content.workflow.ALLOWED_FROM`) and the
options it takes. The doors read it: the management API (:mod:`charter.content.release_api`)
requires each verb's permission, the admin runs the verb a form posts and shows a button only
when :func:`may` says so (templates included), and the CLI's release commands run their verb
through it. A new verb is one entry here plus its action; the doors follow.

:func:`may` is what a door shows; the action stays the authority (it checks the permission, the
status under a row lock, and the finer rules: an approver's role, self-approval, a schedule's
date), so a stale page never does what the rules no longer allow.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from charter.auth.roles import Actor, Permission
from charter.content.actions import approve, release, release_publish, rollback, schedule
from charter.content.releases import Release
from charter.content.workflow import ALLOWED_FROM
from charter.exceptions import NotFound
from charter.runtime import Runtime


@dataclass(frozen=True)
class ReleaseVerb:
    """One thing a caller may do to a release.

    ``action(rt, actor, release_id, **options)`` runs it; ``options`` names the keyword arguments
    it accepts (what a form or a command line may pass); ``allowed_from`` are the statuses it
    applies to; ``label`` is what a button says."""

    name: str
    action: Callable[..., Release | None]
    permission: Permission
    label: str
    options: tuple[str, ...] = ()

    @property
    def allowed_from(self) -> tuple[str, ...]:
        return ALLOWED_FROM[self.name]


VERBS: Mapping[str, ReleaseVerb] = {
    v.name: v
    for v in (
        ReleaseVerb("submit", release.submit_release, Permission.WRITE, "Submit for review"),
        ReleaseVerb("withdraw", release.withdraw_release, Permission.WRITE, "Withdraw to draft"),
        ReleaseVerb("delete", release.delete_release, Permission.WRITE, "Delete release"),
        ReleaseVerb("approve", approve.approve_release, Permission.PUBLISH, "Approve", ("comment",)),
        ReleaseVerb("reject", approve.reject_release, Permission.PUBLISH, "Reject", ("comment",)),
        ReleaseVerb("schedule", schedule.schedule_release, Permission.PUBLISH, "Schedule", ("at", "timezone")),
        ReleaseVerb("unschedule", schedule.unschedule_release, Permission.PUBLISH, "Cancel the schedule"),
        ReleaseVerb("publish", release_publish.publish_release, Permission.PUBLISH, "Publish now"),
        ReleaseVerb(
            "rollback", rollback.rollback_release, Permission.PUBLISH, "Roll back the release", ("message", "force")
        ),
    )
}
#: Changing a release's items (not a verb with a button, but the same kind of rule).
EDIT = "edit"
EDIT_PERMISSION = Permission.WRITE


def verb(name: str) -> ReleaseVerb:
    """The verb called ``name`` (NotFound when there is none)."""
    found = VERBS.get(name)
    if found is None:
        raise NotFound(f"there is no release action {name!r}")
    return found


def may(actor: Actor | None, rel: Release, name: str) -> bool:
    """May ``actor`` do ``name`` (a verb, or ``"edit"`` for the items) to ``rel`` as it stands?"""
    if actor is None:
        return False
    permission = EDIT_PERMISSION if name == EDIT else verb(name).permission
    return actor.can(permission) and rel.status in ALLOWED_FROM[name]


def run(rt: Runtime, actor: Actor, release_id: str, name: str, **options: Any) -> Release | None:
    """Run verb ``name`` with the options it takes (others are refused: a door's mistake)."""
    found = verb(name)
    unknown = set(options) - set(found.options)
    if unknown:
        raise TypeError(f"release action {name!r} takes no option(s) {sorted(unknown)}")
    return found.action(rt, actor, release_id, **options)
