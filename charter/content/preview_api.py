"""Management API for preview tokens (docs/preview.md): mint one, list the issued ones, revoke one.
Thin doors into :mod:`charter.content.actions.preview` and :mod:`charter.auth.preview_register`."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field, model_validator
from starlette.concurrency import run_in_threadpool

from charter.auth import preview
from charter.auth.deps import require
from charter.auth.preview_register import PreviewRecord, get_record, list_records
from charter.auth.roles import Actor, Permission
from charter.content.actions.preview import issue_preview, revoke_preview
from charter.content.api import json_body
from charter.exceptions import ExclusiveParameters, NotFound
from charter.http.openapi import rules
from charter.http.routes import CharterRoute
from charter.observability.errors import WRITE_RESPONSES
from charter.runtime import Runtime

router = APIRouter(prefix="/v1/manage", tags=["previews"], route_class=CharterRoute)
JSON = [Depends(json_body)]


#: Exactly one scope (OpenAPI: the "exclusive parameters" the validator below enforces).
_ONE_SCOPE: dict[str, Any] = {
    "oneOf": [
        {"required": ["entry_id"], "properties": {"entry_id": {"type": "string"}, "release_id": {"type": "null"}}},
        {"required": ["release_id"], "properties": {"release_id": {"type": "string"}, "entry_id": {"type": "null"}}},
    ]
}


class PreviewIn(BaseModel):
    model_config = ConfigDict(json_schema_extra=_ONE_SCOPE)

    entry_id: str | None = Field(default=None, max_length=36)
    release_id: str | None = Field(default=None, max_length=36)
    ttl: int = Field(default=preview.DEFAULT_TTL, ge=1, le=preview.MAX_TTL, description="Lifetime in seconds.")

    @model_validator(mode="after")
    def one_scope(self) -> PreviewIn:
        if (self.entry_id is None) == (self.release_id is None):
            raise ValueError("give exactly one of entry_id or release_id")
        return self


class PreviewOut(BaseModel):
    token: str
    token_id: str = Field(description="The token's id (its `jti`), to list and revoke it by.")
    scope: Literal["entry", "release"]
    id: str
    expires_at: str
    header: str = Field(description="Send the token in this header, or as the `preview` query parameter.")
    urls: list[str] = Field(description="Delivery URLs that show the preview.")


class PreviewTokenOut(BaseModel):
    """An issued preview token as recorded: never the token string itself."""

    id: str = Field(description="The token's id (its `jti`).")
    scope: Literal["entry", "release"]
    target_id: str = Field(description="The entry or release it previews.")
    issued_by: str
    issued_at: str
    expires_at: str
    status: Literal["active", "revoked", "expired"]
    revoked_at: str | None
    revoked_by: str | None

    @classmethod
    def of(cls, r: PreviewRecord) -> PreviewTokenOut:
        return cls(
            id=r.jti,
            scope="entry" if r.scope == "entry" else "release",
            target_id=r.target_id,
            issued_by=r.issued_by,
            issued_at=r.issued_at.isoformat(),
            expires_at=r.expires_at.isoformat(),
            status=r.status(),
            revoked_at=r.revoked_at.isoformat() if r.revoked_at else None,
            revoked_by=r.revoked_by,
        )


def _rt(request: Request) -> Runtime:
    rt: Runtime = request.app.state.runtime
    return rt


@router.post(
    "/previews",
    operation_id="createPreviewToken",
    status_code=201,
    response_model=PreviewOut,
    responses=WRITE_RESPONSES,
    dependencies=JSON,
)
async def create_preview(
    request: Request, body: PreviewIn, actor: Annotated[Actor, Depends(require(Permission.WRITE))]
) -> PreviewOut:
    rt = _rt(request)

    def run() -> PreviewOut:
        from charter.content.preview_overlay import build_overlay

        scope: Literal["entry", "release"] = "entry" if body.entry_id else "release"
        target = body.entry_id or body.release_id or ""
        issued = issue_preview(rt, actor, scope, target, body.ttl)
        urls = []
        with rt.read() as conn:
            for o in build_overlay(rt, conn, issued.claims).values():
                if o.revision is None:
                    continue
                if o.entry.type == "page" and o.entry.slug:
                    urls.append(f"/v1/pages/{o.entry.slug}?preview={issued.token}")
                urls.append(f"/v1/entries/{o.entry.type}/{o.entry.id}?preview={issued.token}")
        return PreviewOut(
            token=issued.token,
            token_id=issued.jti,
            scope=scope,
            id=target,
            expires_at=issued.claims.expires.isoformat(),
            header="Charter-Preview",
            urls=urls,
        )

    return await run_in_threadpool(run)


@router.get(
    "/previews",
    operation_id="listPreviewTokens",
    response_model=list[PreviewTokenOut],
    responses=WRITE_RESPONSES,
    openapi_extra=rules(("exclusive-parameters", 400, "entry_id and release_id may not be given together.")),
)
async def list_previews(
    request: Request,
    actor: Annotated[Actor, Depends(require(Permission.READ))],
    entry_id: Annotated[str | None, Query(max_length=36, description="Only tokens for this entry.")] = None,
    release_id: Annotated[str | None, Query(max_length=36, description="Only tokens for this release.")] = None,
    status: Annotated[
        Literal["active", "revoked", "expired"] | None, Query(description="Only tokens in this state (default: all).")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[PreviewTokenOut]:
    if entry_id is not None and release_id is not None:
        raise ExclusiveParameters("filter by entry_id or by release_id, not both")
    scope = "entry" if entry_id is not None else "release" if release_id is not None else None
    rt = _rt(request)

    def run() -> list[PreviewTokenOut]:
        with rt.read() as conn:
            found = list_records(conn, scope=scope, target_id=entry_id or release_id, status=status, limit=limit)
        return [PreviewTokenOut.of(r) for r in found]

    return await run_in_threadpool(run)


@router.get(
    "/previews/{token_id}", operation_id="getPreviewToken", response_model=PreviewTokenOut, responses=WRITE_RESPONSES
)
async def get_preview(
    request: Request,
    token_id: Annotated[str, Path(max_length=64)],
    actor: Annotated[Actor, Depends(require(Permission.READ))],
) -> PreviewTokenOut:
    rt = _rt(request)

    def run() -> PreviewTokenOut:
        with rt.read() as conn:
            found = get_record(conn, token_id)
        if found is None:
            raise NotFound(f"no preview token {token_id!r} on record")
        return PreviewTokenOut.of(found)

    return await run_in_threadpool(run)


@router.delete("/previews/{token_id}", operation_id="revokePreviewToken", status_code=204, responses=WRITE_RESPONSES)
async def revoke_preview_token(
    request: Request,
    token_id: Annotated[str, Path(max_length=64)],
    actor: Annotated[Actor, Depends(require(Permission.WRITE))],
) -> None:
    await run_in_threadpool(revoke_preview, _rt(request), actor, token_id)
