"""Resolved DTCG values -> CSS value strings (shared by the CSS, SCSS, JS and flat-JSON formats).

Conventions (chosen to match what Style Dictionary's ``css`` transform group writes where it has
one): colours via :func:`charter.tokens.colors.css_color`; dimensions and durations as
``<value><unit>``; font families quoted unless they are one CSS identifier (``'Comic Sans MS'``,
``'O\\'Brien Sans'``) and joined with ``, ``; named font weights as numbers; cubic Béziers as
``cubic-bezier(…)``; shadows as
``[inset] x y blur spread color`` joined with ``, ``; borders as ``width style color`` (an object
stroke style falls back to ``dashed``, as DTCG §9.3.3 suggests); transitions as
``duration timing-function delay``; typography as the ``font`` shorthand
``weight size/line-height family`` (``letterSpacing``, which the shorthand cannot carry, is a
value of its own: :func:`letter_spacing`); gradients as ``linear-gradient(color pos%, …)`` (DTCG has no
gradient kind; positions are clamped to [0, 1], §9.7).
"""

from __future__ import annotations

import re
from typing import Any

from charter.tokens.colors import css_color, fmt_num
from charter.tokens.naming import css_name, css_string
from charter.tokens.values import FONT_WEIGHTS

__all__ = ["css_name", "css_value", "font_family", "font_weight", "measure", "stroke_style"]


def measure(v: dict[str, Any]) -> str:
    return fmt_num(v["value"]) + v["unit"]


# A family name written without quotes must be a run of CSS identifiers (CSS Fonts 4 §2.1.1).
_BARE_FAMILY = re.compile(r"-?[A-Za-z_][A-Za-z0-9_-]*")
_SAFE_QUOTED = re.compile("'[^'\\\\\n\r\f]*'|\"[^\"\\\\\n\r\f]*\"")


def font_family(v: Any) -> str:
    """A ``font-family`` list. A name that is one CSS identifier (``Inter``, ``sans-serif``) stays
    bare; any other is quoted with its quotes and backslashes escaped (``'O\\'Brien Sans'``); a
    name already written as a plain quoted string is kept."""
    names = [v] if isinstance(v, str) else v
    out = []
    for n in names:
        n = n.strip()
        if _BARE_FAMILY.fullmatch(n) or _SAFE_QUOTED.fullmatch(n):
            out.append(n)
        else:
            out.append(css_string(n))
    return ", ".join(out)


def font_weight(v: Any) -> str:
    return fmt_num(FONT_WEIGHTS[v]) if isinstance(v, str) else fmt_num(v)


def stroke_style(v: Any) -> str:
    return v if isinstance(v, str) else "dashed"


def _shadow(layer: dict[str, Any], color_mode: str) -> str:
    inset = "inset " if layer.get("inset") else ""
    return (
        f"{inset}{measure(layer['offsetX'])} {measure(layer['offsetY'])} {measure(layer['blur'])} "
        f"{measure(layer['spread'])} {css_color(layer['color'], color_mode)}"
    )


def css_value(type_: str, v: Any, color_mode: str = "auto") -> str:
    """The CSS text for a resolved value of ``type_``."""
    if type_ == "color":
        return css_color(v, color_mode)
    if type_ in ("dimension", "duration"):
        return measure(v)
    if type_ == "number":
        return fmt_num(v)
    if type_ == "fontWeight":
        return font_weight(v)
    if type_ == "fontFamily":
        return font_family(v)
    if type_ == "cubicBezier":
        return "cubic-bezier(" + ", ".join(fmt_num(x) for x in v) + ")"
    if type_ == "strokeStyle":
        return stroke_style(v)
    if type_ == "shadow":
        layers = v if isinstance(v, list) else [v]
        return ", ".join(_shadow(layer, color_mode) for layer in layers)
    if type_ == "border":
        return f"{measure(v['width'])} {stroke_style(v['style'])} {css_color(v['color'], color_mode)}"
    if type_ == "transition":
        return f"{measure(v['duration'])} {css_value('cubicBezier', v['timingFunction'])} {measure(v['delay'])}"
    if type_ == "typography":
        # ``lineHeight`` is required by 2025.10; only ``--compat`` lets a value without it through.
        lh = f"/{fmt_num(v['lineHeight'])}" if "lineHeight" in v else ""
        return f"{font_weight(v['fontWeight'])} {measure(v['fontSize'])}{lh} {font_family(v['fontFamily'])}"
    if type_ == "gradient":
        stops = ", ".join(
            f"{css_color(s['color'], color_mode)} {fmt_num(round(min(max(s['position'], 0), 1) * 100, 4))}%" for s in v
        )
        return f"linear-gradient({stops})"
    raise ValueError(f"no CSS form for type {type_!r}")


def letter_spacing(v: dict[str, Any]) -> str:
    """The ``letter-spacing`` of a typography value (formats write it as a variable of its own)."""
    return measure(v["letterSpacing"])
