"""Label state (which version ``production``/``staging`` serve), promotion, rollback, and the
choice of a version for one request (explicit version, label, feature flags, then production).

Every label move is one transaction: the label row, a ``prompt_label_moves`` row (who, why, the
eval report's hash and summary), a row in the shared ``audit_log`` and a ``prompt.label_moved``
event.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from charter.db.tables import audit_log
from charter.events import Event, record
from charter.exceptions import BadRequest, Conflict, NotFound
from charter.gateway.prompts.evalgate import check_report, report_sha256
from charter.gateway.prompts.registry import Flag, Prompt, PromptVersion
from charter.gateway.tables import prompt_label_moves, prompt_labels, prompt_releases

if TYPE_CHECKING:
    from charter.runtime import Runtime

LABEL_MOVED = "prompt.label_moved"
DEFAULT_LABEL = "production"


def labels_of(conn: sa.Connection, name: str) -> dict[str, str]:
    rows = conn.execute(sa.select(prompt_labels.c.label, prompt_labels.c.version).where(prompt_labels.c.name == name))
    return {r.label: r.version for r in rows}


def releases_of(conn: sa.Connection, name: str) -> dict[str, str]:
    rows = conn.execute(
        sa.select(prompt_releases.c.version, prompt_releases.c.fingerprint).where(prompt_releases.c.name == name)
    )
    return {r.version: r.fingerprint for r in rows}


def history(conn: sa.Connection, name: str, label: str | None = None) -> list[dict[str, Any]]:
    q = sa.select(prompt_label_moves).where(prompt_label_moves.c.name == name).order_by(prompt_label_moves.c.id)
    if label:
        q = q.where(prompt_label_moves.c.label == label)
    return [dict(r._mapping) for r in conn.execute(q)]


def check_immutable(version: PromptVersion, released: dict[str, str]) -> None:
    """Refuse a released version whose content changed on disk since its release."""
    recorded = released.get(version.version)
    if recorded is not None and recorded != version.fingerprint:
        raise Conflict(
            f"prompt {version.name}@{version.version} was released and is immutable, but its file changed; "
            "restore it and add the change as a new version"
        )


def _move(
    conn: sa.Connection,
    pending: list[Event],
    *,
    name: str,
    label: str,
    action: str,
    from_version: str | None,
    to_version: str,
    actor: str,
    reason: str,
    report_hash: str | None,
    summary: dict[str, Any] | None,
) -> dict[str, Any]:
    now = datetime.now(UTC)
    if from_version is None:
        conn.execute(
            sa.insert(prompt_labels).values(
                name=name, label=label, version=to_version, updated_at=now, updated_by=actor
            )
        )
    else:
        conn.execute(
            sa.update(prompt_labels)
            .where(prompt_labels.c.name == name, prompt_labels.c.label == label)
            .values(version=to_version, updated_at=now, updated_by=actor)
        )
    move = {
        "name": name,
        "label": label,
        "action": action,
        "from_version": from_version,
        "to_version": to_version,
        "actor": actor,
        "reason": reason,
        "report_sha256": report_hash,
        "report_summary": summary,
        "at": now,
    }
    conn.execute(sa.insert(prompt_label_moves).values(**move))
    detail = {k: v for k, v in move.items() if k not in ("name", "at", "actor")}
    conn.execute(
        sa.insert(audit_log).values(
            actor=actor,
            action=f"prompt.{action}",
            subject_type="prompt",
            subject_id=f"{name}:{label}",
            detail=detail,
            at=now,
        )
    )
    pending.append(record(conn, Event(LABEL_MOVED, {"prompt": name, **detail}, domain="gateway")))
    return {**move, "at": now.isoformat()}


def promote(
    rt: Runtime,
    prompt: Prompt,
    version: str,
    label: str,
    *,
    actor: str,
    reason: str,
    report: dict[str, Any],
    report_bytes: bytes | None = None,
) -> dict[str, Any]:
    """Point ``label`` at ``version`` if ``report`` meets the version's thresholds; the version is
    released (its fingerprint frozen) on its first promotion."""
    if not reason.strip():
        raise BadRequest("say why: a label move needs a reason")
    pv = prompt.get(version)
    summary = check_report(report, pv)
    digest = report_sha256(report_bytes if report_bytes is not None else report)
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
                    released_by=actor,
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
            summary=summary,
        )


def rollback(rt: Runtime, prompt: Prompt, label: str, *, actor: str, reason: str) -> dict[str, Any]:
    """Move ``label`` back to the version it served before its latest promotion still in force."""
    if not reason.strip():
        raise BadRequest("say why: a label move needs a reason")
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


def select(
    prompt: Prompt,
    labels: dict[str, str],
    *,
    version: str | None = None,
    label: str | None = None,
    user_hash: str | None = None,
    locale: str | None = None,
    market: str | None = None,
) -> Selection:
    if version:
        return Selection(prompt.get(version), "version")
    if label:
        if label not in labels:
            raise NotFound(f"label {label!r} of prompt {prompt.name!r} is not set")
        return Selection(prompt.get(labels[label]), f"label:{label}")
    for flag in prompt.flags:
        if _matches(flag, user_hash, locale, market):
            target = labels.get(flag.serve, flag.serve if flag.serve in prompt.versions else None)
            if target:
                return Selection(prompt.get(target), f"flag:{flag.name}")
    if DEFAULT_LABEL not in labels:
        raise Conflict(
            f"prompt {prompt.name!r} has no {DEFAULT_LABEL} version yet; promote one "
            f"(charter prompts promote {prompt.name} VERSION --label {DEFAULT_LABEL} ...) "
            "or ask for a version explicitly"
        )
    return Selection(prompt.get(labels[DEFAULT_LABEL]), f"label:{DEFAULT_LABEL}")
