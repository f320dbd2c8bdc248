"""The seed's short form: plain values stand for tokens, types come from the value and the group.

    { "base": { "space": {"0": 0, "1": 4}, "radius": {"sm": 6},
                "color": {"neutral": {"0": "#ffffff", "900": "#111827"}} },
      "semantic": { "surface": {"default": "{base.color.neutral.0}"} } }

A document is in short form when no object in it has a ``$value``. :func:`to_dtcg` rewrites it
as a DTCG 2025.10 document, so everything downstream sees one format. Inference rules (the DTCG
format itself forbids guessing types, so this is the only place that does):

* ``"{a.b}"``: an alias; its type comes from the target.
* ``"#rgb"``, ``"#rrggbb"``, ``"#rrggbbaa"``: an sRGB colour.
* ``"12px"``, ``"1.5rem"``: a dimension; ``"200ms"``, ``"0.2s"``: a duration.
* a number: a dimension in px when a group on its path is a spacing/size/radius/width group
  (``space``, ``spacing``, ``size``, ``radius``, ``radii``, ``width``, ``gap``, ``font-size``…);
  a font weight under ``weight``/``fontWeight``; a duration in ms under ``duration``; else a number.
* a list of strings, or a string under ``font``/``family``: a font family; a weight name under a
  weight group: a font weight.

Anything else is an error that asks for the DTCG form (``$value`` + ``$type``).
"""

from __future__ import annotations

import re
from typing import Any

from charter.tokens.model import MAX_DEPTH, Problems, pointer_of, too_deep
from charter.tokens.values import FONT_WEIGHTS

_DIMENSION_GROUPS = frozenset(
    {
        "space",
        "spacing",
        "size",
        "sizes",
        "sizing",
        "radius",
        "radii",
        "width",
        "widths",
        "border-width",
        "borderwidth",
        "gap",
        "inset",
        "font-size",
        "fontsize",
        "letter-spacing",
        "letterspacing",
        "offset",
        "blur",
        "breakpoint",
        "breakpoints",
    }
)
_WEIGHT_GROUPS = frozenset({"weight", "weights", "font-weight", "fontweight"})
_DURATION_GROUPS = frozenset({"duration", "durations", "motion"})
_FONT_GROUPS = frozenset({"font", "fonts", "family", "font-family", "fontfamily"})
_HEX = re.compile(r"^#([0-9a-fA-F]{3,4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})$")
_MEASURE = re.compile(r"^(-?\d+(?:\.\d+)?)(px|rem|ms|s)$")


def is_short_form(doc: Any) -> bool:
    """True when no object in ``doc`` carries ``$value`` (and it is not a resolver document)."""
    if type(doc) is not dict or "resolutionOrder" in doc:
        return False
    stack: list[Any] = [doc]
    while stack:
        node = stack.pop()
        if type(node) is dict:
            if "$value" in node:
                return False
            stack.extend(v for v in node.values() if type(v) is dict)
    return True


def hex_to_color(text: str) -> dict[str, Any]:
    h = text[1:]
    if len(h) in (3, 4):
        h = "".join(c * 2 for c in h)
    comps = [round(int(h[i : i + 2], 16) / 255, 4) for i in (0, 2, 4)]
    out: dict[str, Any] = {"colorSpace": "srgb", "components": comps}
    if len(h) == 8:
        out["alpha"] = round(int(h[6:8], 16) / 255, 4)
    out["hex"] = "#" + h[:6].lower()
    return out


def _number(text: str) -> int | float:
    f = float(text)
    return int(f) if f.is_integer() and "." not in text else f


def _infer(value: Any, parts: list[str]) -> tuple[str | None, Any] | str:
    """``(type or None for aliases, DTCG value)`` or an error message."""
    groups = {p.lower() for p in parts[:-1]}
    if isinstance(value, bool) or value is None:
        return f"cannot infer a token type from {value!r}; use the DTCG form with $value and $type"
    if isinstance(value, int | float):
        if groups & _WEIGHT_GROUPS:
            return "fontWeight", value
        if groups & _DURATION_GROUPS:
            return "duration", {"value": value, "unit": "ms"}
        if groups & _DIMENSION_GROUPS:
            return "dimension", {"value": value, "unit": "px"}
        return "number", value
    if isinstance(value, str):
        if value.startswith("{") and value.endswith("}"):
            return None, value
        if _HEX.match(value):
            return "color", hex_to_color(value)
        m = _MEASURE.match(value)
        if m:
            unit = m.group(2)
            kind = "duration" if unit in ("ms", "s") else "dimension"
            return kind, {"value": _number(m.group(1)), "unit": unit}
        if groups & _WEIGHT_GROUPS and value in FONT_WEIGHTS:
            return "fontWeight", value
        if groups & _FONT_GROUPS:
            return "fontFamily", value
        return (
            f"cannot infer a token type from {value!r} (short form knows hex colours, px/rem/ms/s "
            "measures, numbers and font names); use the DTCG form with $value and $type"
        )
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return "fontFamily", value
    return f"cannot infer a token type from {value!r}; use the DTCG form with $value and $type"


def to_dtcg(doc: dict[str, Any], file: str | None, problems: Problems) -> dict[str, Any]:
    """Rewrite a short-form document as DTCG; problems are collected with their pointers."""

    def convert(node: dict[str, Any], parts: list[str]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if len(parts) > MAX_DEPTH:
            problems.add(file, pointer_of(parts), f"{'.'.join(parts)}: {too_deep()}", "depth")
            return out
        for key, value in node.items():
            if key.startswith("$"):
                out[key] = value
                continue
            here = [*parts, key]
            if type(value) is dict:
                out[key] = convert(value, here)
                continue
            inferred = _infer(value, here)
            if isinstance(inferred, str):
                problems.add(file, pointer_of(here), f"{'.'.join(here)}: {inferred}", "type")
                continue
            type_, dtcg = inferred
            out[key] = {"$value": dtcg} if type_ is None else {"$type": type_, "$value": dtcg}
        return out

    return convert(doc, [])
