"""Small test images made on the spot (Pillow), and hostile files built byte by byte."""

from __future__ import annotations

import io
import struct
import zlib


def image_bytes(
    fmt: str = "JPEG", size: tuple[int, int] = (640, 480), color: tuple[int, int, int] = (200, 30, 30)
) -> bytes:
    from PIL import Image

    img = Image.new("RGB", size, color)
    # a second colour in one corner, so the dominant colour is a real choice
    img.paste((10, 10, 200), (0, 0, size[0] // 4, size[1] // 4))
    out = io.BytesIO()
    img.save(out, fmt)
    return out.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_bomb(width: int = 30_000, height: int = 30_000) -> bytes:
    """A PNG whose header claims ``width`` x ``height`` with a few bytes of data: decoding it would
    take gigabytes."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1024)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")
