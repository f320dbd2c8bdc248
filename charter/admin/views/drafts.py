"""AI drafts in the entry editor: "Generate draft" runs a prompt whose output is the entry's content
type (:func:`charter.gateway.prompts.catalog.run`, the action behind ``POST /v1/prompts/{name}/run``,
with ``save_draft=False``) and puts the validated values into the form with their risk level.
Nothing is saved until the editor saves; a failure (provider down, output failing the schema,
bad variables) is shown on the page and the form keeps what was in it."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from charter.admin import aidrafts
from charter.admin.forms import form_for, read_entry
from charter.admin.security import check_csrf, read_form, signed_in
from charter.admin.views.content import _int, _load, _problem_text, _text_fields, editor
from charter.admin.web import AdminRoute, Ctx
from charter.auth.roles import Permission
from charter.exceptions import CharterError, Forbidden, ValidationFailed
from charter.observability.propagation import current_trace_id
from charter.schemas.registry import ContentType

router = APIRouter(route_class=AdminRoute)


@router.post("/content/new/generate")
async def generate_new(request: Request, type: Annotated[str, Query(max_length=100)] = "") -> Response:
    ctx = await signed_in(request)
    form = await read_form(request)
    ct = ctx.rt.registry.get(type or str(form.get("_type") or ""))
    data = read_entry(ct, form_for(ct), _text_fields(form))
    common: dict[str, Any] = {"entry": None, "data": data, "message": str(form.get("_message") or ""), "form": form}
    return await _generate(ctx, ct, form, common)


@router.post("/content/{entry_id}/generate")
async def generate_for_entry(request: Request, entry_id: str) -> Response:
    ctx = await signed_in(request)
    form = await read_form(request)
    entry, _, ct = await ctx.call(_load, ctx, entry_id)
    data = read_entry(ct, form_for(ct), _text_fields(form))
    common: dict[str, Any] = {
        "entry": entry,
        "data": data,
        "message": str(form.get("_message") or ""),
        "etag": str(form.get("_etag") or "") or None,
        "base_revision": _int(form.get("_base")),
        "form": form,
    }
    return await _generate(ctx, ct, form, common)


async def _generate(ctx: Ctx, ct: ContentType, form: FormData, common: dict[str, Any]) -> Response:
    from charter.gateway import get_gateway
    from charter.gateway.prompts import catalog
    from charter.gateway.prompts.run import draft_message

    name = str(form.get(aidrafts.PROMPT_FIELD) or "")[:100]
    if form.get("_restore"):
        notices = ["Your unsaved changes are restored. Generate the draft again, or save."]
        return await ctx.call(editor, ctx, ct, notices=notices, **common)

    def page(status: int, **state: Any) -> Response:
        errors = state.pop("variable_errors", None)
        ai = aidrafts.panel(ctx.rt, ct, form, variable_errors=errors, active=name, **state)
        locale = ai.result.locale if ai.result else None
        return editor(ctx, ct, status=status, ai=ai, locale=locale, **common)

    try:
        check_csrf(ctx, form)
        if not ctx.can(Permission.WRITE):
            raise Forbidden(f"role {ctx.user.role.value!r} may not write entries, so it may not generate drafts")
        variables, bad = await ctx.call(aidrafts.read_variables, ctx.rt, name, form)
        if bad:
            return await ctx.call(page, 422, variable_errors=bad, error="Some variables are not valid; nothing ran.")
        gw = get_gateway(ctx.rt)
        result = await catalog.run(
            ctx.rt,
            name,
            variables,
            **aidrafts.selection(form, name),
            save_draft=False,
            actor=ctx.actor,
            key=gw.token_key(ctx.actor),
        )
    except ValidationFailed as exc:
        if "audit_id" in exc.extra:  # the model's output, still invalid after one repair
            text = _problem_text(exc) + " Nothing was put into the form."
            return await ctx.call(page, 422, error=text, errors=aidrafts.output_problems(exc.errors))
        by_field, other = aidrafts.variable_problems(exc.errors)
        return await ctx.call(page, 422, variable_errors=by_field, error=_problem_text(exc), errors=other)
    except Forbidden as exc:  # this role may not write: the page says so, without the panel
        return await ctx.call(
            editor, ctx, ct, status=exc.status, page_error=_problem_text(exc), ai=aidrafts.DraftPanel(), **common
        )
    except CharterError as exc:  # CSRF, unknown prompt, no production version, gateway failures
        return await ctx.call(page, exc.status, error=_problem_text(exc))

    version = catalog.registry(ctx.rt).get(name).get(result["version"])
    locale = (version.output.locale if version.output else None) or ct.locales.default
    if locale not in ct.locales.supported:
        locale = ct.locales.default
    risk = result["risk"] or {"level": "low", "reasons": []}
    note = draft_message(result["prompt"], result["version"], risk["level"], risk["reasons"])
    common["data"] = aidrafts.fill(common["data"], locale, result["data"] or {})
    common["message"] = common["message"] or note
    done = aidrafts.DraftResult(
        prompt=result["prompt"],
        version=result["version"],
        selected_by=result["selected_by"],
        risk=risk["level"],
        reasons=list(risk["reasons"]),
        audit_id=result["id"],
        locale=locale,
        message=note,
        trace_id=current_trace_id() or "",
    )
    done.trace_url = ctx.rt.telemetry.options.trace_link(done.trace_id)
    return await ctx.call(page, 200, result=done)
