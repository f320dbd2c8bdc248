"""The asset tables (on the shared ``metadata``); created by migration ``assets_0001``."""

from __future__ import annotations

import sqlalchemy as sa

from charter.db.tables import JSON, TS, metadata

#: One row per asset: its current version. The bytes live in the asset store under the SHA-256
#: (content addressing), which is unique: uploading the same bytes again finds this row.
assets = sa.Table(
    "assets",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("sha256", sa.String(64), nullable=False, unique=True),
    sa.Column("media_type", sa.String(100), nullable=False),
    sa.Column("bytes", sa.BigInteger, nullable=False),
    sa.Column("width", sa.Integer, nullable=True),
    sa.Column("height", sa.Integer, nullable=True),
    sa.Column("frames", sa.Integer, nullable=False, server_default="1"),
    sa.Column("dominant_color", sa.String(7), nullable=True),
    sa.Column("filename", sa.String(200), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    #: {alt: {locale: text}, decorative, caption: {locale: text}, credit, licence, focal_point: {x, y}}
    sa.Column("meta", JSON, nullable=False),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("created_by", sa.String(200), nullable=False),
    sa.Column("updated_at", TS, nullable=False),
    sa.Column("updated_by", sa.String(200), nullable=False),
    sa.Index("ix_assets_created", "created_at"),
)

#: Every version of every asset (metadata edits make new versions); kept after a delete.
asset_versions = sa.Table(
    "asset_versions",
    metadata,
    sa.Column("asset_id", sa.String(36), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("meta", JSON, nullable=False),
    sa.Column("action", sa.String(20), nullable=False),  # create | update | delete
    sa.Column("at", TS, nullable=False),
    sa.Column("by", sa.String(200), nullable=False),
)
