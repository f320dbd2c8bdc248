"""The asset use cases, one function each; the API routes (and any other door) call these.

Upload is ordered so nothing is ever half-written: the bytes are checked in memory, stored under
their SHA-256 (atomically, by the store), and only then the row is inserted in one transaction
with its first version, its event and its audit row. A row therefore always names stored bytes;
a failed insert removes the bytes unless another row already holds them. Two concurrent uploads
of one file write the same object and race on the unique ``sha256``: the loser answers the
winner's asset, like any later upload of the same bytes (deduplication).
"""

from __future__ import annotations

import hashlib
import shutil
import uuid
from typing import Any

import sqlalchemy as sa
from pydantic import ValidationError

from charter import events as ev
from charter.assets.model import Asset, AssetMeta
from charter.assets.settings import asset_settings, cache_dir
from charter.assets.sniff import check_file_name, inspect_upload
from charter.assets.storage import blob_key, store_for
from charter.assets.tables import asset_versions, assets
from charter.audit import record_audit
from charter.auth.roles import Actor, Permission
from charter.db.tables import entries, revisions
from charter.events import utcnow
from charter.exceptions import (
    BadRequest,
    Conflict,
    ErrorDetail,
    Forbidden,
    NotFound,
    PayloadTooLarge,
    PreconditionFailed,
    ValidationFailed,
)
from charter.runtime import Runtime


def _require(actor: Actor, permission: Permission) -> None:
    if not actor.can(permission):
        raise Forbidden(f"role {actor.role.value!r} may not {permission.value}")


def _who(actor: Actor) -> str:
    return f"{actor.kind}:{actor.name}"


class MetadataInvalid(ValidationFailed):
    type_slug = "asset-metadata"
    title = "Invalid asset metadata"


class EmptyFile(BadRequest):
    type_slug = "empty-file"
    title = "Empty file"


def parse_meta(raw: Any, *, require_alt: bool, pointer: str = "/metadata") -> AssetMeta:
    """Validated metadata, or 422 naming every problem."""
    if not isinstance(raw, dict):
        raise MetadataInvalid(detail="metadata must be a JSON object", errors=[ErrorDetail(pointer, "not an object")])
    try:
        meta = AssetMeta.model_validate(raw)
    except ValidationError as exc:
        errors = [
            ErrorDetail(pointer + "".join(f"/{p}" for p in e["loc"]), e["msg"], str(e["type"])) for e in exc.errors()
        ]
        raise MetadataInvalid(detail=f"{len(errors)} error(s) in the asset's metadata", errors=errors) from None
    problems = [ErrorDetail(pointer + p, m, "format") for p, m in meta.problems()]
    if require_alt and not meta.decorative and not meta.has_alt():
        problems.append(
            ErrorDetail(
                pointer + "/alt",
                "alt text is required (in at least one locale), or mark the image decorative: true",
                "required",
            )
        )
    if problems:
        raise MetadataInvalid(detail=f"{len(problems)} error(s) in the asset's metadata", errors=problems)
    return meta


def _event(cls: type[ev.AssetEvent], asset: Asset, actor: Actor) -> ev.Event:
    return cls(
        id=asset.id,
        version=asset.version,
        sha256=asset.sha256,
        media_type=asset.media_type,
        filename=asset.filename,
        actor=_who(actor),
    ).event(domain="assets")


def get_asset(conn: sa.Connection, asset_id: str) -> Asset:
    row = conn.execute(sa.select(assets).where(assets.c.id == asset_id)).first()
    if row is None:
        raise NotFound(f"no asset {asset_id!r}")
    return Asset.from_row(row)


def get_assets(conn: sa.Connection, ids: list[str]) -> dict[str, Asset]:
    if not ids:
        return {}
    return {r.id: Asset.from_row(r) for r in conn.execute(sa.select(assets).where(assets.c.id.in_(ids)))}


def _by_sha(conn: sa.Connection, sha256: str) -> Asset | None:
    row = conn.execute(sa.select(assets).where(assets.c.sha256 == sha256)).first()
    return Asset.from_row(row) if row is not None else None


def upload_asset(rt: Runtime, actor: Actor, data: bytes, filename: str, meta: Any) -> tuple[Asset, bool]:
    """Store an upload; answer ``(asset, created)``: ``created`` is False when the same bytes were
    already an asset (that asset is answered, its metadata unchanged)."""
    _require(actor, Permission.WRITE)
    config = asset_settings(rt.settings)
    if len(data) > config.max_upload_bytes:
        raise PayloadTooLarge(f"the file is larger than {config.max_upload_bytes} bytes")
    if not data:
        raise EmptyFile("the file is empty")
    check_file_name(filename)
    parsed = parse_meta(meta if meta is not None else {}, require_alt=config.require_alt)
    found = inspect_upload(
        data,
        filename,
        media_types=config.media_types,
        max_pixels=config.max_pixels,
        max_dimension=config.max_dimension,
    )
    sha256 = hashlib.sha256(data).hexdigest()
    with rt.read() as conn:
        existing = _by_sha(conn, sha256)
    if existing is not None:
        return existing, False
    store = store_for(rt)
    key = blob_key(sha256)
    store.put(key, data, found.media_type)
    now = utcnow()
    asset = Asset(
        id=str(uuid.uuid4()),
        sha256=sha256,
        media_type=found.media_type,
        bytes=len(data),
        width=found.width,
        height=found.height,
        frames=found.frames,
        dominant_color=found.dominant_color,
        filename=filename,
        version=1,
        meta=parsed.model_dump(mode="json", exclude_none=True),
        created_at=now,
        created_by=_who(actor),
        updated_at=now,
        updated_by=_who(actor),
    )
    try:
        with rt.write() as (conn, pending):
            conn.execute(
                sa.insert(assets).values(
                    id=asset.id,
                    sha256=sha256,
                    media_type=asset.media_type,
                    bytes=asset.bytes,
                    width=asset.width,
                    height=asset.height,
                    frames=asset.frames,
                    dominant_color=asset.dominant_color,
                    filename=filename,
                    version=1,
                    meta=asset.meta,
                    created_at=now,
                    created_by=asset.created_by,
                    updated_at=now,
                    updated_by=asset.updated_by,
                )
            )
            _version(conn, asset, "create", actor)
            record_audit(conn, actor, "asset.create", "asset", asset.id, {"sha256": sha256, "filename": filename})
            pending.append(ev.record(conn, _event(ev.AssetCreated, asset, actor)))
    except sa.exc.IntegrityError:
        with rt.read() as conn:
            winner = _by_sha(conn, sha256)
        if winner is None:
            raise
        return winner, False  # a concurrent upload of the same bytes won the race
    except BaseException:
        with rt.read() as conn:
            if _by_sha(conn, sha256) is None:
                store.delete(key)
        raise
    return asset, True


def _version(conn: sa.Connection, asset: Asset, action: str, actor: Actor) -> None:
    conn.execute(
        sa.insert(asset_versions).values(
            asset_id=asset.id,
            version=asset.version,
            sha256=asset.sha256,
            meta=asset.meta,
            action=action,
            at=utcnow(),
            by=_who(actor),
        )
    )


def _check_if_match(asset: Asset, if_match: str | None) -> None:
    if if_match is None:
        return
    tags = [t.strip().removeprefix("W/") for t in if_match.split(",")]
    if "*" not in tags and asset.etag not in tags:
        raise PreconditionFailed(
            f"asset {asset.id} has changed: current ETag is {asset.etag} (version {asset.version})",
            extra={"version": asset.version, "etag": asset.etag},
        )


def _lock(conn: sa.Connection, asset_id: str) -> Asset:
    if conn.dialect.name == "postgresql":
        conn.execute(sa.select(assets.c.id).where(assets.c.id == asset_id).with_for_update())
    return get_asset(conn, asset_id)


def update_asset(
    rt: Runtime, actor: Actor, asset_id: str, changes: dict[str, Any], *, if_match: str | None = None
) -> Asset:
    """Merge ``changes`` (JSON merge patch, RFC 7396, over the metadata) into a new version.
    ``filename`` may be changed too (the delivery URL's name)."""
    _require(actor, Permission.WRITE)
    config = asset_settings(rt.settings)
    with rt.write() as (conn, pending):
        asset = _lock(conn, asset_id)
        _check_if_match(asset, if_match)
        filename = changes.get("filename", asset.filename)
        if not isinstance(filename, str):
            raise ValidationFailed(
                detail="filename must be a string", errors=[ErrorDetail("/filename", "not a string")]
            )
        check_file_name(filename)
        merged = _merge(asset.meta, changes.get("metadata") or {})
        meta = parse_meta(merged, require_alt=config.require_alt)
        new = Asset(
            **{
                **asset.__dict__,
                "filename": filename,
                "version": asset.version + 1,
                "meta": meta.model_dump(mode="json", exclude_none=True),
                "updated_at": utcnow(),
                "updated_by": _who(actor),
            }
        )
        conn.execute(
            sa.update(assets)
            .where(assets.c.id == asset_id, assets.c.version == asset.version)
            .values(
                filename=filename,
                version=new.version,
                meta=new.meta,
                updated_at=new.updated_at,
                updated_by=new.updated_by,
            )
        )
        _version(conn, new, "update", actor)
        record_audit(conn, actor, "asset.update", "asset", asset_id, {"version": new.version, "changes": changes})
        pending.append(ev.record(conn, _event(ev.AssetUpdated, new, actor)))
    purge_transforms(rt, asset_id)
    return new


def _merge(target: Any, patch: Any) -> Any:
    if not isinstance(patch, dict):
        return patch
    out = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = _merge(out.get(key), value)
    return out


def entries_using(conn: sa.Connection, asset_id: str, limit: int = 10) -> list[str]:
    """Entries (not deleted) any of whose revisions names the asset: the current one, the
    published one, or an older one a rollback could restore."""
    text = sa.cast(revisions.c.data, sa.Text)
    rows = conn.execute(
        sa.select(revisions.c.entry_id)
        .join(entries, entries.c.id == revisions.c.entry_id)
        .where(entries.c.deleted_at.is_(None), text.contains(asset_id, autoescape=True))
        .distinct()
        .limit(limit)
    )
    return [r.entry_id for r in rows]


def delete_asset(rt: Runtime, actor: Actor, asset_id: str, *, if_match: str | None = None) -> Asset:
    """Delete an asset no entry uses (409 naming the entries otherwise); its bytes go after the
    commit, its transforms with them. Its versions stay, for the audit."""
    _require(actor, Permission.WRITE)
    with rt.write() as (conn, pending):
        asset = _lock(conn, asset_id)
        _check_if_match(asset, if_match)
        users = entries_using(conn, asset_id)
        if users:
            raise Conflict(
                f"asset {asset_id} is used by {len(users)} entr{'y' if len(users) == 1 else 'ies'}: "
                f"{', '.join(users)}; remove the references first",
                extra={"entries": users},
            )
        conn.execute(sa.delete(assets).where(assets.c.id == asset_id))
        gone = Asset(**{**asset.__dict__, "version": asset.version + 1})
        _version(conn, gone, "delete", actor)
        record_audit(conn, actor, "asset.delete", "asset", asset_id, {"sha256": asset.sha256})
        pending.append(ev.record(conn, _event(ev.AssetDeleted, gone, actor)))
    with rt.read() as conn:
        if _by_sha(conn, asset.sha256) is None:
            store_for(rt).delete(blob_key(asset.sha256))
    purge_transforms(rt, asset_id)
    return gone


def list_assets(
    conn: sa.Connection, *, q: str | None = None, media_type: str | None = None, limit: int = 50, offset: int = 0
) -> list[Asset]:
    """Newest first; ``q`` matches the file name, case-insensitively."""
    query = sa.select(assets).order_by(assets.c.created_at.desc(), assets.c.id).limit(limit).offset(offset)
    if q:
        query = query.where(sa.func.lower(assets.c.filename).contains(q.lower(), autoescape=True))
    if media_type:
        query = query.where(assets.c.media_type == media_type)
    return [Asset.from_row(r) for r in conn.execute(query)]


def purge_transforms(rt: Runtime, asset_id: str) -> None:
    """Drop the asset's cached transforms and the responses that carry its surrogate key."""
    folder = cache_dir(rt.settings, asset_settings(rt.settings)) / asset_id
    shutil.rmtree(folder, ignore_errors=True)
    rt.cache.purge([f"asset:{asset_id}"])
