"""Image transforms: the parameters a delivery URL may carry, which of them are served, the
rendering (Pillow) and the disk cache.

Only sizes from ``[charter.assets] sizes`` and qualities from ``qualities`` are served without a
signature; any other combination needs ``s``, an HMAC-SHA256 of the asset id and the canonical
parameters under the instance's ``secret_key`` (:func:`sign`), so no one can make the server
render arbitrary sizes (transform denial of service). Rendering holds one of a few slots
(:data:`RENDER_SLOTS`), so memory stays bounded under a burst of first requests.

A transform is cached under ``<cache_dir>/<asset id>/<version>-<digest>.<ext>``; the digest covers
the asset id and version (which fix the original's bytes and the focal point), the parameters and
Pillow's version, so it is the strong ETag of the bytes (RFC 9110 §8.8.3) before they exist, and
a conditional request is answered without rendering. A request naming the version (``v``) and the
format finds its cached file without reading the database. Changing or deleting the asset removes
its folder.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import os
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from charter.assets.model import Asset
from charter.assets.settings import AssetSettings
from charter.exceptions import BadRequest, ErrorDetail, Forbidden, ValidationFailed

FORMATS = {"webp": ("WEBP", "image/webp"), "avif": ("AVIF", "image/avif"), "jpeg": ("JPEG", "image/jpeg"),
           "png": ("PNG", "image/png")}  # fmt: skip
ORIGINAL_FORMAT = {"image/jpeg": "jpeg", "image/png": "png", "image/webp": "webp", "image/avif": "avif",
                   "image/gif": "png"}  # fmt: skip
FITS = ("contain", "cover")
#: Concurrent renders per process: each holds a decoded image (up to ``max_pixels`` x 4 bytes).
RENDER_SLOTS = threading.BoundedSemaphore(2)


@dataclass(frozen=True)
class Transform:
    w: int | None = None
    h: int | None = None
    fit: str = "contain"
    fm: str | None = None
    q: int | None = None

    @property
    def empty(self) -> bool:
        return self.w is None and self.h is None and self.fm is None and self.q is None

    def canonical(self) -> str:
        """The parameters in one fixed order: what :func:`sign` signs."""
        parts = {"w": self.w, "h": self.h, "fit": self.fit if (self.w or self.h) else None, "fm": self.fm, "q": self.q}
        return urlencode([(k, v) for k, v in parts.items() if v is not None])


def parse(params: dict[str, Any], config: AssetSettings) -> Transform:
    """A :class:`Transform` from query values (already integers where they should be), or 422."""
    errors = []
    fit = params.get("fit") or "contain"
    if fit not in FITS:
        errors.append(ErrorDetail("/query/fit", f"fit must be one of {', '.join(FITS)}", "enum"))
    fm = params.get("fm")
    if fm is not None and fm not in config.formats:
        errors.append(ErrorDetail("/query/fm", f"fm must be one of {', '.join(config.formats)}", "enum"))
    if errors:
        raise ValidationFailed(detail="invalid transform parameters", errors=errors)
    return Transform(params.get("w"), params.get("h"), fit, fm, params.get("q"))


def sign(secret: str, asset_id: str, transform: Transform) -> str:
    digest = hmac.new(secret.encode(), f"{asset_id}?{transform.canonical()}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:18]).decode()


def allowed(t: Transform, config: AssetSettings) -> bool:
    """Is ``t`` in the configured ladder (served without a signature)?"""
    return (
        (t.w is None or t.w in config.sizes)
        and (t.h is None or t.h in config.sizes)
        and (t.q is None or t.q in config.qualities)
    )


def authorise(t: Transform, signature: str | None, asset_id: str, config: AssetSettings, secret: str) -> None:
    """Pass a configured transform or a correctly signed one; refuse the rest (403)."""
    if allowed(t, config) and signature is None:
        return
    if signature is None:
        raise Forbidden(
            f"{t.canonical()} is not a configured size ([charter.assets] sizes {list(config.sizes)}, qualities "
            f"{list(config.qualities)}); other transforms need a signed URL (s=...)"
        )
    if not hmac.compare_digest(signature, sign(secret, asset_id, t)):
        raise Forbidden("the transform signature (s) does not match these parameters")


def transform_url(asset: Asset, t: Transform, *, config: AssetSettings, secret: str) -> str:
    """The delivery URL of ``t`` of ``asset`` at its current version; signed when ``t`` is off the ladder."""
    query = f"v={asset.version}"
    if not t.empty:
        query += "&" + t.canonical()
        if not allowed(t, config):
            query += "&s=" + sign(secret, asset.id, t)
    return f"{asset.path}?{query}"


def output_format(asset: Asset, t: Transform) -> str:
    return t.fm or ORIGINAL_FORMAT.get(asset.media_type, "png")


def digest(asset_id: str, version: int, t: Transform, fmt: str) -> str:
    """The transform's key and strong ETag. An asset's bytes never change under its id and every
    metadata change (the focal point included) makes a new version, so the id, the version, the
    parameters, the format and Pillow's version decide the output bytes."""
    from PIL import __version__ as pillow

    return hashlib.sha256(f"{asset_id}|{version}|{t.canonical()}|{fmt}|{pillow}".encode()).hexdigest()[:32]


def cached_path(cache_root: Path, asset_id: str, version: int, t: Transform, fmt: str) -> Path:
    return cache_root / asset_id / f"{version}-{digest(asset_id, version, t, fmt)}.{fmt}"


def render(original: bytes, asset: Asset, t: Transform, config: AssetSettings) -> bytes:
    """The transformed image's bytes. Never enlarges; ``cover`` crops around the focal point."""
    from PIL import Image, ImageOps

    fmt = output_format(asset, t)
    with RENDER_SLOTS, Image.open(io.BytesIO(original)) as img:
        if img.width * img.height > config.max_pixels:  # the upload checked it; a store is not trusted
            raise BadRequest("the original is larger than max_pixels")
        box_w, box_h = t.w or img.width, t.h or img.height
        if img.format == "JPEG":
            img.draft("RGB", (box_w, box_h))  # DCT scaling: decode at 1/2, 1/4 or 1/8 size when enough
        frame = ImageOps.exif_transpose(img)
        if t.fit == "cover" and t.w and t.h:
            frame = _cover(frame, t.w, t.h, asset.meta.get("focal_point") or {})
        else:
            frame = frame.copy()
            frame.thumbnail((box_w, box_h), Image.Resampling.LANCZOS)
        if fmt == "jpeg" and frame.mode not in ("RGB", "L"):
            frame = frame.convert("RGB")
        elif frame.mode not in ("RGB", "RGBA", "L", "LA"):
            frame = frame.convert("RGBA")
        out = io.BytesIO()
        quality = t.q or config.default_quality
        options: dict[str, Any] = {"quality": quality} if fmt != "png" else {"optimize": True}
        if fmt == "jpeg":
            options.update(progressive=True, optimize=True)
        frame.save(out, FORMATS[fmt][0], **options)
        return out.getvalue()


def _cover(img: Any, w: int, h: int, focal: dict[str, float]) -> Any:
    from PIL import Image

    scale = max(w / img.width, h / img.height)
    if scale > 1:  # never enlarge: crop the largest window of the target's aspect instead
        scale = 1.0
        w, h = (min(img.width, round(img.height * w / h)), img.height) if w / h >= img.width / img.height else (
            img.width, min(img.height, round(img.width * h / w)))  # fmt: skip
    sw, sh = round(img.width * scale), round(img.height * scale)
    resized = img.resize((max(sw, w), max(sh, h)), Image.Resampling.LANCZOS, reducing_gap=3.0)
    fx, fy = float(focal.get("x", 0.5)), float(focal.get("y", 0.5))
    left = min(max(round(fx * resized.width - w / 2), 0), resized.width - w)
    top = min(max(round(fy * resized.height - h / 2), 0), resized.height - h)
    return resized.crop((left, top, left + w, top + h))


def write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
