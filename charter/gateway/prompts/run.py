"""Run a registered prompt: choose the version (version > label > flags > production), render it,
route it, validate structured output (one repair), save a draft with its risk level, and write
one audit record for the whole run."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
import structlog

from charter.auth.roles import Actor, Permission, Role
from charter.exceptions import CharterError, Forbidden, ValidationFailed
from charter.gateway.prompts.labels import check_immutable, labels_of, releases_of, select
from charter.gateway.redaction import hash_user
from charter.gateway.resilience import KeyState
from charter.gateway.service import Gateway
from charter.gateway.structured import flatten_text, parse_json, repair_message, response_format
from charter.gateway.tables import gateway_drafts
from charter.gateway.types import Completion, new_id

log = structlog.get_logger("charter.gateway.prompts")
#: Who writes drafts when a library caller (a worker, a script) passes no actor.
GATEWAY_AUTHOR = Actor(name="gateway", role=Role.EDITOR, kind="system")


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
    """Run prompt ``name`` and return what ``POST /v1/prompts/{name}/run`` answers.

    Raises NotFound (prompt, version or label), Conflict (no production version yet, or a
    released version edited on disk), ValidationFailed (variables; or output still invalid after
    the repair, with ``audit_id``), Forbidden (a draft would be saved but ``actor`` may not
    write) and :class:`~charter.gateway.service.GatewayError` (limits, upstream failures).

    ``actor`` is who asked: drafts are written as them (``GATEWAY_AUTHOR`` when None), and a
    low-risk draft is auto-published only when the prompt allows it *and* the actor may publish.
    """
    prompt = gw.prompts.get(name)

    def read() -> tuple[dict[str, str], dict[str, str]]:
        with gw.rt.read() as conn:
            return labels_of(conn, name), releases_of(conn, name)

    labels, released = await asyncio.to_thread(read)
    user_hash = hash_user(user, gw.pii_key) if user else None
    selection = select(
        prompt,
        labels,
        version=version,
        label=label,
        user_hash=user_hash,
        locale=locale,
        market=market,
        released=released,
    )
    pv = selection.version
    check_immutable(pv, released)
    author = actor or GATEWAY_AUTHOR
    want_draft = bool(pv.output and (pv.output.save_draft if save_draft is None else save_draft))
    if want_draft and not author.can(Permission.WRITE):
        raise Forbidden(
            f"prompt {pv.name}@{pv.version} saves a draft entry and role {author.role.value!r} may not write; "
            "run it with save_draft: false or with an editor token"
        )
    messages = pv.render(variables)
    params = dict(pv.params)
    ct = None
    type_name = None
    if pv.output:
        ct = gw.rt.registry.get(pv.output.schema_id)
        type_name = ct.name
        params["response_format"] = response_format(ct.schema_id, ct.schema)
    call_id = new_id()
    # The prompt's own risk rules pick the route on a by-risk route (the output type counts too).
    input_risk, _ = pv.risk.assess(" ".join(str(m["content"]) for m in messages), type_name)
    meta: dict[str, Any] = {"prompt": pv.name, "prompt_version": pv.version, "call_id": call_id, "risk": input_risk}
    started = time.perf_counter()
    # A routing failure is audited by complete() itself; a success is audited once, below.
    first = await gw.complete(
        pv.route, messages, metadata=meta, user=user, params=params, key=key, endpoint="prompt", audit=False
    )
    calls = [first]
    result: dict[str, Any] = {"data": None, "validation": None, "risk": None, "draft": None}
    error: ValidationFailed | None = None
    if ct is not None and pv.output is not None:
        doc, errors = parse_json(first.text)
        errors = errors or ct.validate_document(doc)
        repaired = False
        if errors:
            retry = [*messages, {"role": "assistant", "content": first.text}, repair_message(ct.schema_id, errors)]
            second = await gw.complete(
                pv.route, retry, metadata=meta, user=user, params=params, charge=key, endpoint="prompt", audit=False
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
            log.warning(
                "prompt_output_invalid", prompt=pv.name, version=pv.version, audit_id=call_id, errors=len(errors)
            )
        else:
            result["data"] = doc
            level, reasons = pv.risk.assess(flatten_text(doc), ct.name)
            result["risk"] = {"level": level, "reasons": reasons}
            if want_draft:
                locale_ = pv.output.locale or ct.locales.default
                result["draft"] = await asyncio.to_thread(
                    save_ai_draft,
                    gw,
                    author,
                    ct.name,
                    locale_,
                    doc,
                    level,
                    reasons,
                    pv.name,
                    pv.version,
                    call_id,
                    pv.output.auto_publish,
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


def draft_message(prompt: str, version: str, level: str, reasons: list[str]) -> str:
    """The change note of an AI draft's first revision: which prompt version wrote it, at what risk."""
    return f"AI draft from prompt {prompt}@{version} (risk: {level}{': ' + ', '.join(reasons) if reasons else ''})"


def save_ai_draft(
    gw: Gateway,
    actor: Actor,
    type_name: str,
    locale: str,
    doc: dict[str, Any],
    level: str,
    reasons: list[str],
    prompt: str,
    version: str,
    call_id: str,
    auto_publish: bool,
) -> dict[str, Any]:
    """Save ``doc`` as a draft entry through the content actions, with its risk level, in one
    transaction. Medium and high risk drafts are marked ``needs_review`` and never published
    here; a low-risk one is published only if the prompt allows it and ``actor`` may publish."""
    from charter.content.actions import create_entry, publish_entry

    message = draft_message(prompt, version, level, reasons)
    status = "needs_review" if level in ("medium", "high") else "draft"
    try:
        with gw.rt.write() as (conn, _pending):
            entry = create_entry(gw.rt, actor, type_name, {locale: doc}, message=message)
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
    except CharterError as exc:
        # The output matched the schema but the entry cannot be stored (a duplicate slug, a locale
        # the type also requires): say so in the answer rather than fail the whole run.
        return {"saved": False, "detail": exc.detail, "errors": [e.to_dict() for e in exc.errors]}
    publish_refused = None
    if status == "draft" and auto_publish and actor.can(Permission.PUBLISH):
        # Its own step: when the type's workflow refuses a direct publish (approvals), the draft
        # stays saved, for review.
        try:
            with gw.rt.write() as (conn, _pending):
                publish_entry(gw.rt, actor, entry.id)
                conn.execute(
                    sa.update(gateway_drafts).where(gateway_drafts.c.entry_id == entry.id).values(status="published")
                )
            status = "published"
        except CharterError as exc:
            publish_refused = exc.detail
    return {
        "saved": True,
        "entry_id": entry.id,
        "type": type_name,
        "locale": locale,
        "risk": level,
        "reasons": reasons,
        "status": status,
        **({"publish_refused": publish_refused} if publish_refused else {}),
    }
