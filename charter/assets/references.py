"""Asset references in content, checked on every write and resolved for delivery.

:func:`reference_errors` is what the content domain's validation calls: every
``x-charter-asset`` field must name an existing asset that meets the field's constraints
(:mod:`charter.schemas.assets`). :func:`delivered` is what the delivery envelope carries for each
referenced image: its ``src``, ``srcset``, dimensions, alt text in the entry's locale, dominant
colour and focal point.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from charter.assets.model import Asset
from charter.assets.settings import AssetSettings
from charter.assets.tables import assets
from charter.exceptions import ErrorDetail
from charter.schemas.assets import KEYWORD, as_constraints
from charter.schemas.references import find_asset_references


def referenced(schema: dict[str, Any], data: dict[str, Any]) -> list[tuple[str, str, dict[str, Any], str]]:
    """(locale, pointer, constraints, asset id) for every asset reference of a ``{locale: doc}``."""
    return [
        (loc, ptr, constraints, ref)
        for loc, doc in data.items()
        if isinstance(doc, dict)
        for ptr, constraints, ref in find_asset_references(schema, doc)
    ]


def load(conn: sa.Connection, ids: list[str]) -> dict[str, Asset]:
    if not ids:
        return {}
    return {r.id: Asset.from_row(r) for r in conn.execute(sa.select(assets).where(assets.c.id.in_(sorted(set(ids)))))}


def violations(asset: Asset, constraints: dict[str, Any], locale: str | None) -> list[str]:
    """How ``asset`` fails the field's constraints (empty when it meets them)."""
    out = []
    types = constraints.get("media_types")
    if types and asset.media_type not in types:
        out.append(f"is {asset.media_type}, not one of {', '.join(types)}")
    for key, actual in (("width", asset.width), ("height", asset.height)):
        low, high = constraints.get(f"min_{key}"), constraints.get(f"max_{key}")
        if (low is not None or high is not None) and actual is None:
            out.append(f"has no known {key}")
        elif low is not None and actual is not None and actual < low:
            out.append(f"is {actual} px in {key}, less than min_{key} {low}")
        elif high is not None and actual is not None and actual > high:
            out.append(f"is {actual} px in {key}, more than max_{key} {high}")
    if constraints.get("max_bytes") is not None and asset.bytes > constraints["max_bytes"]:
        out.append(f"is {asset.bytes} bytes, more than max_bytes {constraints['max_bytes']}")
    if constraints.get("alt_required", True) and not asset.alt_for(locale):
        out.append("has no alt text (this field requires it: alt_required)")
    return out


def reference_errors(conn: sa.Connection, schema: dict[str, Any], data: dict[str, Any]) -> list[ErrorDetail]:
    """Every asset reference of ``data`` that names no asset or one that fails its constraints."""
    refs = referenced(schema, data)
    if not refs:
        return []
    found = load(conn, [ref for *_rest, ref in refs])
    errors = []
    for loc, ptr, constraints, ref in refs:
        asset = found.get(ref)
        if asset is None:
            errors.append(ErrorDetail(f"/{loc}{ptr}", f"asset {ref!r} does not exist", KEYWORD))
            continue
        for problem in violations(asset, as_constraints(constraints), loc):
            errors.append(ErrorDetail(f"/{loc}{ptr}", f"asset {ref} {problem}", KEYWORD))
    return errors


def delivered(
    asset: Asset, locale: str | None, config: AssetSettings, secret: str, *, format: str = "webp"
) -> dict[str, Any]:
    """What a front end needs to render a referenced asset responsively."""
    from charter.assets.transforms import Transform, transform_url

    out: dict[str, Any] = {
        "id": asset.id,
        "media_type": asset.media_type,
        "src": f"{asset.path}?v={asset.version}",
        "width": asset.width,
        "height": asset.height,
        "alt": asset.alt_for(locale),
        "dominant_color": asset.dominant_color,
        "focal_point": asset.meta.get("focal_point"),
        "srcset": None,
    }
    if asset.is_raster and asset.width:
        widths = [w for w in config.sizes if w < asset.width]
        ladder = [(w, transform_url(asset, Transform(w=w, fm=format), config=config, secret=secret)) for w in widths]
        ladder.append((asset.width, transform_url(asset, Transform(w=asset.width, fm=format), config=config,
                                                  secret=secret)))  # fmt: skip
        out["srcset"] = ", ".join(f"{url} {w}w" for w, url in ladder)
    return out
