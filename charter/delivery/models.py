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


class Envelope(IncludedEntry):
    included: list[IncludedEntry] = Field(default_factory=list, description="Published entries referenced by data.")


class EnvelopeList(BaseModel):
    items: list[Envelope]
    next_cursor: str | None
    limit: int
