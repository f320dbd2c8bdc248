"""Resolved DTCG values -> CSS value strings (shared by the CSS, SCSS, JS and flat-JSON formats).

Conventions (chosen to match what Style Dictionary's ``css`` transform group writes where it has
one): colours via :func:`charter.tokens.colors.css_color`; dimensions and durations as
``<value><unit>``; font families quoted when they contain spaces (``'Comic Sans MS'``) and joined
with ``, ``; named font weights as numbers; cubic Béziers as ``cubic-bezier(…)``; shadows as
``[inset] x y blur spread color`` joined with ``, ``; borders as ``width style color`` (an object
stroke style falls back to ``dashed``, as DTCG §9.3.3 suggests); transitions as
``duration timing-function delay``; typography as the ``font`` shorthand
``weight size/line-height family``; gradients as ``linear-gradient(color pos%, …)`` (DTCG has no
gradient kind; positions are clamped to [0, 1], §9.7).
"""

from __future__ import annotations

import re
from typing import Any

from charter.tokens.colors import css_color, fmt_num
from charter.tokens.values import FONT_WEIGHTS

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|[\s_]+")


_KEBAB: dict[str, str] = {}


def _kebab(part: str) -> str:
    out = _KEBAB.get(part)
    if out is None:
        # Most names (``t12``, ``500``, ``surface``) are already kebab case: skip the regex.
        plain = part.isalnum() and (part.islower() or part.isdigit())
        out = _KEBAB[part] = part if plain else _CAMEL.sub("-", part).lower()
    return out


_GROUPS: dict[str, str] = {}


def _group_name(group: str) -> str:
    out = _GROUPS.get(group)
    if out is None:
        out = _GROUPS[group] = "-".join([_kebab(p) for p in group.split(".") if p != "$root"])
    return out


def css_name(path: str, prefix: str = "") -> str:
    """``color.textDefault.$root`` -> ``color-text-default`` (kebab case; ``$root`` dropped)."""
    # Group paths repeat across thousands of tokens (and every theme): memoise them.
    group, _, last = path.rpartition(".")
    head = _group_name(group) if group else ""
    tail = "" if last == "$root" else _kebab(last)
    name = f"{head}-{tail}" if head and tail else head or tail
    if "--" in name or name[:1] == "-" or name[-1:] == "-":
        name = re.sub(r"-+", "-", name).strip("-")
    return f"{prefix}-{name}" if prefix else name


def measure(v: dict[str, Any]) -> str:
    return fmt_num(v["value"]) + v["unit"]


def font_family(v: Any) -> str:
    names = [v] if isinstance(v, str) else v
    out = []
    for n in names:
        n = n.strip()
        quoted = n[:1] in ("'", '"') and n[-1:] == n[:1]
        out.append(f"'{n}'" if not quoted and re.search(r"\s", n) else n)
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
        return (
            f"{font_weight(v['fontWeight'])} {measure(v['fontSize'])}/{fmt_num(v['lineHeight'])} "
            f"{font_family(v['fontFamily'])}"
        )
    if type_ == "gradient":
        stops = ", ".join(
            f"{css_color(s['color'], color_mode)} {fmt_num(round(min(max(s['position'], 0), 1) * 100, 4))}%" for s in v
        )
        return f"linear-gradient({stops})"
    raise ValueError(f"no CSS form for type {type_!r}")
