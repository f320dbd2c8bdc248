"""Run a registered prompt: choose the version (version > label > flags > production), render it,
route it, validate structured output (one repair), save a draft with its risk level, and write
one audit record for the whole run."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from charter.auth.roles import Actor, Role
from charter.exceptions import CharterError, ValidationFailed
from charter.gateway.prompts.labels import check_immutable, labels_of, releases_of, select
from charter.gateway.redaction import hash_user
from charter.gateway.resilience import KeyState
from charter.gateway.service import Gateway
from charter.gateway.structured import flatten_text, parse_json, repair_message, response_format
from charter.gateway.tables import gateway_drafts
from charter.gateway.types import Completion


async def run_prompt(
    gw: Gateway,
    name: str,
    variables: dict[str, Any],
    *,
    version: str | None = None,
    label: str | None = None,
    user: str | None = None,
    locale: str | None = None,
    market: str | None = None,
    key: KeyState | None = None,
    save_draft: bool | None = None,
    actor: Actor | None = None,
) -> dict[str, Any]:
    prompt = gw.prompts.get(name)
    with gw.rt.read() as conn:
        labels = labels_of(conn, name)
        released = releases_of(conn, name)
    user_hash = hash_user(user, gw.pii_key) if user else None
    selection = select(prompt, labels, version=version, label=label, user_hash=user_hash, locale=locale, market=market)
    pv = selection.version
    check_immutable(pv, released)
    messages = pv.render(variables)
    params = dict(pv.params)
    ct = None
    if pv.output:
        ct = gw.rt.registry.get(pv.output.schema_id)
        params["response_format"] = response_format(ct.schema_id, ct.schema)
    call_id = str(uuid.uuid4())
    meta: dict[str, Any] = {"prompt": pv.name, "prompt_version": pv.version, "call_id": call_id}
    started = time.perf_counter()
    # A routing failure is audited by complete() itself; a success is audited once, below.
    first = await gw.complete(
        pv.route, messages, metadata=meta, user=user, params=params, key=key, endpoint="prompt", audit=False
    )
    calls = [first]
    result: dict[str, Any] = {"data": None, "validation": None, "draft": None}
    error: ValidationFailed | None = None
    if ct is not None and pv.output is not None:
        doc, errors = parse_json(first.text)
        errors = errors or ct.validate_document(doc)
        repaired = False
        if errors:
            retry = [*messages, {"role": "assistant", "content": first.text}, repair_message(ct.schema_id, errors)]
            second = await gw.complete(
                pv.route, retry, metadata=meta, user=user, params=params, key=None, endpoint="prompt", audit=False
            )
            calls.append(second)
            doc, errors = parse_json(second.text)
            errors = errors or ct.validate_document(doc)
            repaired = not errors
        validation = {
            "schema": ct.schema_id,
            "valid": not errors,
            "repaired": repaired,
            "attempts": len(calls),
            "errors": [e.to_dict() for e in errors],
        }
        result["validation"] = validation
        if errors:
            error = ValidationFailed(
                detail=f"the model's output does not validate against {ct.schema_id} after one repair attempt",
                errors=errors,
                extra={"audit_id": call_id},
            )
        else:
            result["data"] = doc
            level, reasons = pv.risk.assess(flatten_text(doc), ct.name)
            result["risk"] = {"level": level, "reasons": reasons}
            want_draft = pv.output.save_draft if save_draft is None else save_draft
            if want_draft:
                result["draft"] = _save_draft(
                    gw,
                    ct.name,
                    pv.output.locale or ct.locales.default,
                    doc,
                    level,
                    reasons,
                    pv.name,
                    pv.version,
                    call_id,
                    pv.output.auto_publish,
                    actor,
                )
    last = calls[-1]
    total_usage = {k: sum(c.usage.get(k, 0) for c in calls) for k in ("prompt_tokens", "completion_tokens")}
    chain = [step for c in calls for step in c.fallback_chain]
    latency = (time.perf_counter() - started) * 1000
    cost = sum(c.cost for c in calls)
    gw.record(
        Completion(
            last.text,
            last.model,
            last.provider,
            last.route,
            chain,
            total_usage,
            latency,
            cost,
            last.citations,
            model_version=last.model_version,
            tool_calls=last.tool_calls,
        ),
        endpoint="prompt",
        key=key,
        user=user,
        messages=messages,
        metadata={**meta, "validation": result["validation"]},
        error=error.detail if error else None,
    )
    if error is not None:
        raise error
    return {
        "id": call_id,
        "prompt": pv.name,
        "version": pv.version,
        "selected_by": selection.selected_by,
        "output": last.text,
        **result,
        "model": last.model,
        "model_version": last.model_version,
        "provider": last.provider,
        "route": last.route,
        "fallback_chain": chain,
        "citations": last.citations,
        "usage": {**total_usage, "total_tokens": sum(total_usage.values())},
        "cost": cost,
        "latency_ms": round(latency, 3),
    }


def _save_draft(
    gw: Gateway,
    type_name: str,
    locale: str,
    doc: dict[str, Any],
    level: str,
    reasons: list[str],
    prompt: str,
    version: str,
    call_id: str,
    auto_publish: bool,
    actor: Actor | None,
) -> dict[str, Any]:
    """Save ``doc`` as a draft entry; publish it only when low risk and the prompt allows it."""
    from charter.content.actions import create_entry, publish_entry

    author = actor or Actor(name=f"gateway:{prompt}", role=Role.EDITOR, kind="system")
    message = f"AI draft from prompt {prompt}@{version} (risk: {level}{': ' + ', '.join(reasons) if reasons else ''})"
    try:
        entry = create_entry(gw.rt, author, type_name, {locale: doc}, message=message)
    except CharterError as exc:
        # The output matched the schema but the entry cannot be stored (a duplicate slug, a locale
        # the type also requires): say so rather than fail the whole run.
        return {"saved": False, "detail": exc.detail, "errors": [e.to_dict() for e in exc.errors]}
    status = "needs_review" if level in ("medium", "high") else "draft"
    if status == "draft" and auto_publish:
        publisher = Actor(name=f"gateway:{prompt}", role=Role.PUBLISHER, kind="system")
        publish_entry(gw.rt, publisher, entry.id)
        status = "published"
    with gw.rt.write() as (conn, _pending):
        conn.execute(
            sa.insert(gateway_drafts).values(
                entry_id=entry.id,
                call_id=call_id,
                prompt=prompt,
                prompt_version=version,
                type=type_name,
                risk=level,
                reasons=reasons,
                status=status,
                created_at=datetime.now(UTC),
            )
        )
    return {
        "saved": True,
        "entry_id": entry.id,
        "type": type_name,
        "locale": locale,
        "risk": level,
        "reasons": reasons,
        "status": status,
    }
