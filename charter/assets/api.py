"""The asset routes: management under ``/v1/manage/assets`` (upload, list, read, edit, delete)
and public delivery at ``/v1/assets/{id}/{name}`` (originals and transforms). docs/assets.md."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query, Request
from fastapi.responses import FileResponse, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from charter import strictjson
from charter.assets import actions, transforms
from charter.assets.model import AssetMeta, url_name
from charter.assets.settings import asset_settings, cache_dir
from charter.assets.storage import blob_key, store_for
from charter.auth.deps import require
from charter.auth.roles import Actor, Permission
from charter.content.api import json_body
from charter.delivery.http_caching import if_none_match
from charter.exceptions import BadRequest, CharterError, ErrorDetail, NotFound, ValidationFailed
from charter.http.openapi import rules
from charter.http.routes import CharterRoute
from charter.observability.errors import WRITE_RESPONSES, problem_responses
from charter.runtime import Runtime

router = APIRouter(tags=["assets"], route_class=CharterRoute)
READ = Depends(require(Permission.READ))
WRITE = Depends(require(Permission.WRITE))
ID = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
IMMUTABLE = "public, max-age=31536000, immutable"


class AssetOut(BaseModel):
    id: str
    sha256: str
    media_type: str
    bytes: int
    width: int | None
    height: int | None
    frames: int
    dominant_color: str | None = Field(description="The most common colour, #rrggbb (raster images).")
    filename: str
    version: int
    metadata: AssetMeta
    url: str = Field(description="The delivery path of the original.")
    created_at: str
    created_by: str
    updated_at: str
    updated_by: str


class UploadOut(AssetOut):
    deduplicated: bool = Field(description="True when the same bytes were already this asset.")


class AssetUpdate(BaseModel):
    metadata: dict[str, Any] | None = Field(
        default=None,
        description="A JSON merge patch (RFC 7396) over the metadata: null removes a key.",
        examples=[{"alt": {"en": "A lighthouse at dusk"}, "focal_point": {"x": 0.3, "y": 0.6}}],
    )
    filename: str | None = Field(default=None, max_length=200)


UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "additionalProperties": False,
                    "properties": {
                        "file": {
                            "type": "string",
                            "format": "binary",
                            "description": "The file; its type is read from its bytes.",
                        },
                        "metadata": {
                            "type": "string",
                            "description": "JSON: alt (per locale), decorative, caption, credit, licence, focal_point.",
                            "examples": ['{"alt": {"en": "A lighthouse at dusk"}}'],
                        },
                    },
                }
            }
        },
    }
}


#: What JSON Schema cannot say about an upload (charter.http.openapi.rules).
UPLOAD_RULES = rules(
    ("empty-file", 400, "The file must not be empty."),
    ("unsupported-media-type", 415, "The file's bytes must be one of [charter.assets] media_types."),
    (
        "asset-file",
        422,
        "The file must decode as its type within the [charter.assets] limits, not be a polyglot, and carry a "
        "plain file name whose extension fits its type.",
    ),
    ("invalid-json", 400, "The metadata part must be strict JSON text."),
    (
        "asset-metadata",
        422,
        "metadata must be an object of alt (per locale), decorative, caption, credit, licence and focal_point, "
        "with alt text unless decorative is true (when [charter.assets] require_alt).",
    ),
)


def _rt(request: Request) -> Runtime:
    rt: Runtime = request.app.state.runtime
    return rt


@router.post(
    "/v1/manage/assets",
    operation_id="uploadAsset",
    status_code=201,
    response_model=UploadOut,
    responses={200: {"description": "The same bytes were already an asset: that asset."}, **WRITE_RESPONSES},
    openapi_extra={**UPLOAD_BODY, **UPLOAD_RULES},
)
async def upload(request: Request, actor: Annotated[Actor, WRITE]) -> Response:
    rt = _rt(request)
    media = (request.headers.get("content-type") or "").split(";", 1)[0].strip().lower()
    if media != "multipart/form-data":
        from charter.exceptions import UnsupportedMediaType

        raise UnsupportedMediaType(f"upload with Content-Type: multipart/form-data, not {media or 'nothing'!r}")
    try:
        form = await request.form(max_files=1, max_fields=4, max_part_size=64 * 1024)
    except CharterError:
        raise
    except Exception as exc:  # python-multipart / Starlette parse errors
        raise BadRequest(f"the multipart body cannot be read: {getattr(exc, 'detail', exc)}") from None
    try:
        unknown = sorted(set(form.keys()) - {"file", "metadata"})
        if unknown:
            raise ValidationFailed(
                detail=f"unknown part {unknown[0][:80]!r}: an upload has a 'file' and an optional 'metadata'",
                errors=[ErrorDetail(f"/{u[:80]}", "unknown part", "additionalProperties") for u in unknown],
            )
        file = form.get("file")
        if file is None or isinstance(file, str):
            raise ValidationFailed(detail="the 'file' part is required", errors=[ErrorDetail("/file", "required")])
        data = await file.read()
        raw_meta = form.get("metadata")
        meta: Any = None
        if raw_meta is not None:
            if not isinstance(raw_meta, str):
                raise BadRequest("the 'metadata' part must be JSON text")
            meta = strictjson.loads(raw_meta.encode())
        name = file.filename or ""
    finally:
        await form.close()
    asset, created = await run_in_threadpool(actions.upload_asset, rt, actor, data, name, meta)
    body = {**asset.to_dict(), "deduplicated": not created}
    return Response(
        strictjson_dumps(UploadOut.model_validate(body).model_dump(mode="json")),
        status_code=201 if created else 200,
        media_type="application/json",
        headers={"Location": f"/v1/manage/assets/{asset.id}", "ETag": asset.etag},
    )


def strictjson_dumps(value: Any) -> bytes:
    import orjson

    return orjson.dumps(value)


@router.get("/v1/manage/assets", operation_id="listAssets", response_model=list[AssetOut], responses=WRITE_RESPONSES)
async def list_all(
    request: Request,
    actor: Annotated[Actor, READ],
    q: Annotated[str | None, Query(max_length=200, pattern=r"^[^\x00]*$", description="Part of the file name.")] = None,
    media_type: Annotated[str | None, Query(max_length=100, pattern=r"^[a-z]+/[a-z0-9.+-]+$")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[dict[str, Any]]:
    rt = _rt(request)

    def run() -> list[dict[str, Any]]:
        with rt.read() as conn:
            return [
                a.to_dict() for a in actions.list_assets(conn, q=q, media_type=media_type, limit=limit, offset=offset)
            ]

    return await run_in_threadpool(run)


AssetId = Annotated[str, Path(pattern=ID, description="The asset's id (a UUID).")]


@router.get("/v1/manage/assets/{asset_id}", operation_id="getAsset", response_model=AssetOut, responses=WRITE_RESPONSES)
async def read(request: Request, asset_id: AssetId, actor: Annotated[Actor, READ]) -> Response:
    rt = _rt(request)

    def run() -> Any:
        with rt.read() as conn:
            return actions.get_asset(conn, asset_id)

    asset = await run_in_threadpool(run)
    return Response(strictjson_dumps(asset.to_dict()), media_type="application/json", headers={"ETag": asset.etag})


@router.patch(
    "/v1/manage/assets/{asset_id}",
    operation_id="updateAsset",
    response_model=AssetOut,
    responses=WRITE_RESPONSES,
    dependencies=[Depends(json_body)],
)
async def update(
    request: Request,
    asset_id: AssetId,
    body: AssetUpdate,
    actor: Annotated[Actor, WRITE],
    if_match: Annotated[str | None, Header(max_length=200)] = None,
) -> Response:
    changes = body.model_dump(exclude_unset=True)
    asset = await run_in_threadpool(
        lambda: actions.update_asset(_rt(request), actor, asset_id, changes, if_match=if_match)
    )
    return Response(strictjson_dumps(asset.to_dict()), media_type="application/json", headers={"ETag": asset.etag})


@router.delete("/v1/manage/assets/{asset_id}", operation_id="deleteAsset", status_code=204, responses=WRITE_RESPONSES)
async def delete(
    request: Request,
    asset_id: AssetId,
    actor: Annotated[Actor, WRITE],
    if_match: Annotated[str | None, Header(max_length=200)] = None,
) -> Response:
    await run_in_threadpool(lambda: actions.delete_asset(_rt(request), actor, asset_id, if_match=if_match))
    return Response(status_code=204)


@router.get(
    "/v1/assets/{asset_id}/{name}",
    operation_id="deliverAsset",
    responses={
        200: {"description": "The original or the transformed image.", "content": {"image/*": {}}},
        304: {"description": "Not modified (If-None-Match)."},
        **problem_responses(400, 403, 404, 422),
    },
    response_class=Response,
)
async def deliver(
    request: Request,
    asset_id: AssetId,
    name: Annotated[str, Path(max_length=200, pattern=r"^[A-Za-z0-9._-]+$")],
    w: Annotated[int | None, Query(ge=1, le=8192, description="Width, pixels.")] = None,
    h: Annotated[int | None, Query(ge=1, le=8192, description="Height, pixels.")] = None,
    fit: Annotated[str | None, Query(pattern=r"^(contain|cover)$", description="contain (default) or cover.")] = None,
    fm: Annotated[str | None, Query(pattern=r"^(webp|avif|jpeg|png)$", description="Output format.")] = None,
    q: Annotated[int | None, Query(ge=1, le=100, description="Quality.")] = None,
    v: Annotated[int | None, Query(ge=1, le=2**31, description="The asset's version: immutable caching.")] = None,
    s: Annotated[str | None, Query(max_length=64, pattern=r"^[A-Za-z0-9_-]+$", description="Signature.")] = None,
) -> Response:
    rt = _rt(request)
    config = asset_settings(rt.settings)
    t = transforms.parse({"w": w, "h": h, "fit": fit, "fm": fm, "q": q}, config)
    headers = {
        "Cache-Control": f"public, max-age={config.unversioned_max_age}",
        "Surrogate-Key": f"asset:{asset_id}",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; sandbox",
    }
    cache_root = cache_dir(rt.settings, config)
    if v is not None and t.fm is not None and not t.empty:
        # The hot path: a versioned transform already on disk is served without the database.
        transforms.authorise(t, s, asset_id, config, rt.settings.secret_key)
        path = transforms.cached_path(cache_root, asset_id, v, t, t.fm)
        if path.is_file():
            etag = f'"{path.stem.split("-", 1)[1]}"'
            headers.update({"Cache-Control": IMMUTABLE, "ETag": etag})
            if if_none_match(request.headers.get("if-none-match"), etag):
                return Response(status_code=304, headers=headers)
            return _send_file(path, transforms.FORMATS[t.fm][1], headers)

    def lookup() -> Any:
        with rt.read() as conn:
            return actions.get_asset(conn, asset_id)

    asset = await run_in_threadpool(lookup)
    if v == asset.version:
        headers["Cache-Control"] = IMMUTABLE
    if t.empty or not asset.is_raster:
        if not t.empty:
            raise ValidationFailed(
                detail=f"{asset.media_type} is served as it is: no transform parameters",
                errors=[ErrorDetail("/query", "no transforms for this media type", "transform")],
            )
        return await _original(request, rt, asset, headers)
    transforms.authorise(t, s, asset.id, config, rt.settings.secret_key)
    fmt = transforms.output_format(asset, t)
    path = transforms.cached_path(cache_root, asset.id, asset.version, t, fmt)
    etag = f'"{path.stem.split("-", 1)[1]}"'
    headers["ETag"] = etag
    if if_none_match(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    if not path.is_file():

        def make() -> None:
            original = store_for(rt).get(blob_key(asset.sha256))
            transforms.write_atomically(path, transforms.render(original, asset, t, config))

        try:
            await run_in_threadpool(make)
        except KeyError:
            raise NotFound(f"the bytes of asset {asset.id} are missing from the store") from None
    return _send_file(path, transforms.FORMATS[fmt][1], headers)


#: Cached files up to this size are read in the event loop (a page-cache hit costs microseconds;
#: a thread hop for sendfile costs more than that); larger ones stream with FileResponse.
SMALL_FILE = 256 * 1024


def _send_file(path: Any, media_type: str, headers: dict[str, str]) -> Response:
    try:
        size = path.stat().st_size
        if size <= SMALL_FILE:
            return Response(path.read_bytes(), media_type=media_type, headers=headers)
    except FileNotFoundError:  # purged between the check and the read
        raise NotFound("the transform was purged; request it again") from None
    return FileResponse(path, media_type=media_type, headers=headers)


async def _original(request: Request, rt: Runtime, asset: Any, headers: dict[str, str]) -> Response:
    etag = f'"{asset.sha256[:32]}"'
    headers = {**headers, "ETag": etag, "Content-Disposition": f'inline; filename="{url_name(asset.filename)}"'}
    if if_none_match(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    store = store_for(rt)
    key = blob_key(asset.sha256)
    local = store.local_path(key)
    if local is not None:
        return FileResponse(local, media_type=asset.media_type, headers=headers)
    try:
        data = await run_in_threadpool(store.get, key)
    except KeyError:
        raise NotFound(f"the bytes of asset {asset.id} are missing from the store") from None
    return Response(data, media_type=asset.media_type, headers=headers)
