"""Management API: authenticated writes and draft reads. Thin doors into the content actions."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from charter.auth.deps import require
from charter.auth.roles import Actor, Permission
from charter.content import actions, store
from charter.exceptions import NotFound, UnsupportedMediaType
from charter.http.routes import CharterRoute
from charter.observability.errors import WRITE_RESPONSES
from charter.runtime import Runtime

router = APIRouter(prefix="/v1/manage", tags=["management"], route_class=CharterRoute)

LocaleData = dict[str, dict[str, Any]]
#: Revision numbers are stored as 32-bit integers on every backend.
MAX_REVISION = 2**31 - 1
#: Text without NUL characters (PostgreSQL cannot store them).
NO_NUL = r"^[^\x00]*$"


async def json_body(request: Request) -> None:
    ctype = request.headers.get("content-type", "")
    if ctype.split(";")[0].strip().lower() not in ("application/json", "application/merge-patch+json"):
        raise UnsupportedMediaType(f"send JSON (Content-Type: application/json), not {ctype or 'nothing'!r}")


class EntryWrite(BaseModel):
    data: LocaleData = Field(
        description="Values per locale: the default locale holds the full document, others only localised fields.",
        examples=[{"en": {"id": "pro", "name": "Pro", "price": 99, "currency": "EUR", "features": ["SSO"]}}],
    )
    message: str | None = Field(
        default=None, max_length=500, pattern=NO_NUL, description="A change note kept with the revision."
    )


class PublishRequest(BaseModel):
    revision: int | None = Field(
        default=None, ge=1, le=MAX_REVISION, description="Revision to publish; default the current one."
    )


class EntryOut(BaseModel):
    id: str
    type: str
    slug: str | None
    status: str
    current_revision: int
    published_revision: int | None
    published_at: str | None
    created_at: str
    updated_at: str
    created_by: str
    data: LocaleData | None = None


class RevisionOut(BaseModel):
    number: int
    schema_: dict[str, str] = Field(alias="schema")
    author: str
    created_at: str
    message: str | None
    action: str
    data: LocaleData | None = None


class EntryPage(BaseModel):
    items: list[EntryOut]
    next_cursor: str | None


def _rt(request: Request) -> Runtime:
    rt: Runtime = request.app.state.runtime
    return rt


def _entry_response(rt: Runtime, entry_id: str, status: int = 200, with_data: bool = True) -> Response:
    with rt.read() as conn:
        entry = store.get_entry(conn, entry_id, include_deleted=True)
        body: dict[str, Any] = entry.to_dict()
        if with_data:
            body["data"] = store.get_revision(conn, entry_id, entry.current_revision).data
    headers = {"ETag": entry.etag, "Cache-Control": "no-store"}
    if status == 201:
        headers["Location"] = f"/v1/manage/entries/{entry.id}"
    return JSONResponse(body, status_code=status, headers=headers)


StatusQuery = Annotated[str | None, Query(pattern="^(draft|published|changed|deleted)$")]
SearchQuery = Annotated[str | None, Query(max_length=100, description="Search slugs.")]
LimitQuery = Annotated[int, Query(ge=1, le=200)]
CursorQuery = Annotated[str | None, Query(max_length=64)]


def _page(
    rt: Runtime, type_name: str | None, status: str | None, q: str | None, limit: int, cursor: str | None
) -> EntryPage:
    with rt.read() as conn:
        found = store.list_entries(conn, type_name, status, after=cursor, limit=limit + 1, search=q)
    more = len(found) > limit
    found = found[:limit]
    return EntryPage(
        items=[EntryOut(**e.to_dict()) for e in found], next_cursor=found[-1].id if more and found else None
    )


@router.get("/entries", operation_id="manageListEntries", response_model=EntryPage, responses=WRITE_RESPONSES)
async def list_all(
    request: Request,
    actor: Annotated[Actor, Depends(require(Permission.READ))],
    type: Annotated[str | None, Query(max_length=100)] = None,
    status: StatusQuery = None,
    q: SearchQuery = None,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> EntryPage:
    return await run_in_threadpool(_page, _rt(request), type, status, q, limit, cursor)


@router.post(
    "/entries/{type_name}",
    operation_id="createEntry",
    status_code=201,
    response_model=EntryOut,
    responses=WRITE_RESPONSES,
    dependencies=[Depends(json_body)],
)
async def create(
    request: Request, type_name: str, body: EntryWrite, actor: Annotated[Actor, Depends(require(Permission.WRITE))]
) -> Response:
    rt = _rt(request)
    entry = await run_in_threadpool(actions.create_entry, rt, actor, type_name, body.data, message=body.message)
    return await run_in_threadpool(_entry_response, rt, entry.id, 201)


# An entry id is a UUID and a content type's name never is (charter.schemas.lint refuses one shaped
# like a UUID), so GET /entries/<uuid> reads an entry and GET /entries/<name> lists a type's entries,
# mirroring POST /entries/<name> that creates one.
@router.get(
    "/entries/{entry_id:uuid}", operation_id="getDraftEntry", response_model=EntryOut, responses=WRITE_RESPONSES
)
async def read(
    request: Request, entry_id: uuid.UUID, actor: Annotated[Actor, Depends(require(Permission.READ))]
) -> Response:
    return await run_in_threadpool(_entry_response, _rt(request), str(entry_id))


@router.get(
    "/entries/{type_name}",
    operation_id="manageListEntriesOfType",
    response_model=EntryPage,
    responses=WRITE_RESPONSES,
    description="The entries of one content type: `GET /v1/manage/entries?type=NAME` with the type in the path.",
)
async def list_of_type(
    request: Request,
    type_name: str,
    actor: Annotated[Actor, Depends(require(Permission.READ))],
    status: StatusQuery = None,
    q: SearchQuery = None,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> EntryPage:
    rt = _rt(request)
    if type_name not in rt.registry:
        raise NotFound(f"no content type {type_name!r} (and no entry: an entry id is a UUID)")
    return await run_in_threadpool(_page, rt, type_name, status, q, limit, cursor)


@router.put(
    "/entries/{entry_id}",
    operation_id="updateEntry",
    response_model=EntryOut,
    responses=WRITE_RESPONSES,
    dependencies=[Depends(json_body)],
)
async def update(
    request: Request,
    entry_id: str,
    body: EntryWrite,
    actor: Annotated[Actor, Depends(require(Permission.WRITE))],
    if_match: Annotated[str | None, Header(description="ETag of the revision being edited (required).")] = None,
) -> Response:
    rt = _rt(request)
    await run_in_threadpool(
        lambda: actions.update_entry(rt, actor, entry_id, body.data, if_match=if_match, message=body.message)
    )
    return await run_in_threadpool(_entry_response, rt, entry_id)


@router.delete("/entries/{entry_id}", operation_id="deleteEntry", response_model=EntryOut, responses=WRITE_RESPONSES)
async def delete(
    request: Request,
    entry_id: str,
    actor: Annotated[Actor, Depends(require(Permission.WRITE))],
    if_match: Annotated[str | None, Header()] = None,
) -> Response:
    rt = _rt(request)
    await run_in_threadpool(lambda: actions.delete_entry(rt, actor, entry_id, if_match=if_match))
    return await run_in_threadpool(_entry_response, rt, entry_id, 200, False)


@router.post(
    "/entries/{entry_id}/publish", operation_id="publishEntry", response_model=EntryOut, responses=WRITE_RESPONSES
)
async def publish(
    request: Request,
    entry_id: str,
    actor: Annotated[Actor, Depends(require(Permission.PUBLISH))],
    body: PublishRequest | None = None,
    if_match: Annotated[str | None, Header()] = None,
) -> Response:
    rt = _rt(request)
    revision = body.revision if body else None
    await run_in_threadpool(lambda: actions.publish_entry(rt, actor, entry_id, revision=revision, if_match=if_match))
    return await run_in_threadpool(_entry_response, rt, entry_id)


@router.post(
    "/entries/{entry_id}/unpublish", operation_id="unpublishEntry", response_model=EntryOut, responses=WRITE_RESPONSES
)
async def unpublish(
    request: Request, entry_id: str, actor: Annotated[Actor, Depends(require(Permission.PUBLISH))]
) -> Response:
    rt = _rt(request)
    await run_in_threadpool(actions.unpublish_entry, rt, actor, entry_id)
    return await run_in_threadpool(_entry_response, rt, entry_id)


@router.get(
    "/entries/{entry_id}/revisions",
    operation_id="listRevisions",
    response_model=list[RevisionOut],
    responses=WRITE_RESPONSES,
)
async def revisions(
    request: Request, entry_id: str, actor: Annotated[Actor, Depends(require(Permission.READ))]
) -> list[dict[str, Any]]:
    rt = _rt(request)

    def run() -> list[dict[str, Any]]:
        with rt.read() as conn:
            store.get_entry(conn, entry_id, include_deleted=True)
            return [r.to_dict(with_data=False) for r in store.list_revisions(conn, entry_id)]

    return await run_in_threadpool(run)


@router.get(
    "/entries/{entry_id}/revisions/{number}",
    operation_id="getRevision",
    response_model=RevisionOut,
    responses=WRITE_RESPONSES,
)
async def revision(
    request: Request,
    entry_id: str,
    number: Annotated[int, Path(ge=1, le=MAX_REVISION)],
    actor: Annotated[Actor, Depends(require(Permission.READ))],
) -> dict[str, Any]:
    rt = _rt(request)

    def run() -> dict[str, Any]:
        with rt.read() as conn:
            return store.get_revision(conn, entry_id, number).to_dict()

    return await run_in_threadpool(run)


class ContentTypeOut(BaseModel):
    name: str
    id: str
    version: str
    domain: str
    locales: list[str]
    localized: list[str]
    schema_: dict[str, Any] = Field(alias="schema")


@router.get(
    "/content-types", operation_id="listContentTypes", response_model=list[ContentTypeOut], responses=WRITE_RESPONSES
)
async def content_types(
    request: Request, actor: Annotated[Actor, Depends(require(Permission.READ))]
) -> list[dict[str, Any]]:
    return [
        {
            "name": ct.name,
            "id": ct.schema_id,
            "version": ct.version,
            "domain": ct.domain,
            "locales": list(ct.locales.supported),
            "localized": sorted(ct.localized),
            "schema": ct.schema,
        }
        for ct in _rt(request).registry
    ]
