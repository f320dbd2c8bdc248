"""A lean ASGI path for cached delivery hits.

A cached ``GET /v1/pages/{slug}`` needs no routing, no dependency injection and no response
object: the bytes, the ETag and the surrogate keys are already in the response cache. This
middleware sits *inside* the observability middleware (so a hit still gets its request id, its
server span and its metrics) and in front of FastAPI; it answers a hit, or a matching
``If-None-Match`` with 304, straight from the cache, with exactly the headers the route would send.
Anything else — a miss, a malformed slug or locale, other parameters, another method, a request
pinning an old schema major or carrying a preview token — falls through to the route, which
renders, fills the cache and owns every error.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Receive, Scope, Send

from charter.auth.preview import HEADER as PREVIEW_HEADER
from charter.delivery.api import LOCALE, SLUG
from charter.delivery.keys import page_key
from charter.runtime import Runtime
from charter.schemas.pinning import HEADER as PIN_HEADER

PREFIX = "/v1/pages/"


class DeliveryFastPath:
    def __init__(self, app: ASGIApp, runtime: Runtime) -> None:
        self.app = app
        self.rt = runtime
        s = runtime.settings
        self.cache_control = (
            f"public, max-age={s.cache_max_age}, stale-while-revalidate={s.cache_stale_while_revalidate}"
        ).encode()
        self.pin_header = PIN_HEADER.lower().encode()  # a request pinning an old major goes to the route
        self.preview_header = PREVIEW_HEADER.encode()  # so does a preview (docs/preview.md): never cached
        self.route: object | None = None  # the getPage route, so metrics name the same template

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET" and scope["path"].startswith(PREFIX):
            bypass = any(name in (self.pin_header, self.preview_header) for name, _ in scope["headers"])
            key = None if bypass else self._key(scope)
            if key is not None:
                cached = self.rt.cache.get(key)
                if cached is not None:
                    await self._send(scope, send, cached.body, cached.etag, cached.surrogate_keys)
                    return
        await self.app(scope, receive, send)

    def _key(self, scope: Scope) -> str | None:
        slug = scope["path"][len(PREFIX) :]
        if len(slug) > 200 or not SLUG.match(slug):
            return None
        locale = None
        query = scope.get("query_string", b"")
        if query:
            params = parse_qsl(query.decode("latin-1"), keep_blank_values=True)
            if len(params) != 1 or params[0][0] != "locale" or not LOCALE.match(params[0][1]) or len(params[0][1]) > 35:
                return None
            locale = params[0][1]
        return page_key(slug, locale)

    async def _send(self, scope: Scope, send: Send, body: bytes, etag: str, keys: tuple[str, ...]) -> None:
        if self.route is None:
            self.route = _find_route(scope)
        if self.route is not None:
            scope["route"] = self.route
        headers = [
            (b"etag", etag.encode()),
            (b"cache-control", self.cache_control),
            (b"surrogate-key", " ".join(keys).encode()),
        ]
        if _not_modified(scope, etag):
            await send({"type": "http.response.start", "status": 304, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return
        headers += [(b"content-length", str(len(body)).encode()), (b"content-type", b"application/json")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def _not_modified(scope: Scope, etag: str) -> bool:
    for name, value in scope["headers"]:
        if name == b"if-none-match":
            header = value.decode("latin-1").strip()
            return header == "*" or any(t.strip().removeprefix("W/") == etag for t in header.split(","))
    return False


def _find_route(scope: Scope) -> object | None:
    """The getPage route (what the router would put in ``scope["route"]``)."""
    from charter.delivery.api import router

    return next((r for r in router.routes if getattr(r, "operation_id", None) == "getPage"), None)


def install(app: object, runtime: Runtime) -> None:
    """Add the fast path to a FastAPI app (call before the observability middleware is added, so
    that one wraps this one)."""
    app.add_middleware(DeliveryFastPath, runtime=runtime)  # type: ignore[attr-defined]
