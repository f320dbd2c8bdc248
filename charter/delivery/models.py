"""Response models of the delivery API (they document the OpenAPI contract)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class SchemaRef(BaseModel):
    id: str = Field(examples=["page.v1"])
    version: str = Field(examples=["1.3.0"])


class LocaleInfo(BaseModel):
    requested: str = Field(examples=["de-AT"])
    resolved: str = Field(examples=["de-DE"])


class IncludedEntry(BaseModel):
    id: str
    type: str
    schema_: SchemaRef = Field(alias="schema")
    locale: LocaleInfo
    revision: int
    published_at: str | None
    data: dict[str, Any]


class DeliveredAsset(BaseModel):
    """A media asset ``data`` references (``x-charter-asset``), ready for an ``<img>``."""

    id: str
    media_type: str = Field(examples=["image/jpeg"])
    src: str = Field(description="The original, at its current version (immutable caching).")
    srcset: str | None = Field(description="WebP widths from the configured ladder; None for SVG.")
    width: int | None
    height: int | None
    alt: str | None = Field(description="In the entry's locale (any locale's as a fallback); '' when decorative.")
    dominant_color: str | None = Field(description="#rrggbb: a placeholder colour while the image loads.")
    focal_point: dict[str, float] | None


class Envelope(IncludedEntry):
    included: list[IncludedEntry] = Field(default_factory=list, description="Published entries referenced by data.")
    assets: dict[str, DeliveredAsset] = Field(
        default_factory=dict, description="The media assets data references, by id (present when there are any)."
    )


class EnvelopeList(BaseModel):
    items: list[Envelope]
    next_cursor: str | None
    limit: int
