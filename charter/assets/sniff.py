"""What an uploaded file really is, read from its bytes, never from its name.

:func:`inspect_upload` answers the media type, the dimensions and the dominant colour of an
upload, or refuses it with a :class:`~charter.exceptions.CharterError`:

- the type comes from the leading bytes (magic numbers); a name whose extension says otherwise
  is refused (422), so ``photo.png`` holding a JPEG never reaches a browser as ``image/png``;
- a raster image is opened by Pillow restricted to the sniffed format, and its width x height x
  frames is checked against ``max_pixels`` from the header, *before* any pixel is decoded
  (decompression bombs); then it is decoded once to prove it is whole;
- polyglots are refused: HTML, script or PHP markers inside a raster image, bytes after a PNG's
  ``IEND``, a ZIP directory at the end of the file;
- SVG is accepted only without active content: no DOCTYPE or entities, no ``script``,
  ``foreignObject`` or embedding elements, no ``on*`` event attributes, no references that leave
  the document (``href`` other than ``#id``, ``url(...)`` other than ``url(#id)``), no
  ``javascript:`` anywhere. SVG is refused, not rewritten: a sanitiser's output is a file nobody
  uploaded.
"""

from __future__ import annotations

import io
import re
import warnings
from dataclasses import dataclass
from xml.etree import ElementTree

from charter.exceptions import ErrorDetail, UnsupportedMediaType, ValidationFailed

#: Media type -> the extensions a file name of that type may carry (the first is canonical).
EXTENSIONS: dict[str, tuple[str, ...]] = {
    "image/jpeg": (".jpg", ".jpeg", ".jpe", ".jfif"),
    "image/png": (".png",),
    "image/gif": (".gif",),
    "image/webp": (".webp",),
    "image/avif": (".avif",),
    "image/svg+xml": (".svg",),
}
#: Media type -> Pillow's format name.
PILLOW_FORMATS = {
    "image/jpeg": "JPEG",
    "image/png": "PNG",
    "image/gif": "GIF",
    "image/webp": "WEBP",
    "image/avif": "AVIF",
}
_POLYGLOT_MARKERS = (b"<script", b"<html", b"<?php", b"<iframe", b"<body", b"javascript:", b"<svg")
_NAME = re.compile(r"^[^/\\\x00-\x1f\x7f]{1,200}$")
_SVG_NS = "{http://www.w3.org/2000/svg}"
_SVG_FORBIDDEN = {"script", "foreignobject", "iframe", "embed", "object", "handler", "listener", "audio", "video"}
_LENGTH = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*(px)?\s*$")


@dataclass(frozen=True)
class Inspected:
    """What the bytes are."""

    media_type: str
    width: int | None
    height: int | None
    frames: int
    dominant_color: str | None  # "#rrggbb"


class AssetFileInvalid(ValidationFailed):
    """An upload whose bytes or name Charter will not store."""

    type_slug = "asset-file"
    title = "File refused"


def _invalid(pointer: str, message: str, keyword: str) -> ValidationFailed:
    return AssetFileInvalid(detail=message, errors=[ErrorDetail(pointer, message, keyword)])


def check_file_name(name: str) -> str:
    """The name, if it is a plain file name (no folder, no traversal, no control characters)."""
    if not _NAME.match(name) or name in (".", "..") or name.startswith(".") or ".." in name:
        raise _invalid(
            "/file", f"file name {name!r} is not a plain file name (no folders, '..' or control characters)", "filename"
        )
    return name


def sniff(data: bytes) -> str | None:
    """The media type the leading bytes announce, or None."""
    head = data[:64]
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[4:8] == b"ftyp":
        size = int.from_bytes(head[:4], "big")
        brands = data[8 : max(16, min(size, 256))]
        if any(brands[i : i + 4] in (b"avif", b"avis") for i in range(0, len(brands), 4)):
            return "image/avif"
        return None
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith((b"<?xml", b"<svg", b"<!--")) and b"<svg" in data[:4096].lower():
        return "image/svg+xml"
    return None


def check_extension(name: str, media_type: str) -> None:
    suffix = ("." + name.rsplit(".", 1)[1].lower()) if "." in name else ""
    if suffix and suffix not in EXTENSIONS[media_type]:
        raise _invalid(
            "/file",
            f"the file name says {suffix!r} but its bytes are {media_type}: rename it to {EXTENSIONS[media_type][0]!r}",
            "extension",
        )


def inspect_upload(
    data: bytes, name: str, *, media_types: tuple[str, ...], max_pixels: int, max_dimension: int
) -> Inspected:
    """Sniff, check and measure an upload; raise 415 for what is not an allowed type, 422 for
    what is broken, disguised or too large to decode."""
    check_file_name(name)
    media_type = sniff(data)
    if media_type is None or media_type not in media_types:
        found = media_type or "not a recognised image"
        raise UnsupportedMediaType(f"{name!r} is {found}; accepted: {', '.join(media_types)}")
    check_extension(name, media_type)
    if media_type == "image/svg+xml":
        return _inspect_svg(data)
    _check_polyglot(data, media_type)
    return _inspect_raster(data, media_type, max_pixels, max_dimension)


def _check_polyglot(data: bytes, media_type: str) -> None:
    lowered = data.lower()
    for marker in _POLYGLOT_MARKERS:
        if marker in lowered:
            raise _invalid("/file", f"the image carries {marker.decode()!r}: a polyglot file is refused", "polyglot")
    if media_type == "image/png":
        end = data.rfind(b"IEND")
        if end < 0 or len(data) > end + 8:  # "IEND" + its 4-byte CRC close the file
            raise _invalid("/file", "bytes after the PNG's end (IEND): a polyglot file is refused", "polyglot")
    if b"PK\x05\x06" in data[-65_557:]:  # a ZIP's end-of-central-directory record (APPNOTE 4.3.16)
        raise _invalid("/file", "the image ends in a ZIP directory: a polyglot file is refused", "polyglot")


def _inspect_raster(data: bytes, media_type: str, max_pixels: int, max_dimension: int) -> Inspected:
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            # Pillow's own guard warns past Image.MAX_IMAGE_PIXELS and fails past twice that, at open.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data), formats=[PILLOW_FORMATS[media_type]])
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
        raise _invalid("/file", f"image has too many pixels to decode: {exc}", "pixels") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise _invalid("/file", f"the {media_type} image cannot be decoded: {exc}", "decode") from None
    try:
        with img:
            width, height = img.size
            frames = int(getattr(img, "n_frames", 1) or 1)
            if width < 1 or height < 1 or width > max_dimension or height > max_dimension:
                raise _invalid(
                    "/file", f"image is {width}x{height}; the largest side allowed is {max_dimension}", "dimensions"
                )
            if width * height * frames > max_pixels:
                raise _invalid(
                    "/file",
                    f"image is {width}x{height} x {frames} frame(s) = {width * height * frames} pixels; "
                    f"at most {max_pixels} are decoded (decompression bomb guard)",
                    "pixels",
                )
            img.load()
            color = dominant_color(img)
    except ValidationFailed:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise _invalid("/file", f"the {media_type} image cannot be decoded: {exc}", "decode") from None
    return Inspected(media_type, width, height, frames, color)


def dominant_color(img: object) -> str:
    """The most common colour of a small, 16-colour version of the image, as ``#rrggbb``
    (transparent pixels are left out when there are opaque ones)."""
    from PIL import Image

    assert isinstance(img, Image.Image)
    small = img.copy()
    small.thumbnail((64, 64))
    rgba = small.convert("RGBA")
    pixels: list[tuple[int, int, int, int]] = list(rgba.get_flattened_data())  # type: ignore[arg-type]
    opaque = [p[:3] for p in pixels if p[3] >= 128] or [p[:3] for p in pixels]
    sample = Image.new("RGB", (len(opaque), 1))
    sample.putdata(opaque)
    quantised = sample.quantize(colors=16, method=Image.Quantize.MEDIANCUT)
    palette = quantised.getpalette() or [0, 0, 0]
    counts: list[tuple[int, int]] = quantised.getcolors() or [(1, 0)]  # type: ignore[assignment]
    _count, index = max(counts)
    r, g, b = palette[index * 3 : index * 3 + 3]
    return f"#{r:02x}{g:02x}{b:02x}"


def _inspect_svg(data: bytes) -> Inspected:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _invalid("/file", "the SVG is not UTF-8", "svg") from None
    lowered = text.lower()
    if "<!doctype" in lowered or "<!entity" in lowered:
        raise _invalid("/file", "the SVG declares a DOCTYPE or entities, which are refused", "svg")
    if "javascript:" in lowered or "@import" in lowered:
        raise _invalid("/file", "the SVG carries 'javascript:' or '@import', which are refused", "svg")
    try:
        root = ElementTree.fromstring(text)
    except ElementTree.ParseError as exc:
        raise _invalid("/file", f"the SVG is not well-formed XML: {exc}", "svg") from None
    if root.tag not in (f"{_SVG_NS}svg", "svg"):
        raise _invalid("/file", "the XML document's root is not <svg>", "svg")
    for element in root.iter():
        tag = str(element.tag).rsplit("}", 1)[-1].lower()
        if tag in _SVG_FORBIDDEN:
            raise _invalid("/file", f"the SVG contains <{tag}>: active content is refused", "svg")
        for key, value in element.attrib.items():
            attr = key.rsplit("}", 1)[-1].lower()
            if attr.startswith("on"):
                raise _invalid("/file", f"the SVG has an event handler ({attr}): active content is refused", "svg")
            if attr == "href" and not value.strip().startswith("#"):
                raise _invalid("/file", f"the SVG references {value[:80]!r} outside itself, which is refused", "svg")
            if _external_url(value):
                raise _invalid("/file", "the SVG loads url(...) from outside itself, which is refused", "svg")
        if tag == "style" and _external_url(element.text or ""):
            raise _invalid("/file", "the SVG's style loads url(...) from outside itself, which is refused", "svg")
    width, height = _svg_size(root)
    return Inspected("image/svg+xml", width, height, 1, None)


def _external_url(value: str) -> bool:
    return any(not part.lstrip(" '\"").startswith("#") for part in value.lower().split("url(")[1:])


def _svg_size(root: ElementTree.Element) -> tuple[int | None, int | None]:
    w, h = (_LENGTH.match(root.get(k, "")) for k in ("width", "height"))
    if w and h:
        return round(float(w.group(1))), round(float(h.group(1)))
    box = (root.get("viewBox") or "").replace(",", " ").split()
    try:
        if len(box) == 4:
            return round(float(box[2])), round(float(box[3]))
    except ValueError:
        pass
    return None, None
