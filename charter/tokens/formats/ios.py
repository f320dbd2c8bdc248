"""iOS: SwiftUI constants per theme (``ios``): ``ios/<theme>/<Theme>Tokens.swift``.

A ``public enum`` (no instances) of ``static let`` constants: ``Color(.sRGB, red:green:blue:opacity:)``,
``CGFloat`` points for dimensions (``px`` 1:1, ``rem`` x 16; units without an absolute equivalent are
left out), ``TimeInterval`` seconds for durations, ``Font.Weight`` for font weights, ``Double``
numbers, ``String`` font families (the first family), ``Font`` for typography (custom font at its
size and weight; its letter spacing is its own ``CGFloat`` entry). Other composite types are left
out. Identifiers are camelCase, Swift keywords written with a ``_`` in front.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from charter.tokens.css_values import font_weight
from charter.tokens.formats.base import BuildContext
from charter.tokens.formats.native import camel, identifiers, length, millis, num, pascal, rgba

if TYPE_CHECKING:
    from charter.tokens.formats.base import Entry
    from charter.tokens.themes import Theme

SWIFT_KEYWORDS = frozenset(
    [
        "associatedtype",
        "class",
        "deinit",
        "enum",
        "extension",
        "fileprivate",
        "func",
        "import",
        "init",
        "inout",
        "internal",
        "let",
        "open",
        "operator",
        "private",
        "precedencegroup",
        "protocol",
        "public",
        "rethrows",
        "static",
        "struct",
        "subscript",
        "typealias",
        "var",
        "break",
        "case",
        "catch",
        "continue",
        "default",
        "defer",
        "do",
        "else",
        "fallthrough",
        "for",
        "guard",
        "if",
        "in",
        "repeat",
        "return",
        "throw",
        "switch",
        "where",
        "while",
        "Any",
        "as",
        "await",
        "false",
        "is",
        "nil",
        "self",
        "Self",
        "super",
        "throws",
        "true",
        "try",
        "Type",
    ]
)
_WEIGHTS = {100: "ultraLight", 200: "thin", 300: "light", 400: "regular", 500: "medium", 600: "semibold"}
_WEIGHTS.update({700: "bold", 800: "heavy", 900: "black"})


_SWIFT_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\0": "\\0"}


def swift_string(text: str) -> str:
    """A Swift string literal: quotes and backslashes escaped (so no ``\\(`` interpolation), control
    characters as ``\\u{…}``, lone surrogates (not Unicode scalars) replaced."""
    out = ['"']
    for ch in text:
        o = ord(ch)
        if ch in _SWIFT_ESCAPES:
            out.append(_SWIFT_ESCAPES[ch])
        elif 0xD800 <= o <= 0xDFFF:
            out.append("\ufffd")
        elif o < 0x20 or o == 0x7F:
            out.append(f"\\u{{{o:x}}}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def swift_weight(v: object) -> str:
    n = int(float(font_weight(v)))
    return "." + _WEIGHTS[min(_WEIGHTS, key=lambda k: abs(k - n))]


class IosFormat:
    name = "ios"
    description = "iOS SwiftUI: a Swift enum of Color, CGFloat, Font … constants per theme"

    def value(self, e: Entry) -> tuple[str, str] | None:
        t, v = e.token.type, e.token.resolved
        if e.part == "letterSpacing":
            pt = length(v["letterSpacing"])
            return None if pt is None else ("CGFloat", num(pt))
        if t == "color":
            r, g, b, a = rgba(v)
            return (
                "Color",
                f"Color(.sRGB, red: {num(r / 255)}, green: {num(g / 255)}, blue: {num(b / 255)}, opacity: {num(a)})",
            )
        if t == "dimension":
            pt = length(v)
            return None if pt is None else ("CGFloat", num(pt))
        if t == "duration":
            return "TimeInterval", num(millis(v) / 1000)
        if t == "fontWeight":
            return "Font.Weight", swift_weight(v)
        if t == "number":
            return "Double", num(v)
        if t == "fontFamily":
            return "String", swift_string(v if isinstance(v, str) else v[0])
        if t == "typography":
            size = length(v["fontSize"])
            if size is None:
                return None
            family = v["fontFamily"] if isinstance(v["fontFamily"], str) else v["fontFamily"][0]
            weight = swift_weight(v["fontWeight"])
            return "Font", f"Font.custom({swift_string(family)}, size: {num(size)}).weight({weight})"
        return None

    def render_theme(self, ctx: BuildContext, theme: Theme) -> str:
        lines = [ctx.header(theme), "import SwiftUI\n", f"public enum {pascal(theme.name)}Tokens {{"]
        for name, e in identifiers(ctx, theme, "Swift name", lambda n: camel(n, SWIFT_KEYWORDS)):
            typed = self.value(e)
            if typed is not None:
                lines.append(f"    public static let {name}: {typed[0]} = {typed[1]}")
        lines.append("}\n")
        return "\n".join(lines)

    def render(self, ctx: BuildContext) -> dict[str, str]:
        return {f"ios/{t.name}/{pascal(t.name)}Tokens.swift": self.render_theme(ctx, t) for t in ctx.themes}
