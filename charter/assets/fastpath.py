"""A raw ASGI front door for cached, versioned transforms: file bytes out of the disk cache.

``GET`` (or ``HEAD``) ``/v1/assets/{id}/{name}?v=…&w=…&fm=…`` whose transform is already on disk
needs no routing, no parameter models and no database: the asset id, the version and the
parameters name the cached file (:func:`charter.assets.transforms.cached_path`). This door sits
just behind the delivery fast path (so inside CORS too) and answers such a request, or a
matching ``If-None-Match`` with 304, with exactly the headers the route sends, plus what the
observability middleware adds (request id, server span, metrics, access log).

Anything else goes to the app, which owns every error and every first render: another method or
path, a query with an unknown, repeated or malformed parameter, no ``v`` or ``fm``, a transform
outside the configured sizes without a valid signature, a file not cached yet, a larger file, a
request with a body.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from starlette.types import Receive, Scope, Send

from charter.assets import transforms
from charter.assets.settings import asset_settings, cache_dir
from charter.delivery.http_caching import if_none_match
from charter.exceptions import CharterError
from charter.observability.requests import answer, request_id_from, server_span
from charter.runtime import Runtime

PATH = re.compile(r"^/v1/assets/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})/[A-Za-z0-9._-]{1,200}$")
ROUTE = "/v1/assets/{asset_id}/{name}"
INTS = {"w": (1, 8192), "h": (1, 8192), "q": (1, 100), "v": (1, 2**31)}
SIGNATURE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
#: Files up to this size are answered here (read whole; a page-cache hit costs microseconds).
SMALL_FILE = 256 * 1024
FIXED = [
    (b"cache-control", b"public, max-age=31536000, immutable"),
    (b"x-content-type-options", b"nosniff"),
    (b"content-security-policy", b"default-src 'none'; style-src 'unsafe-inline'; sandbox"),
]


class AssetFastPath:
    """``await fast_path(scope, receive, send)``: answer a cached versioned transform, else call ``app``."""

    def __init__(self, app: Any, runtime: Runtime) -> None:
        self.app = app
        self.rt = runtime
        self.config = asset_settings(runtime.settings)
        self.root = cache_dir(runtime.settings, self.config)
        self.hits = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        method = scope["method"]
        if (method == "GET" or method == "HEAD") and scope["path"].startswith("/v1/assets/"):
            found = self._cached(scope)
            if found is not None and await self._serve(scope, send, method, *found):
                return
        await self.app(scope, receive, send)

    def _cached(self, scope: Scope) -> tuple[Path, str, bytes] | None:
        m = PATH.match(scope["path"])
        if m is None:
            return None
        try:
            pairs = parse_qsl(scope.get("query_string", b"").decode("ascii"), keep_blank_values=True)
        except (UnicodeDecodeError, ValueError):
            return None
        params: dict[str, Any] = {}
        for key, value in pairs:
            if key in params:
                return None
            if key in INTS:
                low, high = INTS[key]
                if not value.isascii() or not value.isdigit() or not low <= int(value) <= high:
                    return None
                params[key] = int(value)
            elif (
                (key == "fit" and value in transforms.FITS)
                or (key == "fm" and value in self.config.formats)
                or (key == "s" and SIGNATURE.match(value))
            ):
                params[key] = value
            else:
                return None
        if "v" not in params or "fm" not in params or not ("w" in params or "h" in params or "q" in params):
            return None
        t = transforms.Transform(params.get("w"), params.get("h"), params.get("fit", "contain"), params["fm"],
                                 params.get("q"))  # fmt: skip
        try:
            transforms.authorise(t, params.get("s"), m.group(1), self.config, self.rt.settings.secret_key)
        except CharterError:
            return None
        path = transforms.cached_path(self.root, m.group(1), params["v"], t, params["fm"])
        return path, m.group(1), transforms.FORMATS[params["fm"]][1].encode()

    async def _serve(self, scope: Scope, send: Send, method: str, path: Path, asset_id: str, media: bytes) -> bool:
        start = time.perf_counter()
        match = given_id = traceparent = None
        for name, value in scope["headers"]:
            if name == b"if-none-match":
                if match is None:
                    match = value
            elif name == b"x-request-id":
                given_id = value
            elif name == b"traceparent":
                traceparent = value
            elif (name == b"content-length" and value != b"0") or name == b"transfer-encoding":
                return False
        try:
            size = path.stat().st_size
            if size > SMALL_FILE:
                return False
            body = path.read_bytes()
        except OSError:
            return False
        etag = '"' + path.stem.split("-", 1)[1] + '"'
        headers = [*FIXED, (b"surrogate-key", f"asset:{asset_id}".encode()), (b"etag", etag.encode())]
        if if_none_match(match, etag):
            status, body = 304, b""
        else:
            status = 200
            headers += [(b"content-type", media), (b"content-length", str(len(body)).encode())]
            if method == "HEAD":
                body = b""
        self.hits += 1
        request_id = request_id_from(given_id)
        telemetry = self.rt.telemetry
        span = server_span(telemetry, method, scope["path"], request_id, traceparent, ROUTE)
        await answer(
            send,
            telemetry,
            span,
            status=status,
            headers=headers,
            body=body,
            method=method,
            path=scope["path"],
            route=ROUTE,
            start=start,
            request_id=request_id,
        )
        return True


def install(app: Any, runtime: Runtime) -> None:
    """Put the asset fast path just behind a :class:`charter.app.CharterApp`'s front door (the
    delivery fast path, which stays the front: an asset path is never its hit), or be the front
    door when there is none."""
    front = app.front
    if front is not None and hasattr(front, "app"):
        front.app = AssetFastPath(front.app, runtime)
    else:
        app.front = AssetFastPath(front or app.call_stack, runtime)
