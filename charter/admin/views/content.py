"""Content: the entry list (search and filters), the schema-driven editor, publish, unpublish and
delete. Every write calls :mod:`charter.content.actions`, the same functions as the API."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from charter.admin.diffs import DiffRow, diff_rows, field_paths
from charter.admin.forms import Edit, Node, apply_edit, build_form, form_for, read_entry
from charter.admin.queries import content_page, display_title, reference_options
from charter.admin.rendering import SECURITY_HEADERS
from charter.admin.security import CsrfFailed, check_csrf, read_form, signed_in
from charter.admin.web import AdminRoute, Ctx, redirect, render
from charter.content import actions, store
from charter.content.models import Entry
from charter.exceptions import (
    BadRequest,
    Conflict,
    ErrorDetail,
    Forbidden,
    NotFound,
    PreconditionFailed,
    PreconditionRequired,
    ValidationFailed,
)
from charter.schemas.registry import ContentType

router = APIRouter(route_class=AdminRoute)

DONE = {
    "created": "Draft created.",
    "saved": "Saved as a new revision.",
    "published": "Published: the delivery API now serves this revision.",
    "unpublished": "Unpublished: the delivery API no longer serves this entry.",
    "deleted": "Entry deleted. Its history is kept.",
    "rolled_back": "Rolled back: the chosen revision's content is the current revision now.",
    "ai_draft": "AI draft saved. Review it here: every field is editable, and it is not published.",
}
STATUSES = ("draft", "published", "changed", "deleted")
PER_PAGE = 25

#: Templates other domains add to the editor's side panel (``content/_side_*.html``), and links
#: shown under the title, as ``(href template, label)`` with ``{id}`` for the entry id.
SIDE_PANELS: list[str] = ["content/_side_release.html"]
ENTRY_LINKS: list[tuple[str, str]] = []


def who(author: str) -> str:
    """``user:ana`` -> "ana"; ``token:ci`` -> "API token ci"; ``system:system`` -> "the system"."""
    kind, _, name = author.partition(":")
    return {"user": name, "token": f"API token {name}", "system": "the system"}.get(kind, author)


@router.get("/content")
async def content_list(
    request: Request,
    type: Annotated[str, Query(max_length=100)] = "",
    status: Annotated[str, Query(max_length=20)] = "",
    locale: Annotated[str, Query(max_length=35)] = "",
    q: Annotated[str, Query(max_length=100)] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    ctx = await signed_in(request)
    registry = ctx.rt.registry
    problems = []
    if type and type not in registry:
        problems.append(f"There is no content type {type!r}; showing every type.")
        type = ""
    if status and status not in STATUSES:
        problems.append(f"There is no status {status!r}; showing every status.")
        status = ""
    locales = sorted({loc for ct in registry for loc in ct.locales.supported})
    if locale and locale not in locales:
        problems.append(f"No content type uses the locale {locale!r}; showing every locale.")
        locale = ""

    def load() -> tuple[list[Any], int]:
        with ctx.rt.read() as conn:
            return content_page(
                conn,
                registry,
                type_name=type or None,
                status=status or None,
                locale=locale or None,
                q=q.strip() or None,
                page=page,
                per_page=PER_PAGE,
            )

    rows, total = await ctx.call(load)
    pages = max(1, -(-total // PER_PAGE))
    return render(
        ctx,
        "content/list.html",
        400 if problems else 200,
        title="Content",
        section="content",
        rows=rows,
        total=total,
        page=page,
        pages=pages,
        filters={"type": type, "status": status, "locale": locale, "q": q},
        types=sorted(registry, key=lambda t: t.name),
        statuses=STATUSES,
        locales=locales,
        problems=problems,
        notices=[DONE[d] for d in request.query_params.getlist("done") if d in DONE],
    )


# --- the editor --------------------------------------------------------------------------------


@dataclass
class Conflict409:
    author: str
    at: Any
    message: str | None
    base: int
    current: int
    theirs: list[DiffRow]
    overlap: list[str]


def _ref_types(node: Node) -> set[str]:
    found: set[str] = set()
    if node.ref_type:
        found.add(node.ref_type)
    for child in [*node.children, *node.branches.values(), *([node.item] if node.item else [])]:
        found |= _ref_types(child)
    return found


def _active_locale(ct: ContentType, form: FormData | None, focus: str | None, view: Any, wanted: str | None) -> str:
    supported = ct.locales.supported
    if focus and focus.startswith("/"):
        loc = focus.split("/")[1].replace("~1", "/").replace("~0", "~")
        if loc in supported:
            return loc
    if view.summary:
        first = view.tab_with_errors()
        if first:
            return str(first)
    for candidate in (wanted, str(form.get("_tab") or "") if form is not None else None):
        if candidate in supported:
            return str(candidate)
    return ct.locales.default


def editor(
    ctx: Ctx,
    ct: ContentType,
    *,
    entry: Entry | None,
    data: dict[str, Any],
    status: int = 200,
    errors: list[ErrorDetail] | None = None,
    focus: str | None = None,
    form_status: str = "",
    page_error: str = "",
    conflict: Conflict409 | None = None,
    notices: list[str] | None = None,
    message: str = "",
    etag: str | None = None,
    base_revision: int | None = None,
    form: FormData | None = None,
    fragment: bool = False,
    locale: str | None = None,
    ai: Any = None,
    live: LiveFrame | None = None,
) -> Response:
    """The entry editor for ``data`` (blocking: run it in the thread pool). ``ai`` is the state of
    the "Generate a draft" panel (:class:`charter.admin.aidrafts.DraftPanel`; built when None)."""
    node = form_for(ct)
    with ctx.rt.read() as conn:
        refs = reference_options(conn, ctx.rt.registry, _ref_types(node))
    view = build_form(ct, node, data, errors, refs, focus, form_status)
    values: dict[str, Any] = {
        "ct": ct,
        "entry": entry,
        "form": view,
        "focus": focus,
        "active_locale": _active_locale(ct, form, focus, view, locale),
        "default_locale": ct.locales.default,
        "action": f"/admin/content/{entry.id}" if entry else f"/admin/content/new?type={ct.name}",
    }
    if fragment:
        return render(ctx, "content/form_fragment.html", status, **values)
    if ai is None and ctx.can("write") and (entry is None or entry.status != "deleted"):
        from charter.admin.aidrafts import panel

        ai = panel(ctx.rt, ct, form)
    headers = None
    if live is not None:  # the page may frame that one front end (and only it)
        headers = {
            "Content-Security-Policy": SECURITY_HEADERS["Content-Security-Policy"] + f"; frame-src {live.origin}"
        }
    return render(
        ctx,
        "content/edit.html",
        status,
        headers,
        live=live,
        live_preview=_live_preview_offered(ctx, ct) if entry is not None and entry.status != "deleted" else False,
        title=(f"Edit {display_title(ctx.rt.registry, ct.name, data, entry.slug)}" if entry else f"New {ct.name}"),
        section="content",
        display_title=display_title(ctx.rt.registry, ct.name, data, entry.slug if entry else None),
        page_error=page_error,
        conflict=conflict,
        notices=notices or [],
        message=message,
        etag=etag or (entry.etag if entry else ""),
        base_revision=base_revision or (entry.current_revision if entry else 0),
        side_panels=SIDE_PANELS,
        direct_policy=_direct_policy(ctx, ct),
        entry_links=[(href.format(id=entry.id), label) for href, label in ENTRY_LINKS] if entry else [],
        ai=ai if ai is not None and (ai.prompts or ai.unavailable) else None,
        ai_call=_ai_call(ai, form),
        generate_action=(f"/admin/content/{entry.id}" if entry else "/admin/content/new")
        + "/generate"
        + ("" if entry else f"?type={ct.name}"),
        **values,
    )


def _ai_call(ai: Any, form: FormData | None) -> str:
    """The audit id of the AI draft in the form (just generated, or carried since): saving the
    form records the entry as that run's draft (charter.gateway.prompts.editor_drafts)."""
    if ai is not None and getattr(ai, "result", None) is not None:
        return str(ai.result.audit_id)
    raw = form.get("_ai_call") if form is not None else None
    return raw[:36] if isinstance(raw, str) else ""


def _save_action(ctx: Ctx, form: FormData, write: Any) -> Any:
    """Run ``write`` (create or update), recording an AI draft when the form carries one."""
    call_id = _ai_call(None, form)
    if not call_id:
        return write()
    from charter.gateway.prompts.editor_drafts import save

    return save(ctx.rt, call_id, write)


@dataclass(frozen=True)
class LiveFrame:
    """The front end framed beside the editor: its URL, the framed URL (with the preview token), the
    frame's origin (the only one ``postMessage`` targets) and the token."""

    url: str
    src: str
    origin: str
    token: str


def _live_preview_offered(ctx: Ctx, ct: ContentType) -> bool:
    from charter.frontend.live_preview import frontend_config

    return ctx.can("write") and frontend_config(ctx.rt.settings.frontend).template_for(ct.name) is not None


def _live_frame(ctx: Ctx, entry: Entry, ct: ContentType, data: dict[str, Any], frontend: str, base: str) -> LiveFrame:
    """The frame for ``entry``: ``frontend`` (a URL the allow-list must cover) or the type's configured
    URL, with a preview token scoped to the entry (a live one is reused). :class:`FrontendUrlRefused`
    for a URL not allowed or a type without one; Forbidden without ``write``."""
    from charter.content.actions.preview import issue_preview
    from charter.frontend.live_preview import FrontendUrlRefused, frame_url, frontend_config, with_preview

    config = frontend_config(ctx.rt.settings.frontend)
    if frontend:
        url = config.check(frontend)
    else:
        template = config.template_for(ct.name)
        if template is None:
            raise FrontendUrlRefused(
                f"no front-end preview URL is configured for {ct.name!r}: set preview_url in [charter.frontend]"
            )
        url = config.check(
            frame_url(template, type_name=ct.name, entry_id=entry.id, slug=entry.slug, locale=ct.locales.default)
        )
    issued = issue_preview(ctx.rt, ctx.actor, "entry", entry.id, config.ttl, reuse=True)
    parts = urlsplit(url)
    return LiveFrame(url, with_preview(url, issued.token, base), f"{parts.scheme}://{parts.netloc}", issued.token)


def _direct_policy(ctx: Ctx, ct: ContentType) -> str | None:
    """What a type's changes need when they may not be published directly (None: they may)."""
    from charter.content.workflow import type_policy

    policy = type_policy(ctx.rt.settings, ct.name)
    return policy.describe() if policy.approvals > 0 else None


def _load(ctx: Ctx, entry_id: str) -> tuple[Entry, dict[str, Any], ContentType]:
    with ctx.rt.read() as conn:
        entry = store.get_entry(conn, entry_id, include_deleted=True)
        data = store.get_revision(conn, entry_id, entry.current_revision).data
    return entry, data, ctx.rt.registry.get(entry.type)


def _conflict(ctx: Ctx, entry_id: str, base: int, mine: dict[str, Any]) -> tuple[Entry, Conflict409]:
    with ctx.rt.read() as conn:
        entry = store.get_entry(conn, entry_id)
        current = store.get_revision(conn, entry_id, entry.current_revision)
        base_rev = store.get_revision(conn, entry_id, base) if 1 <= base < entry.current_revision else None
    base_data = base_rev.data if base_rev else {}
    theirs = diff_rows(base_data, current.data) if base_rev else []
    overlap = sorted(field_paths(theirs) & field_paths(diff_rows(base_data, mine))) if base_rev else []
    info = Conflict409(
        who(current.author),
        current.created_at,
        current.message,
        base,
        entry.current_revision,
        theirs,
        [p.strip("/").replace("/", " › ") for p in overlap],
    )
    return entry, info


def _text_fields(form: FormData) -> list[tuple[str, str]]:
    return [(k, v) for k, v in form.multi_items() if isinstance(v, str)]


def _int(value: Any) -> int:
    try:
        return int(str(value))
    except ValueError:
        return 0


def _problem_text(exc: Exception) -> str:
    text = str(exc)
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


@router.get("/content/new")
async def new_entry(request: Request, type: Annotated[str, Query(max_length=100)] = "") -> Response:
    ctx = await signed_in(request)
    if not type:
        return render(
            ctx, "content/choose_type.html", title="New entry", section="content", types=list(ctx.rt.registry)
        )
    ct = ctx.rt.registry.get(type)
    if not ctx.can("write"):
        raise Forbidden(f"role {ctx.user.role.value!r} may not create entries")
    data = {ct.locales.default: form_for(ct).default()}
    return await ctx.call(editor, ctx, ct, entry=None, data=data)


@router.post("/content/new")
async def create_entry(request: Request, type: Annotated[str, Query(max_length=100)] = "") -> Response:
    ctx = await signed_in(request)
    form = await read_form(request)
    ct = ctx.rt.registry.get(type or str(form.get("_type") or ""))
    data = read_entry(ct, form_for(ct), _text_fields(form))
    message = str(form.get("_message") or "")
    common: dict[str, Any] = {"entry": None, "data": data, "message": message, "form": form}
    if form.get("_restore"):
        notices = ["Your unsaved changes are restored. Review them and create the draft."]
        return await ctx.call(editor, ctx, ct, notices=notices, **common)
    edit = Edit.parse(str(form.get("_op") or ""))
    if edit:
        result = apply_edit(ct, form_for(ct), data, edit, {k: str(v) for k, v in form.items()})
        return await ctx.call(
            editor, ctx, ct, focus=result.focus, form_status=result.message, fragment=ctx.htmx, **common
        )
    try:
        check_csrf(ctx, form)
        entry = await ctx.call(
            _save_action,
            ctx,
            form,
            lambda: actions.create_entry(ctx.rt, ctx.actor, ct.name, data, message=message or None),
        )
    except ValidationFailed as exc:
        return await ctx.call(editor, ctx, ct, status=422, errors=exc.errors, **common)
    except Conflict as exc:
        errors = [ErrorDetail(f"/{ct.locales.default}/{ct.slug_field}", str(exc))] if ct.slug_field else []
        return await ctx.call(editor, ctx, ct, status=409, errors=errors, page_error=_problem_text(exc), **common)
    except (CsrfFailed, Forbidden, BadRequest) as exc:
        return await ctx.call(editor, ctx, ct, status=exc.status, page_error=_problem_text(exc), **common)
    return redirect(f"/admin/content/{entry.id}?done=created")


@router.get("/content/{entry_id}")
async def edit_entry(
    request: Request,
    entry_id: str,
    locale: Annotated[str, Query(max_length=35)] = "",
    preview: Annotated[str, Query(max_length=5)] = "",
    frontend: Annotated[str, Query(max_length=2000)] = "",
) -> Response:
    """The editor; with ``preview=1`` (or ``frontend=URL``, which the allow-list must cover) the
    front end beside the form, showing this entry's draft (docs/frontend.md, live preview)."""
    ctx = await signed_in(request)
    entry, data, ct = await ctx.call(_load, ctx, entry_id)
    notices = [DONE[d] for d in request.query_params.getlist("done") if d in DONE]
    live = None
    if (preview in ("1", "true", "on") or frontend) and entry.status != "deleted":
        base = f"{request.url.scheme}://{request.url.netloc}"
        live = await ctx.call(_live_frame, ctx, entry, ct, data, frontend, base)
    return await ctx.call(editor, ctx, ct, entry=entry, data=data, notices=notices, locale=locale or None, live=live)


@router.post("/content/{entry_id}")
async def save_entry(request: Request, entry_id: str) -> Response:
    ctx = await signed_in(request)
    form = await read_form(request)
    entry, _, ct = await ctx.call(_load, ctx, entry_id)
    data = read_entry(ct, form_for(ct), _text_fields(form))
    etag = str(form.get("_etag") or "") or None
    base = _int(form.get("_base"))
    message = str(form.get("_message") or "")
    common: dict[str, Any] = {
        "entry": entry,
        "data": data,
        "message": message,
        "etag": etag,
        "base_revision": base,
        "form": form,
    }
    if form.get("_restore"):
        notices = ["Your unsaved changes are restored. Review them and save."]
        return await ctx.call(editor, ctx, ct, notices=notices, **common)
    edit = Edit.parse(str(form.get("_op") or ""))
    if edit:
        result = apply_edit(ct, form_for(ct), data, edit, {k: str(v) for k, v in form.items()})
        return await ctx.call(
            editor, ctx, ct, focus=result.focus, form_status=result.message, fragment=ctx.htmx, **common
        )
    try:
        check_csrf(ctx, form)
        await ctx.call(
            _save_action,
            ctx,
            form,
            lambda: actions.update_entry(ctx.rt, ctx.actor, entry_id, data, if_match=etag, message=message or None),
        )
    except ValidationFailed as exc:
        return await ctx.call(editor, ctx, ct, status=422, errors=exc.errors, **common)
    except PreconditionFailed:
        current, info = await ctx.call(_conflict, ctx, entry_id, base, data)
        common.update(entry=current, etag=current.etag, base_revision=current.current_revision)
        return await ctx.call(editor, ctx, ct, status=409, conflict=info, **common)
    except Conflict as exc:
        errors = [ErrorDetail(f"/{ct.locales.default}/{ct.slug_field}", str(exc))] if ct.slug_field else []
        return await ctx.call(editor, ctx, ct, status=409, errors=errors, page_error=_problem_text(exc), **common)
    except (CsrfFailed, Forbidden, BadRequest, PreconditionRequired, NotFound) as exc:
        return await ctx.call(editor, ctx, ct, status=exc.status, page_error=_problem_text(exc), **common)
    return redirect(f"/admin/content/{entry_id}?done=saved")


async def _pointer_action(request: Request, entry_id: str, run: Any, done: str, back: str | None = None) -> Response:
    ctx = await signed_in(request)
    form = await read_form(request)
    if form.get("_restore"):
        return redirect(f"/admin/content/{entry_id}")
    try:
        check_csrf(ctx, form)
        await ctx.call(run, ctx, str(form.get("_etag") or "") or None)
    except PreconditionFailed as exc:
        entry, data, ct = await ctx.call(_load, ctx, entry_id)
        text = _problem_text(exc) + " Reload the page to see the latest revision before you try again."
        return await ctx.call(editor, ctx, ct, entry=entry, data=data, status=412, page_error=text)
    except (CsrfFailed, Forbidden, BadRequest, PreconditionRequired) as exc:
        entry, data, ct = await ctx.call(_load, ctx, entry_id)
        return await ctx.call(editor, ctx, ct, entry=entry, data=data, status=exc.status, page_error=_problem_text(exc))
    return redirect(back or f"/admin/content/{entry_id}?done={done}")


@router.post("/content/{entry_id}/publish")
async def publish(request: Request, entry_id: str) -> Response:
    def run(ctx: Ctx, etag: str | None) -> None:
        actions.publish_entry(ctx.rt, ctx.actor, entry_id, if_match=etag)

    return await _pointer_action(request, entry_id, run, "published")


@router.post("/content/{entry_id}/unpublish")
async def unpublish(request: Request, entry_id: str) -> Response:
    def run(ctx: Ctx, etag: str | None) -> None:
        actions.unpublish_entry(ctx.rt, ctx.actor, entry_id)

    return await _pointer_action(request, entry_id, run, "unpublished")


@router.post("/content/{entry_id}/delete")
async def delete(request: Request, entry_id: str) -> Response:
    def run(ctx: Ctx, etag: str | None) -> None:
        actions.delete_entry(ctx.rt, ctx.actor, entry_id, if_match=etag)

    return await _pointer_action(request, entry_id, run, "deleted", back="/admin/content?done=deleted")
