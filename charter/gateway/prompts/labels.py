"""Label state (which version ``production``/``staging`` serve), promotion, rollback, and the
choice of a version for one request (explicit version, label, feature flags, then production).

Every label move is one transaction: the label row, a ``prompt_label_moves`` row (who, why, the
eval report's hash and summary), a row in the shared ``audit_log`` and a ``prompt.label_moved``
event (payload documented at :data:`charter.events.PROMPT_LABEL_MOVED`). Every eval report
checked at a promotion is kept in ``prompt_evals``, passed or not.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from charter.audit import record_audit
from charter.auth.roles import Actor, Permission
from charter.events import PROMPT_LABEL_MOVED, Event, record
from charter.exceptions import BadRequest, Conflict, Forbidden, NotFound, ValidationFailed
from charter.gateway.prompts.evalgate import GateResult, evaluate, report_sha256
from charter.gateway.prompts.registry import Flag, Prompt, PromptVersion
from charter.gateway.tables import prompt_evals, prompt_label_moves, prompt_labels, prompt_releases

if TYPE_CHECKING:
    from charter.runtime import Runtime

LABEL_MOVED = PROMPT_LABEL_MOVED
DEFAULT_LABEL = "production"
LABEL = re.compile(r"^[a-z][a-z0-9_-]{0,59}$")


def labels_of(conn: sa.Connection, name: str) -> dict[str, str]:
    rows = conn.execute(sa.select(prompt_labels.c.label, prompt_labels.c.version).where(prompt_labels.c.name == name))
    return {r.label: r.version for r in rows}


def releases_of(conn: sa.Connection, name: str) -> dict[str, str]:
    rows = conn.execute(
        sa.select(prompt_releases.c.version, prompt_releases.c.fingerprint).where(prompt_releases.c.name == name)
    )
    return {r.version: r.fingerprint for r in rows}


def history(conn: sa.Connection, name: str, label: str | None = None) -> list[dict[str, Any]]:
    """Every label move of prompt ``name`` (of one label if given), oldest first."""
    q = sa.select(prompt_label_moves).where(prompt_label_moves.c.name == name).order_by(prompt_label_moves.c.id)
    if label:
        q = q.where(prompt_label_moves.c.label == label)
    return [dict(r._mapping) for r in conn.execute(q)]


def evals_of(conn: sa.Connection, name: str, version: str | None = None) -> list[dict[str, Any]]:
    """Every eval report checked for prompt ``name`` (one version if given), newest first."""
    q = sa.select(prompt_evals).where(prompt_evals.c.name == name).order_by(prompt_evals.c.id.desc())
    if version:
        q = q.where(prompt_evals.c.version == version)
    return [dict(r._mapping) for r in conn.execute(q)]


def check_immutable(version: PromptVersion, released: dict[str, str]) -> None:
    """Refuse a released version whose content changed on disk since its release."""
    recorded = released.get(version.version)
    if recorded is not None and recorded != version.fingerprint:
        raise Conflict(
            f"prompt {version.name}@{version.version} was released and is immutable, but its file changed; "
            "restore it and add the change as a new version"
        )


def _who(actor: Actor) -> str:
    return f"{actor.kind}:{actor.name}"


def _check_move(actor: Actor, label: str, reason: str) -> None:
    if not actor.can(Permission.PUBLISH):
        raise Forbidden(f"role {actor.role.value!r} may not move prompt labels (it needs the publish permission)")
    if not LABEL.match(label):
        raise BadRequest(f"bad label {label!r} (lower-case letters, digits, - and _, starting with a letter)")
    if not reason.strip():
        raise BadRequest("say why: a label move needs a reason")


def _move(
    conn: sa.Connection,
    pending: list[Event],
    *,
    name: str,
    label: str,
    action: str,
    from_version: str | None,
    to_version: str,
    actor: Actor,
    reason: str,
    report_hash: str | None,
    summary: dict[str, Any] | None,
) -> dict[str, Any]:
    now = datetime.now(UTC)
    who = _who(actor)
    if from_version is None:
        conn.execute(
            sa.insert(prompt_labels).values(name=name, label=label, version=to_version, updated_at=now, updated_by=who)
        )
    else:
        conn.execute(
            sa.update(prompt_labels)
            .where(prompt_labels.c.name == name, prompt_labels.c.label == label)
            .values(version=to_version, updated_at=now, updated_by=who)
        )
    move = {
        "name": name,
        "label": label,
        "action": action,
        "from_version": from_version,
        "to_version": to_version,
        "actor": who,
        "reason": reason,
        "report_sha256": report_hash,
        "report_summary": summary,
        "at": now,
    }
    conn.execute(sa.insert(prompt_label_moves).values(**move))
    detail = {k: v for k, v in move.items() if k not in ("name", "at", "actor")}
    record_audit(conn, actor, f"prompt.{action}", "prompt", f"{name}:{label}", detail)
    payload = {"prompt": name, **detail, "actor": who}
    pending.append(record(conn, Event(LABEL_MOVED, payload, domain="gateway")))
    return {**move, "at": now.isoformat()}


def record_eval(
    rt: Runtime, actor: Actor, pv: PromptVersion, label: str | None, digest: str, result: GateResult
) -> None:
    """Keep the verdict on a report (its own transaction: a refused promotion is kept too)."""
    with rt.write() as (conn, _pending):
        conn.execute(
            sa.insert(prompt_evals).values(
                name=pv.name,
                version=pv.version,
                label=label,
                report_sha256=digest,
                summary=result.summary,
                passed=result.passed,
                errors=[e.to_dict() for e in result.errors],
                checked_by=_who(actor),
                checked_at=datetime.now(UTC),
            )
        )


def promote(
    rt: Runtime,
    prompt: Prompt,
    version: str,
    label: str,
    *,
    actor: Actor,
    reason: str,
    report: Any,
    report_bytes: bytes | None = None,
) -> dict[str, Any]:
    """Point ``label`` at ``version`` if ``report`` meets the version's thresholds; the version is
    released (its fingerprint frozen) on its first promotion. Needs the publish permission and a
    reason. The verdict on the report is recorded whether or not it passes; a refusal raises
    :class:`ValidationFailed` with every failed threshold."""
    _check_move(actor, label, reason)
    pv = prompt.get(version)
    result = evaluate(report, pv)
    digest = report_sha256(report_bytes if report_bytes is not None else report if isinstance(report, dict) else b"")
    record_eval(rt, actor, pv, label, digest, result)
    if not result.passed:
        raise ValidationFailed(
            detail=f"the eval report does not allow promoting {pv.name}@{pv.version} to {label}", errors=result.errors
        )
    with rt.write() as (conn, pending):
        released = releases_of(conn, prompt.name)
        check_immutable(pv, released)
        current = labels_of(conn, prompt.name).get(label)
        if current == version:
            raise Conflict(f"{label} already serves {prompt.name}@{version}")
        if version not in released:
            conn.execute(
                sa.insert(prompt_releases).values(
                    name=prompt.name,
                    version=version,
                    fingerprint=pv.fingerprint,
                    released_at=datetime.now(UTC),
                    released_by=_who(actor),
                )
            )
        return _move(
            conn,
            pending,
            name=prompt.name,
            label=label,
            action="promote",
            from_version=current,
            to_version=version,
            actor=actor,
            reason=reason,
            report_hash=digest,
            summary=result.summary,
        )


def rollback(rt: Runtime, prompt: Prompt, label: str, *, actor: Actor, reason: str) -> dict[str, Any]:
    """Move ``label`` back to the version it served before its latest promotion still in force
    (repeatable: each rollback undoes one more promotion). No eval report is needed: the target
    passed its gate when it was promoted."""
    _check_move(actor, label, reason)
    with rt.write() as (conn, pending):
        stack: list[str] = []
        for move in history(conn, prompt.name, label):
            if move["action"] == "promote":
                stack.append(move["to_version"])
            elif stack:
                stack.pop()
        current = labels_of(conn, prompt.name).get(label)
        if current is None:
            raise NotFound(f"label {label!r} of prompt {prompt.name!r} is not set")
        if len(stack) < 2:
            raise Conflict(f"nothing to roll back to: {label} has served only {prompt.name}@{current}")
        target = stack[-2]
        check_immutable(prompt.get(target), releases_of(conn, prompt.name))
        return _move(
            conn,
            pending,
            name=prompt.name,
            label=label,
            action="rollback",
            from_version=current,
            to_version=target,
            actor=actor,
            reason=reason,
            report_hash=None,
            summary=None,
        )


@dataclass(frozen=True)
class Selection:
    version: PromptVersion
    selected_by: str  # "version", "label:<name>", "flag:<name>"


def bucket(flag: str, user_hash: str) -> float:
    """A stable position in [0, 100) for a user within a flag (independent across flags)."""
    digest = hashlib.sha256(f"{flag}:{user_hash}".encode()).digest()
    return int.from_bytes(digest[:4], "big") / 2**32 * 100


def _matches(flag: Flag, user_hash: str | None, locale: str | None, market: str | None) -> bool:
    if flag.locales and not (locale and any(locale == x or locale.startswith(x + "-") for x in flag.locales)):
        return False
    if flag.markets and (market or "").upper() not in {m.upper() for m in flag.markets}:
        return False
    if flag.users and user_hash not in flag.users:
        return False
    return not (flag.percentage is not None and (user_hash is None or bucket(flag.name, user_hash) >= flag.percentage))


def _labelled(prompt: Prompt, labels: dict[str, str], label: str) -> PromptVersion:
    version = labels[label]
    if version not in prompt.versions:
        raise Conflict(
            f"label {label!r} of prompt {prompt.name!r} points at {version}, which is no longer in {prompt.path.name}; "
            "released versions must stay in the file (roll the label back or restore the version)"
        )
    return prompt.versions[version]


def select(
    prompt: Prompt,
    labels: dict[str, str],
    *,
    version: str | None = None,
    label: str | None = None,
    user_hash: str | None = None,
    locale: str | None = None,
    market: str | None = None,
    released: Collection[str] = (),
) -> Selection:
    """Which version serves a request: an explicit ``version``, else an explicit ``label``, else
    the first flag whose conditions all match (serving its label, or a version that has been
    released: a flag never serves a version that has not passed an eval gate), else production."""
    if version:
        return Selection(prompt.get(version), "version")
    if label:
        if label not in labels:
            raise NotFound(f"label {label!r} of prompt {prompt.name!r} is not set")
        return Selection(_labelled(prompt, labels, label), f"label:{label}")
    for flag in prompt.flags:
        if _matches(flag, user_hash, locale, market):
            if flag.serve in labels:
                return Selection(_labelled(prompt, labels, flag.serve), f"flag:{flag.name}")
            if flag.serve in prompt.versions and flag.serve in released:
                return Selection(prompt.versions[flag.serve], f"flag:{flag.name}")
    if DEFAULT_LABEL not in labels:
        raise Conflict(
            f"prompt {prompt.name!r} has no {DEFAULT_LABEL} version yet; promote one "
            f"(charter prompts promote {prompt.name} VERSION --label {DEFAULT_LABEL} --report REPORT --reason ...) "
            "or ask for a version explicitly"
        )
    return Selection(_labelled(prompt, labels, DEFAULT_LABEL), f"label:{DEFAULT_LABEL}")
