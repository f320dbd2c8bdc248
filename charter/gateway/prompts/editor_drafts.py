"""AI drafts the admin's editor saves: the same ``gateway_drafts`` record as a saved prompt run.

"Generate a draft" in the editor stores nothing (:mod:`charter.admin.views.drafts`); the form
carries the audit id of the run that wrote it (``_ai_call``). When the editor saves, :func:`save`
writes the entry and its draft record in one transaction: the risk is the higher of the run's
own and the saved content's under the prompt's rules, so editing a risky draft does not launder
it. A medium or high risk draft is ``needs_review`` and publishes only through an approved
release (:mod:`charter.content.ai_risk`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from charter.content.models import Entry
from charter.exceptions import BadRequest, CharterError
from charter.gateway.risk import LEVELS, RiskRules
from charter.gateway.structured import flatten_text
from charter.gateway.tables import gateway_calls, gateway_drafts
from charter.runtime import Runtime


@dataclass(frozen=True)
class Generated:
    call_id: str
    prompt: str
    version: str
    risk: str
    rules: RiskRules


def generated_by(rt: Runtime, call_id: str) -> Generated:
    """The prompt run ``call_id`` (its audit record; written first if still queued). BadRequest
    when there is no such prompt run."""
    from charter.gateway import get_gateway

    gw = get_gateway(rt)
    gw.audit.flush()
    with rt.read() as conn:
        row = conn.execute(
            sa.select(gateway_calls.c.prompt, gateway_calls.c.prompt_version, gateway_calls.c.risk).where(
                gateway_calls.c.id == call_id[:36], gateway_calls.c.endpoint == "prompt"
            )
        ).first()
    if row is None or not row.prompt:
        raise BadRequest(f"there is no AI draft run {call_id!r}; generate the draft again")
    try:
        rules = gw.prompts.get(row.prompt).get(row.prompt_version or "").risk
    except CharterError:  # the prompt or version is gone: the default rules still apply
        rules = RiskRules()
    return Generated(call_id[:36], row.prompt, row.prompt_version or "", row.risk or "low", rules)


def save(rt: Runtime, call_id: str, write: Callable[[], Entry]) -> Entry:
    """Run ``write`` (the editor's create or update action) and record its entry as an AI draft
    of run ``call_id``, in one transaction."""
    gen = generated_by(rt, call_id)
    with rt.write() as (conn, _pending):
        entry = write()
        from charter.content import store

        data = store.get_revision(conn, entry.id, entry.current_revision).data
        level, reasons = gen.rules.assess(flatten_text(data), entry.type)
        if LEVELS.get(gen.risk, 0) > LEVELS[level]:
            level = gen.risk
        values: dict[str, Any] = {
            "call_id": gen.call_id,
            "prompt": gen.prompt,
            "prompt_version": gen.version,
            "type": entry.type,
            "risk": level,
            "reasons": reasons,
            "status": "needs_review" if level in ("medium", "high") else "draft",
            "created_at": datetime.now(UTC),
        }
        done = conn.execute(
            sa.update(gateway_drafts).where(gateway_drafts.c.entry_id == entry.id).values(**values)
        ).rowcount
        if not done:
            conn.execute(sa.insert(gateway_drafts).values(entry_id=entry.id, **values))
    return entry
