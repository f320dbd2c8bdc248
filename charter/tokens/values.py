"""Value rules for every DTCG 2025.10 type (Format Module §8-§9, Color Module).

:func:`check` takes a *resolved* value (no aliases left) and returns ``None`` when it is valid or
a message naming the offending sub-value. It is pure Python and cheap: it runs once per literal
token on the build path.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# Color Module: colour spaces and component ranges. ``None`` bounds are open; hue is [0, 360).
_UNIT = (0.0, 1.0)
_PCT = (0.0, 100.0)
_HUE = (0.0, 360.0)
_FREE = (None, None)
COLOR_SPACES: dict[str, tuple[tuple[float | None, float | None], ...]] = {
    "srgb": (_UNIT, _UNIT, _UNIT),
    "srgb-linear": (_UNIT, _UNIT, _UNIT),
    "hsl": (_HUE, _PCT, _PCT),
    "hwb": (_HUE, _PCT, _PCT),
    "lab": (_PCT, _FREE, _FREE),
    "lch": (_PCT, (0.0, None), _HUE),
    "oklab": (_UNIT, _FREE, _FREE),
    "oklch": (_UNIT, (0.0, None), _HUE),
    "display-p3": (_UNIT, _UNIT, _UNIT),
    "a98-rgb": (_UNIT, _UNIT, _UNIT),
    "prophoto-rgb": (_UNIT, _UNIT, _UNIT),
    "rec2020": (_UNIT, _UNIT, _UNIT),
    "xyz-d65": (_UNIT, _UNIT, _UNIT),
    "xyz-d50": (_UNIT, _UNIT, _UNIT),
}
_HUE_INDEX = {"hsl": 0, "hwb": 0, "lch": 2, "oklch": 2}
_COLOR_KEYS = frozenset({"colorSpace", "components", "alpha", "hex"})
DIMENSION_UNITS = ("px", "rem")
DURATION_UNITS = ("ms", "s")
FONT_WEIGHTS = {
    "thin": 100,
    "hairline": 100,
    "extra-light": 200,
    "ultra-light": 200,
    "light": 300,
    "normal": 400,
    "regular": 400,
    "book": 400,
    "medium": 500,
    "semi-bold": 600,
    "demi-bold": 600,
    "bold": 700,
    "extra-bold": 800,
    "ultra-bold": 800,
    "black": 900,
    "heavy": 900,
    "extra-black": 950,
    "ultra-black": 950,
}
STROKE_STYLES = frozenset({"solid", "dashed", "dotted", "double", "groove", "ridge", "outset", "inset"})
LINE_CAPS = frozenset({"round", "butt", "square"})

#: For composite types: sub-value name -> the type it must have (also the type an alias there must
#: point to).
COMPOSITE_FIELDS: dict[str, dict[str, str]] = {
    "border": {"color": "color", "width": "dimension", "style": "strokeStyle"},
    "transition": {"duration": "duration", "delay": "duration", "timingFunction": "cubicBezier"},
    "shadow": {
        "color": "color",
        "offsetX": "dimension",
        "offsetY": "dimension",
        "blur": "dimension",
        "spread": "dimension",
    },
    "gradient": {"color": "color", "position": "number"},
    "typography": {
        "fontFamily": "fontFamily",
        "fontSize": "dimension",
        "fontWeight": "fontWeight",
        "letterSpacing": "dimension",
        "lineHeight": "number",
    },
}


def is_number(v: Any) -> bool:
    return (type(v) is int or type(v) is float) and v == v and v not in (float("inf"), float("-inf"))


def check_color(v: Any) -> str | None:
    if type(v) is not dict:
        if isinstance(v, str):
            return f"colour values are objects with colorSpace and components (DTCG 2025.10), not the string {v!r}"
        return "a colour must be an object with colorSpace and components"
    space = v.get("colorSpace")
    ranges = COLOR_SPACES.get(space) if isinstance(space, str) else None
    if ranges is None:
        return f"unknown colorSpace {space!r} (one of: {', '.join(COLOR_SPACES)})"
    comps = v.get("components")
    if type(comps) is not list or len(comps) != 3:
        return "components must be an array of 3 numbers or 'none'"
    for i, (c, (lo, hi)) in enumerate(zip(comps, ranges, strict=True)):
        if c == "none":
            continue
        if not is_number(c):
            return f"components/{i} must be a number or 'none', not {c!r}"
        if lo is not None and c < lo:
            return f"components/{i} = {c} is below {lo} for {space}"
        if hi is not None and (c >= hi if _HUE_INDEX.get(str(space)) == i else c > hi):
            return f"components/{i} = {c} is out of range for {space}"
    if len(v) > 2:
        extra = v.keys() - _COLOR_KEYS
        if extra:
            return f"unknown colour properties: {', '.join(sorted(extra))}"
        alpha = v.get("alpha", 1)
        if alpha != "none" and (not is_number(alpha) or not 0 <= alpha <= 1):
            return f"alpha must be a number in [0, 1], not {alpha!r}"
        hx = v.get("hex")
        if hx is not None and not _is_hex6(hx):
            return f"hex must be a 6-digit CSS hex colour like '#0066cc', not {hx!r}"
    return None


def _is_hex6(s: Any) -> bool:
    if not isinstance(s, str) or len(s) != 7 or s[0] != "#":
        return False
    try:
        int(s[1:], 16)
    except ValueError:
        return False
    return True


def _check_measure(v: Any, units: tuple[str, ...], what: str) -> str | None:
    if type(v) is not dict:
        return f"a {what} must be an object {{value, unit}}, not {v!r}"
    if not is_number(v.get("value")):
        return f"{what} value must be a number, not {v.get('value')!r}"
    if v.get("unit") not in units:
        return f"{what} unit must be one of {', '.join(units)}, not {v.get('unit')!r}"
    if len(v) != 2:
        return f"unknown {what} properties: {', '.join(sorted(v.keys() - {'value', 'unit'}))}"
    return None


def check_dimension(v: Any) -> str | None:
    return _check_measure(v, DIMENSION_UNITS, "dimension")


def check_duration(v: Any) -> str | None:
    return _check_measure(v, DURATION_UNITS, "duration")


def check_font_family(v: Any) -> str | None:
    if isinstance(v, str) and v:
        return None
    if type(v) is list and v and all(isinstance(x, str) and x for x in v):
        return None
    return "a font family must be a non-empty string or an array of strings"


def check_font_weight(v: Any) -> str | None:
    if is_number(v):
        return None if 1 <= v <= 1000 else f"font weight {v} is outside [1, 1000]"
    if isinstance(v, str) and v in FONT_WEIGHTS:
        return None
    return f"font weight must be a number in [1, 1000] or one of the named weights, not {v!r}"


def check_cubic_bezier(v: Any) -> str | None:
    if type(v) is not list or len(v) != 4 or not all(is_number(x) for x in v):
        return "a cubic Bézier must be an array of 4 numbers"
    if not (0 <= v[0] <= 1 and 0 <= v[2] <= 1):
        return "cubic Bézier x coordinates (P1x, P2x) must be in [0, 1]"
    return None


def check_number(v: Any) -> str | None:
    return None if is_number(v) else f"must be a number, not {v!r}"


def check_stroke_style(v: Any) -> str | None:
    if isinstance(v, str):
        return None if v in STROKE_STYLES else f"unknown stroke style {v!r}"
    if type(v) is not dict:
        return "a stroke style must be a keyword or an object {dashArray, lineCap}"
    if set(v) != {"dashArray", "lineCap"}:
        return "a stroke style object needs exactly dashArray and lineCap"
    if v["lineCap"] not in LINE_CAPS:
        return f"lineCap must be round, butt or square, not {v['lineCap']!r}"
    dashes = v["dashArray"]
    if type(dashes) is not list or not dashes:
        return "dashArray must be a non-empty array of dimensions"
    for i, d in enumerate(dashes):
        err = check_dimension(d)
        if err:
            return f"dashArray/{i}: {err}"
    return None


Checks = dict[str, Callable[[Any], "str | None"]]


def _check_fields(v: Any, kind: str, optional: tuple[str, ...] = (), checks: Checks | None = None) -> str | None:
    checks = CHECKS if checks is None else checks
    fields = COMPOSITE_FIELDS[kind]
    if type(v) is not dict:
        return f"a {kind} value must be an object with {', '.join(fields)}"
    missing = [f for f in fields if f not in v]
    if missing:
        return f"{kind} is missing {', '.join(missing)}"
    extra = v.keys() - fields.keys() - set(optional)
    if extra:
        return f"unknown {kind} properties: {', '.join(sorted(extra))}"
    for name, sub_type in fields.items():
        err = checks[sub_type](v[name])
        if err:
            return f"{name}: {err}"
    return None


def check_border(v: Any, checks: Checks | None = None) -> str | None:
    return _check_fields(v, "border", checks=checks)


def check_transition(v: Any, checks: Checks | None = None) -> str | None:
    return _check_fields(v, "transition", checks=checks)


def check_typography(v: Any, checks: Checks | None = None) -> str | None:
    return _check_fields(v, "typography", checks=checks)


def check_shadow(v: Any, checks: Checks | None = None) -> str | None:
    layers = v if type(v) is list else [v]
    if not layers:
        return "a shadow array must not be empty"
    for i, layer in enumerate(layers):
        err = _check_fields(layer, "shadow", optional=("inset",), checks=checks)
        if err is None and "inset" in layer and type(layer["inset"]) is not bool:
            err = "inset must be true or false"
        if err:
            return f"{i}: {err}" if type(v) is list else err
    return None


def check_gradient(v: Any, checks: Checks | None = None) -> str | None:
    if type(v) is not list or not v:
        return "a gradient must be a non-empty array of stops {color, position}"
    for i, stop in enumerate(v):
        err = _check_fields(stop, "gradient", checks=checks)
        if err:
            return f"{i}: {err}"
    return None


CHECKS: Checks = {
    "color": check_color,
    "dimension": check_dimension,
    "duration": check_duration,
    "fontFamily": check_font_family,
    "fontWeight": check_font_weight,
    "cubicBezier": check_cubic_bezier,
    "number": check_number,
    "strokeStyle": check_stroke_style,
    "border": check_border,
    "transition": check_transition,
    "shadow": check_shadow,
    "gradient": check_gradient,
    "typography": check_typography,
}


def check(type_: str, value: Any) -> str | None:
    """``None`` if ``value`` (resolved) is a valid ``type_`` value, else what is wrong."""
    return CHECKS[type_](value)
