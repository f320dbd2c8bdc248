"""Asset references in content types: a string field marked ``"x-charter-asset"`` holds a media
asset's id, and the keyword's value states what the asset must be::

    "hero_image": {
      "type": "string",
      "x-charter-asset": {
        "media_types": ["image/jpeg", "image/png", "image/webp", "image/avif"],
        "min_width": 1200, "max_width": 6000, "min_height": 600, "max_height": 4000,
        "max_bytes": 5000000,
        "alt_required": true
      }
    }

Every key is optional; ``true`` or ``{}`` accepts any asset with alt text. ``alt_required``
defaults to true: a field relaxes it for images that are decorative in its place. The content
domain checks references on every write (:mod:`charter.assets.references`); the schema differ
reads a tightened constraint as a breaking change (:func:`narrowed`).
"""

from __future__ import annotations

from typing import Any

KEYWORD = "x-charter-asset"
INT_KEYS = ("min_width", "max_width", "min_height", "max_height", "max_bytes")
KEYS = frozenset({"media_types", "alt_required", *INT_KEYS})


def constraint_problems(value: Any) -> list[tuple[str, str]]:
    """(key, message) for every way ``value`` is not a valid ``x-charter-asset`` value."""
    if value is True:
        return []
    if not isinstance(value, dict):
        return [("", "x-charter-asset must be true or an object of constraints")]
    out = [
        (key, f"unknown asset constraint {key!r}; known: {', '.join(sorted(KEYS))}") for key in value if key not in KEYS
    ]
    for key in INT_KEYS:
        if key in value and (not isinstance(value[key], int) or isinstance(value[key], bool) or value[key] < 0):
            out.append((key, f"{key} must be a non-negative integer"))
    for low, high in (("min_width", "max_width"), ("min_height", "max_height")):
        if isinstance(value.get(low), int) and isinstance(value.get(high), int) and value[low] > value[high]:
            out.append((low, f"{low} is larger than {high}"))
    types = value.get("media_types")
    if types is not None and (
        not isinstance(types, list) or not types or not all(isinstance(t, str) and "/" in t for t in types)
    ):
        out.append(("media_types", "media_types must be a non-empty list of media types such as 'image/png'"))
    if "alt_required" in value and not isinstance(value["alt_required"], bool):
        out.append(("alt_required", "alt_required must be true or false"))
    return out


def as_constraints(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def narrowed(old: Any, new: Any) -> list[str]:
    """How ``new`` accepts fewer assets than ``old`` (each a sentence); empty when it accepts as many."""
    a, b = as_constraints(old), as_constraints(new)
    out = []
    for key in ("min_width", "min_height"):
        if b.get(key, 0) > a.get(key, 0):
            out.append(f"{key} raised from {a.get(key, 0)} to {b[key]}")
    for key in ("max_width", "max_height", "max_bytes"):
        if key in b and (key not in a or b[key] < a[key]):
            out.append(f"{key} lowered from {a.get(key, 'unbounded')} to {b[key]}")
    if "media_types" in b and ("media_types" not in a or set(a["media_types"]) - set(b["media_types"])):
        out.append(f"media_types narrowed to {b['media_types']}")
    if b.get("alt_required", True) and not a.get("alt_required", True):
        out.append("alt text became required")
    return out
