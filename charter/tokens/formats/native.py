"""What the non-web formats share: identifiers for Kotlin, Swift and Android resources (normalised,
keywords escaped, collision-checked under the build's policy), colours as 8-bit RGBA, and lengths
in density-independent units (``px`` -> 1 dp/pt, ``rem`` -> 16 dp/pt).

Composite types without a native value (shadow, border, transition, gradient, cubicBezier, stroke
style) are written by the formats as their parts only where the platform has them; each format's
docstring says which types it writes.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from charter.tokens.colors import fmt_num
from charter.tokens.naming import assign, words

if TYPE_CHECKING:
    from charter.tokens.formats.base import BuildContext, Entry
    from charter.tokens.themes import Theme

#: rem is 16 px in every browser's default style sheet; native platforms have no root font size.
REM = 16


def rgba(value: dict[str, Any]) -> tuple[int, int, int, float]:
    """8-bit sRGB components and alpha of a DTCG colour (other spaces gamut-mapped into sRGB)."""
    from charter.tokens.colors import direct_srgb

    comps = direct_srgb(value) or value["components"]
    if value["colorSpace"] not in ("srgb", "hsl", "hwb") or "none" in value["components"]:
        from charter.tokens.colors import to_color

        color = to_color(value).convert("srgb")
        if not color.in_gamut("srgb"):
            color = color.fit("srgb")
        comps = [0.0 if c != c else c for c in color.coords()]
        alpha = color.alpha()
        alpha = 1.0 if alpha != alpha else alpha
    else:
        alpha = value.get("alpha", 1)
        alpha = 1.0 if alpha == "none" else float(alpha)
    r, g, b = (int(min(max(c, 0.0), 1.0) * 255 + 0.5) for c in comps)
    return r, g, b, alpha


def argb_hex(value: dict[str, Any]) -> str:
    """``AARRGGBB`` (Android's order)."""
    r, g, b, a = rgba(value)
    return f"{int(a * 255 + 0.5):02X}{r:02X}{g:02X}{b:02X}"


def length(v: dict[str, Any]) -> float | None:
    """A dimension in dp/pt; ``None`` for units without an absolute equivalent (em, vw, % …)."""
    unit = v["unit"]
    if unit == "px":
        return float(v["value"])
    if unit == "rem":
        return float(v["value"]) * REM
    if unit == "pt":
        return float(v["value"]) * 4 / 3
    return None


def millis(v: dict[str, Any]) -> float:
    return float(v["value"]) * (1000 if v["unit"] == "s" else 1)


def num(x: float) -> str:
    return fmt_num(int(x) if float(x).is_integer() else round(x, 4))


def camel(name: str, keywords: frozenset[str]) -> str:
    """A camelCase identifier from an output name; a keyword or a leading digit gets ``_``."""
    ws = words(name)
    out = ""
    for w in ws:
        if not out:
            out = w[:1].lower() + w[1:]
        elif w[0].isdigit():
            out += "_" + w
        else:
            out += w[:1].upper() + w[1:]
    out = out or "_"
    if out[0].isdigit() or out in keywords or not out.isidentifier():
        out = "_" + out
    if not out.isidentifier():
        out = "_" + "".join(c if ("_" + c).isidentifier() else "_" for c in out[1:])
    return out


JAVA_KEYWORDS = frozenset(
    [
        "abstract",
        "assert",
        "boolean",
        "break",
        "byte",
        "case",
        "catch",
        "char",
        "class",
        "const",
        "continue",
        "default",
        "do",
        "double",
        "else",
        "enum",
        "extends",
        "final",
        "finally",
        "float",
        "for",
        "goto",
        "if",
        "implements",
        "import",
        "instanceof",
        "int",
        "interface",
        "long",
        "native",
        "new",
        "package",
        "private",
        "protected",
        "public",
        "return",
        "short",
        "static",
        "strictfp",
        "super",
        "switch",
        "synchronized",
        "this",
        "throw",
        "throws",
        "transient",
        "try",
        "void",
        "volatile",
        "while",
        "true",
        "false",
        "null",
    ]
)


def snake_ascii(name: str) -> str:
    """An Android resource name: ``[a-z_][a-z0-9_]*`` (non-ASCII letters dropped), never a Java keyword
    (``R.color.<name>`` must compile)."""
    out = "_".join(w.lower() for w in words(name))
    out = re.sub(r"[^a-z0-9_]", "", out) or "_"
    return "_" + out if out[0].isdigit() or out in JAVA_KEYWORDS else out


def identifiers(ctx: BuildContext, theme: Theme, kind: str, make: Any) -> list[tuple[str, Entry]]:
    """Each entry of ``theme`` with ``make(entry.name)``, collision-checked under the build's policy."""
    entries = ctx.entries(theme)
    final = assign([(make(e.name), e.token, e.part) for e in entries], ctx.options.on_collision, kind, "js")
    return list(zip(final, entries, strict=True))


def pascal(name: str) -> str:
    ws = words(name) or ["Default"]
    out = "".join(w[:1].upper() + w[1:] for w in ws)
    return "_" + out if out[0].isdigit() else out
