"""DTCG colour objects -> CSS strings, and -> coloraide ``Color`` for conversions and contrast.

``css_color`` has a pure-Python fast path for sRGB (``#rrggbb``, or ``rgba(r, g, b, a)`` when
translucent — the same strings Style Dictionary's ``color/css`` transform writes). Other colour
spaces are written as CSS Color 4 functions (``oklch(…)``, ``color(display-p3 …)``) so wide-gamut
colours survive, unless ``mode="hex"`` asks for sRGB everywhere; that path, and every contrast
computation, uses coloraide, imported only when needed (it costs ~70 ms to import).
"""

from __future__ import annotations

from typing import Any

# DTCG colorSpace -> CSS Color 4 syntax ("fn" = named function, else color(<space> …)).
_CSS_FUNCTION = {"hsl": "hsl", "hwb": "hwb", "lab": "lab", "lch": "lch", "oklab": "oklab", "oklch": "oklch"}
_PERCENT_COMPONENTS = {"hsl": (1, 2), "hwb": (1, 2)}
# DTCG colorSpace -> coloraide space id; HSL/HWB percentages become fractions there.
_CORAIDE_SPACE = {
    "srgb": "srgb",
    "srgb-linear": "srgb-linear",
    "hsl": "hsl",
    "hwb": "hwb",
    "lab": "lab",
    "lch": "lch",
    "oklab": "oklab",
    "oklch": "oklch",
    "display-p3": "display-p3",
    "a98-rgb": "a98-rgb",
    "prophoto-rgb": "prophoto-rgb",
    "rec2020": "rec2020",
    "xyz-d65": "xyz-d65",
    "xyz-d50": "xyz-d50",
}


def fmt_num(x: float | int) -> str:
    """Numbers as JavaScript prints them (``2.0`` -> ``2``, ``1e-07`` -> ``1e-7``)."""
    if isinstance(x, int):
        return str(x)
    if x.is_integer() and abs(x) < 1e21:
        return str(int(x))
    text = repr(x)
    if "e" in text:
        mant, exp = text.split("e")
        sign = "-" if exp.startswith("-") else "+"
        text = f"{mant}e{sign}{exp.lstrip('+-').lstrip('0') or '0'}"
    return text


def css_color(value: dict[str, Any], mode: str = "auto") -> str:
    """A CSS colour string for a (valid) DTCG colour object."""
    space = value["colorSpace"]
    comps = value["components"]
    alpha = value.get("alpha", 1)
    if space == "srgb" and "none" not in comps:
        # JavaScript's Math.round(clamp(c) * 255), inlined: this runs once per colour token.
        c0, c1, c2 = comps
        r = int((0.0 if c0 < 0 else 1.0 if c0 > 1 else c0) * 255 + 0.5)
        g = int((0.0 if c1 < 0 else 1.0 if c1 > 1 else c1) * 255 + 0.5)
        b = int((0.0 if c2 < 0 else 1.0 if c2 > 1 else c2) * 255 + 0.5)
        if alpha == 1:
            return f"#{r:02x}{g:02x}{b:02x}"
        return f"rgba({r}, {g}, {b}, {fmt_num(alpha)})"
    if mode == "hex":
        return srgb_string(value)
    parts = []
    pct = _PERCENT_COMPONENTS.get(space, ())
    for i, c in enumerate(comps):
        parts.append("none" if c == "none" else fmt_num(c) + ("%" if i in pct else ""))
    body = " ".join(parts)
    if alpha != 1:
        body += " / " + ("none" if alpha == "none" else fmt_num(alpha))
    fn = _CSS_FUNCTION.get(space)
    return f"{fn}({body})" if fn else f"color({space} {body})"


def to_color(value: dict[str, Any]) -> Any:
    """A coloraide ``Color`` for a DTCG colour object (``none`` -> NaN, as CSS Color 4 says)."""
    from coloraide import Color

    space = value["colorSpace"]
    coords = [float("nan") if c == "none" else float(c) for c in value["components"]]
    if space in _PERCENT_COMPONENTS:
        coords = [c / 100 if i in _PERCENT_COMPONENTS[space] else c for i, c in enumerate(coords)]
    alpha = value.get("alpha", 1)
    return Color(_CORAIDE_SPACE[space], coords, float("nan") if alpha == "none" else float(alpha))


def _hsl(h: float, s: float, lum: float) -> list[float]:
    """CSS Color 4 §7.1 hslToRgb (``s``, ``lum`` in [0, 1])."""
    h %= 360
    a = s * min(lum, 1 - lum)
    return [lum - a * max(-1.0, min((n + h / 30) % 12 - 3, 9 - (n + h / 30) % 12, 1.0)) for n in (0, 8, 4)]


def direct_srgb(value: dict[str, Any]) -> list[float] | None:
    """sRGB components of an ``hsl`` / ``hwb`` colour without ``none`` (CSS Color 4 §7.1, §8.1), which
    is always inside sRGB; ``None`` for other spaces. Spares the colour library's import (a large
    share of a whole build) for the systems that write their palettes in HSL."""
    space, comps = value["colorSpace"], value["components"]
    if "none" in comps:
        return None
    if space == "hsl":
        return _hsl(comps[0], comps[1] / 100, comps[2] / 100)
    if space == "hwb":
        w, b = comps[1] / 100, comps[2] / 100
        if w + b >= 1:
            return [w / (w + b)] * 3
        return [c * (1 - w - b) + w for c in _hsl(comps[0], 1, 0.5)]
    return None


def srgb_string(value: dict[str, Any]) -> str:
    """sRGB ``#rrggbb`` / ``rgba()``; out-of-gamut colours are gamut-mapped (CSS Color 4 method)."""
    direct = direct_srgb(value)
    if direct is not None:
        out: dict[str, Any] = {"colorSpace": "srgb", "components": direct}
        alpha = value.get("alpha", 1)
        if alpha != 1 and alpha != "none":
            out["alpha"] = round(alpha, 4)
        return css_color(out)
    color = to_color(value).convert("srgb")
    if not color.in_gamut("srgb"):
        color = color.fit("srgb")
    coords = [0.0 if c != c else c for c in color.coords()]
    alpha = color.alpha()
    out = {"colorSpace": "srgb", "components": coords}
    if alpha == alpha and alpha != 1:
        out["alpha"] = round(alpha, 4)
    return css_color(out)
