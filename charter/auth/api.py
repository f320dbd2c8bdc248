"""Management of API tokens (admin only)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from charter.auth.deps import require
from charter.auth.roles import Actor, Permission, Role
from charter.auth.tokens import TOKEN_NAME_PATTERN, TokenInfo, create_token, list_tokens, revoke_token
from charter.http.routes import CharterRoute
from charter.observability.errors import WRITE_RESPONSES

router = APIRouter(prefix="/v1/manage/tokens", tags=["tokens"], route_class=CharterRoute)


class TokenCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200, pattern=TOKEN_NAME_PATTERN)
    role: Role


class TokenOut(BaseModel):
    id: str
    name: str
    role: Role
    prefix: str
    created_at: datetime
    created_by: str
    last_used_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def of(cls, t: TokenInfo) -> TokenOut:
        return cls(**t.__dict__)


class TokenCreated(TokenOut):
    token: str = Field(description="The secret, shown only once.")


@router.get("", operation_id="listTokens", response_model=list[TokenOut], responses=WRITE_RESPONSES)
async def list_api_tokens(request: Request, actor: Actor = Depends(require(Permission.ADMIN))) -> list[TokenOut]:
    return [TokenOut.of(t) for t in await run_in_threadpool(list_tokens, request.app.state.runtime)]


@router.post("", operation_id="createToken", response_model=TokenCreated, status_code=201, responses=WRITE_RESPONSES)
async def create_api_token(
    request: Request, body: TokenCreate, actor: Actor = Depends(require(Permission.ADMIN))
) -> TokenCreated:
    secret, info = await run_in_threadpool(create_token, request.app.state.runtime, actor, body.name, body.role.value)
    return TokenCreated(token=secret, **TokenOut.of(info).model_dump())


@router.delete("/{token_id}", operation_id="revokeToken", status_code=204, responses=WRITE_RESPONSES)
async def revoke_api_token(request: Request, token_id: str, actor: Actor = Depends(require(Permission.ADMIN))) -> None:
    await run_in_threadpool(revoke_token, request.app.state.runtime, actor, token_id)
