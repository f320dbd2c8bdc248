"""Prompts: the prompt registry with versions, labels, changelogs, label history and the eval
results checked for each version, the differences between two versions; promote (eval-gated) and
roll back. Each page and button calls :mod:`charter.gateway.prompts.catalog`, the same functions as
``/v1/prompts`` and ``charter prompts`` (the comparison is ``charter prompts diff``); the permission
checks (publish, to move a label) are the catalog's."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response
from starlette.datastructures import FormData, UploadFile

from charter.admin.diffs import unified_lines
from charter.admin.security import MAX_FORM_FIELDS, check_csrf, signed_in
from charter.admin.web import AdminRoute, Ctx, redirect, render
from charter.exceptions import BadRequest, CharterError, NotFound, ValidationFailed
from charter.gateway.prompts.registry import SEMVER

router = APIRouter(route_class=AdminRoute)

PromptName = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9_-]{0,99}$")]
#: An uploaded eval report larger than this is refused (reports are summaries plus per-case rows).
MAX_REPORT_BYTES = 5 * 1024 * 1024
DONE = {
    "promote": "Promoted: the label now serves the version you chose.",
    "rollback": "Rolled back: the label serves the version it served before.",
}


def _text(exc: Exception) -> str:
    t = str(exc)
    return t[:1].upper() + t[1:] + ("" if t.endswith(".") else ".")


@router.get("/prompts")
async def prompts_page(request: Request) -> Response:
    from charter.gateway.prompts import catalog

    ctx = await signed_in(request)
    error = ""
    try:
        prompts = await ctx.call(catalog.list_prompts, ctx.rt)
    except CharterError as exc:  # a broken prompt file or model.yaml: say which
        prompts, error = [], _text(exc)
    return render(ctx, "prompts/list.html", title="Prompts", section="prompts", prompts=prompts, error=error)


def _evals_by_version(evals: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for e in evals:
        out.setdefault(str(e["version"]), []).append(e)
    return out


def _default_pair(prompt: dict[str, Any]) -> tuple[str, str]:
    """The version ``production`` (else the first label) serves against the newest one; the one
    before the newest when no label is set or the label already serves the newest."""
    ordered = [v["version"] for v in prompt["versions"]]  # ascending
    newest = ordered[-1]
    labels = prompt["labels"]
    served = labels.get("production") or next((labels[k] for k in sorted(labels)), None)
    if served is None or served not in ordered or served == newest:
        served = ordered[-2] if len(ordered) > 1 else newest
    return str(served), newest


def _compare(ctx: Ctx, prompt: dict[str, Any], old: str | None, new: str | None) -> dict[str, Any]:
    """The comparison the page shows: ``old``, ``new``, ``status`` and either ``error`` (a sentence)
    or ``parts`` (messages and settings, each the lines of its unified diff, empty when the same)."""
    from charter.gateway.prompts import catalog

    default_old, default_new = _default_pair(prompt)
    old, new = old or default_old, new or default_new
    out: dict[str, Any] = {"old": old, "new": new, "status": 200, "error": "", "parts": {}}
    if len(prompt["versions"]) < 2:
        return out
    bad = next((v for v in (old, new) if not SEMVER.match(v)), None)
    if bad is not None:
        shown = bad if len(bad) <= 40 else bad[:40] + "…"
        return {**out, "status": 400, "error": f"{shown!r} is not a version: versions look like 1.2.0."}
    if old == new:
        return {**out, "status": 400, "error": f"Pick two different versions to compare: both are {old}."}
    try:
        out["parts"] = {
            part: unified_lines(catalog.diff_versions(ctx.rt, prompt["name"], old, new, part))
            for part in ("messages", "settings")
        }
    except NotFound as exc:
        return {**out, "status": exc.status, "error": _text(exc)}
    return out


def _detail(
    ctx: Ctx,
    name: str,
    status: int = 200,
    *,
    compare: tuple[str | None, str | None] = (None, None),
    notices: list[str] | None = None,
    error: str = "",
    errors: list[str] | None = None,
    which: str = "",
    values: dict[str, str] | None = None,
) -> Response:
    from charter.gateway.prompts import catalog

    prompt = catalog.describe_prompt(ctx.rt, name)
    versions = list(reversed(prompt["versions"]))  # newest first
    promoted_labels = sorted(prompt["labels"])
    comparison = _compare(ctx, prompt, *compare)
    return render(
        ctx,
        "prompts/detail.html",
        status if status != 200 else comparison["status"],
        title=f"Prompt {name}",
        section="prompts",
        prompt=prompt,
        versions=versions,
        evals=_evals_by_version(prompt["evals"]),
        history=list(reversed(prompt["history"])),  # newest first
        labels=promoted_labels,
        notices=notices or [],
        error=error,
        errors=errors or [],
        which=which,
        values=values or {},
        compare=comparison,
    )


@router.get("/prompts/{name}")
async def prompt_page(request: Request, name: PromptName) -> Response:
    ctx = await signed_in(request)
    notices = [DONE[d] for d in request.query_params.getlist("done") if d in DONE]
    compare = (request.query_params.get("from") or None, request.query_params.get("to") or None)
    return await ctx.call(_detail, ctx, name, notices=notices, compare=compare)


async def _report(form: FormData) -> tuple[Any, bytes]:
    """The eval report from the uploaded file, else from the text area (BadRequest if neither
    holds a JSON document)."""
    upload = form.get("report_file")
    raw = b""
    if isinstance(upload, UploadFile) and upload.filename:
        raw = await upload.read(MAX_REPORT_BYTES + 1)
        if len(raw) > MAX_REPORT_BYTES:
            raise BadRequest(f"the eval report is larger than {MAX_REPORT_BYTES // (1024 * 1024)} MB")
    if not raw.strip():
        raw = str(form.get("report") or "").encode()
    if not raw.strip():
        raise BadRequest("attach the eval report (a charter.eval-report/1 JSON file, from charter eval run --report)")
    try:
        return json.loads(raw), raw
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BadRequest(f"the eval report is not JSON: {exc}") from None


def _problems(exc: CharterError) -> list[str]:
    return [f"{e.pointer}: {e.message}" if e.pointer else e.message for e in exc.errors]


@router.post("/prompts/{name}/promote")
async def promote(request: Request, name: PromptName) -> Response:
    from charter.gateway.prompts import catalog

    ctx = await signed_in(request)
    form = await request.form(max_fields=MAX_FORM_FIELDS, max_files=1)
    values = {k: str(form.get(k) or "") for k in ("version", "label", "reason")}
    values["report"] = str(form.get("report") or "") if isinstance(form.get("report"), str) else ""
    values["label"] = values["label"] or "production"
    try:
        if form.get("_restore"):
            raise BadRequest("your session had expired; attach the eval report again and promote")
        check_csrf(ctx, form)
        report, raw = await _report(form)
        await ctx.call(
            catalog.promote_prompt,
            ctx.rt,
            ctx.actor,
            name,
            values["version"],
            values["label"],
            reason=values["reason"],
            report=report,
            report_bytes=raw,
        )
    except CharterError as exc:
        heading = _text(exc)
        if isinstance(exc, ValidationFailed):
            heading = _text(exc) + " The eval gate refused the promotion; the label did not move."
        return await ctx.call(
            _detail, ctx, name, exc.status, error=heading, errors=_problems(exc), which="promote", values=values
        )
    return redirect(f"/admin/prompts/{name}?done=promote")


@router.post("/prompts/{name}/rollback")
async def rollback(request: Request, name: PromptName) -> Response:
    from charter.gateway.prompts import catalog

    ctx = await signed_in(request)
    form = await request.form(max_fields=MAX_FORM_FIELDS, max_files=0)
    values = {k: str(form.get(k) or "") for k in ("label", "reason")}
    values["label"] = values["label"] or "production"
    try:
        if form.get("_restore"):
            raise BadRequest("your session had expired; review the roll-back and confirm it again")
        check_csrf(ctx, form)
        await ctx.call(catalog.rollback_prompt, ctx.rt, ctx.actor, name, values["label"], reason=values["reason"])
    except CharterError as exc:
        return await ctx.call(
            _detail, ctx, name, exc.status, error=_text(exc), errors=_problems(exc), which="rollback", values=values
        )
    return redirect(f"/admin/prompts/{name}?done=rollback")
