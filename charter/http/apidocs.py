"""``/docs`` (Swagger UI) and ``/redoc`` (ReDoc) from assets vendored in the package
(``charter/http/static``, copied from the npm packages swagger-ui-dist and redoc; see
``VENDORED.md`` there), so the API reference works offline and nothing is fetched from a CDN.

The pages carry a Content-Security-Policy that allows scripts, styles, images and connections
from the server itself only (plus ``data:`` images and ``blob:`` workers, which the bundles
create), so even a reference inside a bundle cannot reach another host. Assets are served from
memory with a strong ETag, and cached for a year when asked for by their versioned URL.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import html
from dataclasses import dataclass
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from charter.exceptions import NotFound
from charter.http.routes import CharterRoute

STATIC = Path(__file__).parent / "static"
PREFIX = "/docs/static/"
OPENAPI_URL = "/openapi.json"
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)
TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}

router = APIRouter(route_class=CharterRoute, include_in_schema=False)


@dataclass(frozen=True)
class Asset:
    body: bytes
    gzipped: bytes
    etag: str
    media_type: str

    @property
    def version(self) -> str:
        return self.etag.strip('"')[:12]


@functools.cache
def assets() -> dict[str, Asset]:
    """The servable files (scripts and styles), read once."""
    found = {}
    for path in sorted(STATIC.iterdir()):
        if path.suffix in TYPES:
            body = path.read_bytes()
            found[path.name] = Asset(
                body, gzip.compress(body, 6), f'"{hashlib.sha256(body).hexdigest()}"', TYPES[path.suffix]
            )
    return found


def _url(name: str) -> str:
    return f"{PREFIX}{name}?v={assets()[name].version}"


def _page(title: str, head: str, body: str) -> HTMLResponse:
    page = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
{head}
</head>
<body data-openapi="{OPENAPI_URL}">
{body}
</body>
</html>
"""
    return HTMLResponse(page, headers={"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff"})


@router.get("/docs")
async def swagger_ui() -> HTMLResponse:
    head = f'<link rel="stylesheet" href="{_url("swagger-ui.css")}">'
    body = (
        '<div id="swagger-ui"></div>\n'
        f'<script src="{_url("swagger-ui-bundle.js")}"></script>\n'
        f'<script src="{_url("swagger-init.js")}"></script>'
    )
    return _page("Charter API (Swagger UI)", head, body)


@router.get("/redoc")
async def redoc() -> HTMLResponse:
    body = (
        '<div id="redoc"></div>\n'
        f'<script src="{_url("redoc.standalone.js")}"></script>\n'
        f'<script src="{_url("redoc-init.js")}"></script>'
    )
    return _page("Charter API (ReDoc)", "", body)


@router.get(PREFIX + "{name}")
async def asset(request: Request, name: str) -> Response:
    found = assets().get(name)
    if found is None:
        raise NotFound(f"no API-docs asset {name!r}")
    versioned = request.query_params.get("v") == found.version
    headers = {
        "ETag": found.etag,
        "Cache-Control": "public, max-age=31536000, immutable" if versioned else "public, max-age=300",
        "X-Content-Type-Options": "nosniff",
        "Vary": "Accept-Encoding",
    }
    if request.headers.get("if-none-match") == found.etag:
        return Response(status_code=304, headers=headers)
    if "gzip" in request.headers.get("accept-encoding", ""):
        return Response(found.gzipped, media_type=found.media_type, headers={**headers, "Content-Encoding": "gzip"})
    return Response(found.body, media_type=found.media_type, headers=headers)
