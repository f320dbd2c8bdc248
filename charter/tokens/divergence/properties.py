"""Which style properties are tokenisable, and what a hard-coded value of each looks like.

A declaration counts towards divergence when its property belongs to a *category* below
(colour, spacing, radius, font size…) and its value is either a token usage or a hard-coded
literal of that category. Everything else (``width: 100%``, ``margin: 0 auto``, ``color:
inherit``, a value computed from a prop) is left out of the percentage: it is neither a token
usage nor a value a token could have replaced.
"""

from __future__ import annotations

import re

#: Category of a kebab-case property name, or ``None`` when the property is not tokenisable.
_EXACT = {
    "color": "color",
    "background": "color",
    "background-image": "color",
    "fill": "color",
    "stroke": "color",
    "gap": "spacing",
    "row-gap": "spacing",
    "column-gap": "spacing",
    "grid-gap": "spacing",
    "grid-row-gap": "spacing",
    "grid-column-gap": "spacing",
    "inset": "spacing",
    "font-size": "font-size",
    "font-weight": "font-weight",
    "font-family": "font-family",
    "line-height": "line-height",
    "letter-spacing": "letter-spacing",
    "font": "font",
    "box-shadow": "shadow",
    "text-shadow": "shadow",
    "z-index": "z-index",
    "opacity": "opacity",
    "border": "border",
    "outline": "border",
    "column-rule": "border",
    "outline-offset": "border-width",
    "transition": "motion",
    "animation": "motion",
    "transition-duration": "duration",
    "animation-duration": "duration",
    "transition-delay": "duration",
    "animation-delay": "duration",
    "transition-timing-function": "easing",
    "animation-timing-function": "easing",
}
_BORDER_SIDES = re.compile(r"^(?:border|outline)(?:-(?:top|right|bottom|left|block|inline)(?:-(?:start|end))?)?$")

CATEGORIES = (
    "color",
    "spacing",
    "radius",
    "font-size",
    "font-weight",
    "font-family",
    "line-height",
    "letter-spacing",
    "font",
    "shadow",
    "z-index",
    "opacity",
    "border",
    "border-width",
    "motion",
    "duration",
    "easing",
)


def category(prop: str) -> str | None:
    """``background-color`` -> ``color``; ``padding-inline-start`` -> ``spacing``; ``width`` -> None."""
    p = prop.lower()
    found = _EXACT.get(p)
    if found is not None:
        return found
    if p.endswith("-color"):
        return "color"
    if p.startswith(("margin", "padding", "scroll-margin", "scroll-padding", "inset-")):
        return "spacing"
    if p.endswith("-radius"):
        return "radius"
    if p.endswith("-width") and p.startswith(("border", "outline", "column-rule")):
        return "border-width"
    if _BORDER_SIDES.match(p):
        return "border"
    return None


_CAMEL_SPLIT = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def kebab(prop: str) -> str:
    """``backgroundColor`` -> ``background-color`` (JavaScript style objects)."""
    return _CAMEL_SPLIT.sub("-", prop).lower()


# CSS Color 4 named colours (``transparent`` and ``currentcolor`` are not hard-coded colours).
NAMED_COLORS = frozenset(
    [
        "aliceblue",
        "antiquewhite",
        "aqua",
        "aquamarine",
        "azure",
        "beige",
        "bisque",
        "black",
        "blanchedalmond",
        "blue",
        "blueviolet",
        "brown",
        "burlywood",
        "cadetblue",
        "chartreuse",
        "chocolate",
        "coral",
        "cornflowerblue",
        "cornsilk",
        "crimson",
        "cyan",
        "darkblue",
        "darkcyan",
        "darkgoldenrod",
        "darkgray",
        "darkgreen",
        "darkgrey",
        "darkkhaki",
        "darkmagenta",
        "darkolivegreen",
        "darkorange",
        "darkorchid",
        "darkred",
        "darksalmon",
        "darkseagreen",
        "darkslateblue",
        "darkslategray",
        "darkslategrey",
        "darkturquoise",
        "darkviolet",
        "deeppink",
        "deepskyblue",
        "dimgray",
        "dimgrey",
        "dodgerblue",
        "firebrick",
        "floralwhite",
        "forestgreen",
        "fuchsia",
        "gainsboro",
        "ghostwhite",
        "gold",
        "goldenrod",
        "gray",
        "green",
        "greenyellow",
        "grey",
        "honeydew",
        "hotpink",
        "indianred",
        "indigo",
        "ivory",
        "khaki",
        "lavender",
        "lavenderblush",
        "lawngreen",
        "lemonchiffon",
        "lightblue",
        "lightcoral",
        "lightcyan",
        "lightgoldenrodyellow",
        "lightgray",
        "lightgreen",
        "lightgrey",
        "lightpink",
        "lightsalmon",
        "lightseagreen",
        "lightskyblue",
        "lightslategray",
        "lightslategrey",
        "lightsteelblue",
        "lightyellow",
        "lime",
        "limegreen",
        "linen",
        "magenta",
        "maroon",
        "mediumaquamarine",
        "mediumblue",
        "mediumorchid",
        "mediumpurple",
        "mediumseagreen",
        "mediumslateblue",
        "mediumspringgreen",
        "mediumturquoise",
        "mediumvioletred",
        "midnightblue",
        "mintcream",
        "mistyrose",
        "moccasin",
        "navajowhite",
        "navy",
        "oldlace",
        "olive",
        "olivedrab",
        "orange",
        "orangered",
        "orchid",
        "palegoldenrod",
        "palegreen",
        "paleturquoise",
        "palevioletred",
        "papayawhip",
        "peachpuff",
        "peru",
        "pink",
        "plum",
        "powderblue",
        "purple",
        "rebeccapurple",
        "red",
        "rosybrown",
        "royalblue",
        "saddlebrown",
        "salmon",
        "sandybrown",
        "seagreen",
        "seashell",
        "sienna",
        "silver",
        "skyblue",
        "slateblue",
        "slategray",
        "slategrey",
        "snow",
        "springgreen",
        "steelblue",
        "tan",
        "teal",
        "thistle",
        "tomato",
        "turquoise",
        "violet",
        "wheat",
        "white",
        "whitesmoke",
        "yellow",
        "yellowgreen",
    ]
)

_HEX = re.compile(r"#(?:[0-9a-fA-F]{8}|[0-9a-fA-F]{6}|[0-9a-fA-F]{3,4})(?![0-9a-zA-Z_-])")
_COLOR_FN = re.compile(r"\b(?:rgba?|hsla?|hwb|lab|lch|oklab|oklch|color)\(", re.IGNORECASE)
_WORD = re.compile(r"[A-Za-z]+")
_LENGTH = re.compile(
    r"(?<![\w.#-])(-?(?:\d+(?:\.\d*)?|\.\d+))(px|rem|em|pt|pc|cm|mm|in|q|ch|ex|vh|vw|vmin|vmax)(?![\w%-])",
    re.IGNORECASE,
)
_NUMBER = re.compile(r"(?<![\w.#$-])(-?(?:\d+(?:\.\d*)?|\.\d+))(?![\w%.(-])")
_DURATION = re.compile(r"(?<![\w.#-])(\d+(?:\.\d*)?|\.\d+)(ms|s)(?![\w%-])", re.IGNORECASE)
_EASING_FN = re.compile(r"\b(?:cubic-bezier|steps|linear)\(", re.IGNORECASE)
_WEIGHT_WORDS = frozenset({"bold", "bolder", "lighter"})
#: Values that are never a token's job: CSS-wide keywords and the like.
EXEMPT_WORDS = frozenset(
    {"inherit", "initial", "unset", "revert", "revert-layer", "none", "auto", "normal", "transparent", "currentcolor"}
)

# Parts of a value that are not literals of the value itself: var() (a token, however it falls
# back), url(), quoted strings in most properties, and !important.
_VAR_CALL = re.compile(r"var\(\s*--[\w-]+\s*(?:,(?:[^()]|\([^()]*\))*)?\)")
_URL_CALL = re.compile(r"url\((?:[^()]|\([^()]*\))*\)", re.IGNORECASE)
_STRING = re.compile(r"'[^']*'|\"[^\"]*\"")


def strip_references(value: str) -> str:
    """The value without ``var(…)``, ``url(…)``, SCSS variables, interpolations and ``!important``."""
    v = _VAR_CALL.sub(" ", value)
    v = _URL_CALL.sub(" ", v)
    v = re.sub(r"#\{[^}]*\}|\$\{[^}]*\}", " ", v)
    v = re.sub(r"(?:[\w-]+\.)?\$[\w-]+", " ", v)
    return v.replace("!important", " ")


def has_color(value: str) -> bool:
    if _HEX.search(value) or _COLOR_FN.search(value):
        return True
    return any(w.lower() in NAMED_COLORS for w in _WORD.findall(_STRING.sub(" ", value)))


def has_length(value: str) -> bool:
    return any(float(m.group(1)) != 0 for m in _LENGTH.finditer(value))


def _numbers(value: str) -> list[float]:
    return [float(m.group(1)) for m in _NUMBER.finditer(_LENGTH.sub(" ", value))]


def hard_coded(cat: str, value: str) -> bool:
    """True when ``value`` (references already stripped) holds a literal a token of ``cat`` would
    replace."""
    v = value.strip()
    if not v or v.lower() in EXEMPT_WORDS:
        return False
    if cat == "color":
        return has_color(v)
    if cat in ("spacing", "radius", "font-size", "letter-spacing", "border-width"):
        return has_length(v)
    if cat == "line-height":
        return has_length(v) or any(n != 0 for n in _numbers(v))
    if cat == "font-weight":
        return any(1 <= n <= 1000 for n in _numbers(v)) or v.lower() in _WEIGHT_WORDS
    if cat == "font-family":
        return bool(_WORD.search(v)) and v.lower() not in EXEMPT_WORDS
    if cat == "font":
        return has_length(v) or any(100 <= n <= 1000 for n in _numbers(v))
    if cat in ("shadow", "border"):
        return has_color(v) or has_length(v)
    if cat == "z-index":
        return any(n != 0 for n in _numbers(v))
    if cat == "opacity":
        return any(n not in (0, 1) for n in _numbers(v.replace("%", " ")))
    if cat == "duration":
        return any(float(m.group(1)) != 0 for m in _DURATION.finditer(v))
    if cat == "easing":
        return bool(_EASING_FN.search(v))
    if cat == "motion":
        return any(float(m.group(1)) != 0 for m in _DURATION.finditer(v)) or bool(_EASING_FN.search(v))
    return False


def number_is_hard_coded(cat: str, number: float) -> bool:
    """A bare number in a JavaScript style object (React reads lengths as px)."""
    if cat in ("color", "font-family", "easing", "motion", "duration", "border", "shadow"):
        return False
    if cat == "opacity":
        return number not in (0, 1)
    return number != 0
