"""The storage contract every asset store implements (``register_asset_stores``).

Keys are Charter's own (``blobs/ab/abcdef…``: the SHA-256 of the bytes), never a user's file
name, so nothing a user sends becomes a path. A store must make :meth:`AssetStore.put` atomic:
a reader sees the whole object or nothing, and a failed put leaves nothing behind. Putting the
same key twice with the same bytes is harmless (content addressing: concurrent uploads of one
file write the same object).
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol


class AssetStore(Protocol):
    """Where the original bytes of assets live."""

    #: The name it is registered under (``local``, ``s3``).
    name: str

    def put(self, key: str, data: bytes, media_type: str) -> None:
        """Store ``data`` under ``key`` atomically."""

    def get(self, key: str) -> bytes:
        """The bytes under ``key``; :class:`KeyError` when there are none."""

    def delete(self, key: str) -> None:
        """Remove ``key``; no error when it is already gone."""

    def exists(self, key: str) -> bool:
        """Is there an object under ``key``?"""

    def local_path(self, key: str) -> Path | None:
        """A file holding the object when the store is a local folder (served with sendfile), else None."""


def blob_key(sha256: str) -> str:
    """The key of the bytes whose SHA-256 (hex) is ``sha256``."""
    return f"blobs/{sha256[:2]}/{sha256}"
