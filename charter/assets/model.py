"""An asset as Charter's code sees it, and the metadata an editor writes about it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, Field

LOCALE = r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$"
NO_NUL = r"^[^\x00]*$"


class FocalPoint(BaseModel):
    """Where the subject is, as fractions of the width and height from the top left (0..1):
    crops keep it in frame."""

    model_config = ConfigDict(extra="forbid")

    x: float = Field(ge=0.0, le=1.0)
    y: float = Field(ge=0.0, le=1.0)


class AssetMeta(BaseModel):
    """What an editor says about an asset. ``alt`` is required (in some locale) unless the image
    is ``decorative`` (WCAG 2.2 SC 1.1.1: a decorative image gets an empty ``alt``)."""

    model_config = ConfigDict(extra="forbid")

    alt: dict[str, str] = Field(
        default_factory=dict,
        description="Alternative text per locale.",
        examples=[{"en": "A lighthouse at dusk", "de": "Ein Leuchtturm in der Abenddämmerung"}],
    )
    decorative: bool = Field(default=False, description="Purely decorative: served with an empty alt.")
    caption: dict[str, str] = Field(default_factory=dict, description="Caption per locale.")
    credit: str | None = Field(default=None, max_length=500, pattern=NO_NUL)
    licence: str | None = Field(default=None, max_length=500, pattern=NO_NUL, examples=["CC-BY-4.0"])
    focal_point: FocalPoint | None = None

    def problems(self) -> list[tuple[str, str]]:
        """(pointer, message) for locale keys and texts pydantic's field types cannot say."""
        out = []
        for field in ("alt", "caption"):
            for locale, text in getattr(self, field).items():
                if not re.match(LOCALE, locale):
                    out.append((f"/{field}/{locale}", f"{locale!r} is not a locale code"))
                if len(text) > 2000 or "\x00" in text:
                    out.append((f"/{field}/{locale}", "at most 2000 characters, no NUL"))
        return out

    def has_alt(self) -> bool:
        return any(text.strip() for text in self.alt.values())


def url_name(filename: str) -> str:
    """The file name as it appears in delivery URLs: safe characters only."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", filename).strip("-.") or "file"
    return stem[:120]


@dataclass(frozen=True)
class Asset:
    id: str
    sha256: str
    media_type: str
    bytes: int
    width: int | None
    height: int | None
    frames: int
    dominant_color: str | None
    filename: str
    version: int
    meta: dict[str, Any]
    created_at: datetime
    created_by: str
    updated_at: datetime
    updated_by: str

    @classmethod
    def from_row(cls, row: Any) -> Asset:
        return cls(
            row.id,
            row.sha256,
            row.media_type,
            int(row.bytes),
            row.width,
            row.height,
            int(row.frames),
            row.dominant_color,
            row.filename,
            int(row.version),
            dict(row.meta),
            row.created_at,
            row.created_by,
            row.updated_at,
            row.updated_by,
        )

    @property
    def etag(self) -> str:
        return f'"{self.id}-v{self.version}"'

    @property
    def is_image(self) -> bool:
        return self.media_type.startswith("image/")

    @property
    def is_raster(self) -> bool:
        return self.is_image and self.media_type != "image/svg+xml"

    @property
    def path(self) -> str:
        """The delivery path of the original."""
        return f"/v1/assets/{self.id}/{quote(url_name(self.filename))}"

    def alt_for(self, locale: str | None) -> str | None:
        """The alt text for ``locale`` (falling back to any locale's), ``""`` when decorative."""
        if self.meta.get("decorative"):
            return ""
        alt: dict[str, str] = self.meta.get("alt") or {}
        if locale and alt.get(locale):
            return alt[locale]
        return next((text for text in alt.values() if text), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "sha256": self.sha256,
            "media_type": self.media_type,
            "bytes": self.bytes,
            "width": self.width,
            "height": self.height,
            "frames": self.frames,
            "dominant_color": self.dominant_color,
            "filename": self.filename,
            "version": self.version,
            "metadata": self.meta,
            "url": self.path,
            "created_at": self.created_at.isoformat(),
            "created_by": self.created_by,
            "updated_at": self.updated_at.isoformat(),
            "updated_by": self.updated_by,
        }
