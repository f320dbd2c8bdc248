"""Approval policies and the release state machine.

Policies come from ``[charter.workflow]`` in ``charter.toml`` (docs/releases.md)::

    [charter.workflow]
    release_approvals = 1          # approvals every release needs (0: submitting approves it)
    approver_role = "publisher"    # the least role that may approve or reject
    self_approval = false          # may an author of a change approve it?

    [charter.workflow.types.pricing-plan]
    approvals = 2                  # > 0: changes go through a release; direct publish is refused

A release needs the strictest policy of the content types it touches: the most approvals, the
highest approver role, and self-approval only if every type allows it. A content type whose
``approvals`` is above zero cannot be published, unpublished or deleted directly (outside a
release) except by the ``SYSTEM`` actor (imports, the demo loader) or by Charter's own release,
rollback and schedule actions (:func:`approved_change`).
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from charter.auth.roles import SYSTEM, Actor, Role
from charter.config import Settings
from charter.exceptions import ApprovalRequired, ConfigError, Conflict

ROLE_ORDER = (Role.VIEWER, Role.EDITOR, Role.PUBLISHER, Role.ADMIN)

#: status -> the statuses a release may move to from it (docs/releases.md draws the diagram).
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "draft": ("in_review",),
    "in_review": ("approved", "rejected", "draft"),
    "rejected": ("draft", "in_review"),
    "approved": ("scheduled", "published", "draft", "failed"),
    "scheduled": ("approved", "published", "failed", "draft"),
    "failed": ("published", "draft", "failed"),
    "published": ("rolled_back",),
    "rolled_back": (),
}
#: Statuses in which the items of a release may be changed.
EDITABLE = ("draft", "rejected")
#: release verb -> the statuses it applies to (the registry: charter.content.actions.release_verbs).
ALLOWED_FROM: dict[str, tuple[str, ...]] = {
    "edit": EDITABLE,
    "submit": EDITABLE,
    "delete": EDITABLE,
    "withdraw": ("in_review", "approved", "scheduled", "failed"),
    "approve": ("in_review",),
    "reject": ("in_review",),
    "schedule": ("approved", "scheduled", "failed"),
    "unschedule": ("scheduled",),
    "publish": ("approved", "scheduled", "failed"),
    "rollback": ("published",),
}


class TypePolicy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    approvals: int = Field(default=0, ge=0, le=10)
    approver_role: Role | None = None
    self_approval: bool | None = None


class WorkflowSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    release_approvals: int = Field(default=1, ge=0, le=10)
    approver_role: Role = Role.PUBLISHER
    self_approval: bool = False
    types: dict[str, TypePolicy] = Field(default_factory=dict)


@dataclass(frozen=True)
class Policy:
    """What a change needs before it may publish."""

    approvals: int
    approver_role: Role
    self_approval: bool
    #: It publishes an AI draft marked medium or high risk (charter.content.ai_risk).
    ai_draft: bool = False

    def describe(self) -> str:
        who = f"{self.approver_role.value}s" if self.approvals != 1 else f"a {self.approver_role.value}"
        n = "one approval" if self.approvals == 1 else f"{self.approvals} approvals"
        why = " (it publishes a medium or high risk AI draft)" if self.ai_draft else ""
        return f"{n} from {who}" + ("" if self.self_approval else ", none by an author") + why


def workflow_settings(settings: Settings) -> WorkflowSettings:
    try:
        return WorkflowSettings.model_validate(settings.workflow)
    except ValidationError as exc:
        raise ConfigError(f"invalid [charter.workflow] settings: {exc}") from exc


def type_policy(settings: Settings, type_name: str) -> Policy:
    """The policy for changes to one content type (direct publishing allowed when approvals is 0)."""
    wf = workflow_settings(settings)
    tp = wf.types.get(type_name, TypePolicy())
    return Policy(
        tp.approvals,
        tp.approver_role or wf.approver_role,
        wf.self_approval if tp.self_approval is None else tp.self_approval,
    )


def release_policy(settings: Settings, type_names: Iterable[str], *, ai_draft: bool = False) -> Policy:
    """The strictest of the release default and every touched type's policy. A release that
    publishes a medium or high risk AI draft (``ai_draft``) needs at least one approval, never
    by an author, whatever the types allow."""
    wf = workflow_settings(settings)
    approvals, role, self_ok = wf.release_approvals, wf.approver_role, wf.self_approval
    for name in set(type_names):
        p = type_policy(settings, name)
        approvals = max(approvals, p.approvals)
        role = max(role, p.approver_role, key=ROLE_ORDER.index)
        self_ok = self_ok and p.self_approval
    if ai_draft:
        approvals, self_ok = max(approvals, 1), False
    return Policy(approvals, role, self_ok, ai_draft)


def role_at_least(actor: Actor, role: Role) -> bool:
    return ROLE_ORDER.index(actor.role) >= ROLE_ORDER.index(role)


def check_transition(release_id: str, current: str, target: str) -> None:
    if target not in TRANSITIONS.get(current, ()):
        allowed = ", ".join(TRANSITIONS.get(current, ())) or "nothing (final)"
        raise Conflict(
            f"release {release_id} is {current}; it cannot become {target} (from {current}: {allowed})",
            extra={"status_now": current},
        )


# --- the direct-publish gate -------------------------------------------------------------------

_approved: contextvars.ContextVar[str | None] = contextvars.ContextVar("charter_approved_change", default=None)


@contextmanager
def approved_change(reason: str) -> Iterator[None]:
    """Mark the publishes inside this block as authorised by an approved release or a rollback."""
    token = _approved.set(reason)
    try:
        yield
    finally:
        _approved.reset(token)


def in_approved_change() -> bool:
    """Is the caller inside :func:`approved_change` (a release, a rollback, a schedule)?"""
    return _approved.get() is not None


def check_direct_change(settings: Settings, actor: Actor, type_name: str, verb: str) -> None:
    """Refuse to ``verb`` (publish, unpublish, delete) a live entry of a type that needs approvals,
    unless inside :func:`approved_change` or done by :data:`charter.auth.roles.SYSTEM` (imports,
    the demo loader). Other system actors (the gateway's auto-publish) are gated like anyone."""
    if _approved.get() is not None or actor == SYSTEM:
        return
    policy = type_policy(settings, type_name)
    if policy.approvals > 0:
        raise ApprovalRequired(
            f"{type_name} changes need {policy.describe()}: {verb} it through a release "
            "(POST /v1/manage/releases, then submit, approve and publish)",
            extra={"content_type": type_name, "approvals": policy.approvals},
        )


def install(rt: object) -> None:
    """Runtime installer: a bad policy or one naming an unknown content type stops start-up."""
    from charter.runtime import Runtime

    assert isinstance(rt, Runtime)
    wf = workflow_settings(rt.settings)
    known = {ct.name for ct in rt.registry}
    unknown = sorted(set(wf.types) - known)
    if unknown:
        raise ConfigError(
            f"[charter.workflow.types] names unknown content type(s): {', '.join(unknown)}; "
            f"known: {', '.join(sorted(known))}"
        )
