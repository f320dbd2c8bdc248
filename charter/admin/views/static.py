"""Static files of the admin (vendored htmx and uPlot, the stylesheet, the small scripts).

Served from memory with a strong ETag, gzip when the browser accepts it, and a year of caching
when asked for by the versioned URL that templates produce (``?v=<hash>``)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from charter.admin.web import AdminRoute, static_files
from charter.exceptions import NotFound

router = APIRouter(route_class=AdminRoute)


@router.get("/static/{name:path}")
async def static(request: Request, name: str) -> Response:
    f = static_files().get(name)
    if f is None:
        raise NotFound(f"no static file {name!r}")
    versioned = request.query_params.get("v") == f.etag.strip('"')[:12]
    headers = {
        "ETag": f.etag,
        "Cache-Control": "public, max-age=31536000, immutable" if versioned else "public, max-age=300",
        "X-Content-Type-Options": "nosniff",
        "Vary": "Accept-Encoding",
    }
    if request.headers.get("if-none-match") == f.etag:
        return Response(status_code=304, headers=headers)
    if f.gzipped is not None and "gzip" in request.headers.get("accept-encoding", ""):
        return Response(f.gzipped, media_type=f.media_type, headers={**headers, "Content-Encoding": "gzip"})
    return Response(f.body, media_type=f.media_type, headers=headers)
