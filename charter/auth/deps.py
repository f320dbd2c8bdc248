"""FastAPI dependencies: who is calling, and may they do this?"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from charter.auth.roles import Actor, Permission
from charter.auth.tokens import authenticate
from charter.exceptions import Forbidden, Unauthorized

bearer = HTTPBearer(auto_error=False, description="An API token from `charter tokens create`.")


async def current_actor(request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> Actor:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("send an API token: Authorization: Bearer <token>")
    return await run_in_threadpool(authenticate, request.app.state.runtime, credentials.credentials)


def require(permission: Permission) -> Callable[..., Coroutine[Any, Any, Actor]]:
    async def dependency(actor: Actor = Depends(current_actor)) -> Actor:
        if not actor.can(permission):
            raise Forbidden(f"role {actor.role.value!r} may not {permission.value}")
        return actor

    return dependency
