"""Android: XML resources (``android-xml``) and Jetpack Compose Kotlin (``compose``), per theme.

``android-xml`` writes ``android/<theme>/values/tokens.xml``: colours as ``<color>`` (``#AARRGGBB``),
dimensions as ``<dimen>`` in ``dp`` (``px`` 1:1, ``rem`` x 16; units without an absolute equivalent,
such as ``em``, are left out), durations as ``<integer>`` milliseconds, font weights as ``<integer>``,
numbers as ``<item type="dimen" format="float">``, font families as ``<string>`` (the first family).
Composite types have no resource type and are left out; a typography token contributes its letter
spacing entry as a ``<dimen>``. Resource names are ``[a-z_][a-z0-9_]*`` (snake case of the output
name), collision-checked under the build's policy.

``compose`` writes ``android/<theme>/<Theme>Tokens.kt``: an ``object`` with ``Color(0xAARRGGBB)``,
``<n>.dp``, ``<n>.sp`` (font sizes inside typography), ``FontWeight(<n>)``, ``Long`` milliseconds,
``Float`` numbers, ``String`` font families, ``TextStyle`` for typography and ``CubicBezierEasing``.
Identifiers are camelCase, Kotlin keywords written with a ``_`` in front.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape

from charter.tokens.css_values import font_weight
from charter.tokens.formats.base import BuildContext
from charter.tokens.formats.native import argb_hex, camel, identifiers, length, millis, num, pascal, snake_ascii

if TYPE_CHECKING:
    from charter.tokens.formats.base import Entry
    from charter.tokens.themes import Theme


def _android_string(text: str) -> str:
    """An Android string resource body: XML-escaped, with Android's own escapes (quotes, ``@``/``?``)."""
    text = text.replace("\\", "\\\\").replace("'", "\\'").replace('"', '\\"').replace("\n", "\\n")
    if text[:1] in ("@", "?"):
        text = "\\" + text
    return escape(text)


def _first_family(v: Any) -> str:
    return v if isinstance(v, str) else v[0]


class AndroidXmlFormat:
    name = "android-xml"
    description = "Android XML resources: colors, dimens (dp), integers and strings per theme"

    def resource(self, name: str, e: Entry) -> str | None:
        t, v = e.token.type, e.token.resolved
        if e.part == "letterSpacing":
            t, v = "dimension", v["letterSpacing"]
        if t == "color":
            return f'<color name="{name}">#{argb_hex(v)}</color>'
        if t == "dimension":
            dp = length(v)
            return None if dp is None else f'<dimen name="{name}">{num(dp)}dp</dimen>'
        if t == "duration":
            return f'<integer name="{name}">{round(millis(v))}</integer>'
        if t == "fontWeight":
            return f'<integer name="{name}">{font_weight(v)}</integer>'
        if t == "number":
            return f'<item name="{name}" type="dimen" format="float">{num(v)}</item>'
        if t == "fontFamily":
            return f'<string name="{name}">{_android_string(_first_family(v))}</string>'
        return None

    def render_theme(self, ctx: BuildContext, theme: Theme) -> str:
        lines = [
            '<?xml version="1.0" encoding="utf-8"?>',
            "<!-- " + ctx.header(theme, "", "", "").strip().replace("--", "- -").replace("\n", " ") + " -->",
            "<resources>",
        ]
        for name, e in identifiers(ctx, theme, "Android resource name", snake_ascii):
            res = self.resource(name, e)
            if res is not None:
                lines.append("    " + res)
        lines.append("</resources>\n")
        return "\n".join(lines)

    def render(self, ctx: BuildContext) -> dict[str, str]:
        return {f"android/{t.name}/values/tokens.xml": self.render_theme(ctx, t) for t in ctx.themes}


KOTLIN_KEYWORDS = frozenset(
    [
        "as",
        "break",
        "class",
        "continue",
        "do",
        "else",
        "false",
        "for",
        "fun",
        "if",
        "in",
        "interface",
        "is",
        "null",
        "object",
        "package",
        "return",
        "super",
        "this",
        "throw",
        "true",
        "try",
        "typealias",
        "typeof",
        "val",
        "var",
        "when",
        "while",
    ]
)


def kotlin_string(text: str) -> str:
    """A Kotlin string literal (``$`` escaped: it would start a template)."""
    text = re.sub("[\ud800-\udfff]", "\ufffd", text)  # lone surrogates are not characters
    body = json.dumps(text, ensure_ascii=False)[1:-1].replace("$", "\\$")
    return f'"{body}"'


class ComposeFormat:
    name = "compose"
    description = "Jetpack Compose: a Kotlin object of Color, Dp, TextStyle … per theme"

    def value(self, e: Entry) -> str | None:
        t, v = e.token.type, e.token.resolved
        if e.part == "letterSpacing":
            dp = length(v["letterSpacing"])
            return None if dp is None else f"{num(dp)}.sp"
        if t == "color":
            return f"Color(0x{argb_hex(v)})"
        if t == "dimension":
            dp = length(v)
            return None if dp is None else f"{num(dp)}.dp"
        if t == "duration":
            return f"{round(millis(v))}L"
        if t == "fontWeight":
            return f"FontWeight({font_weight(v)})"
        if t == "number":
            return f"{num(v)}f"
        if t == "fontFamily":
            return kotlin_string(_first_family(v))
        if t == "cubicBezier":
            return "CubicBezierEasing(" + ", ".join(f"{num(x)}f" for x in v) + ")"
        if t == "typography":
            size = length(v["fontSize"])
            if size is None:
                return None
            parts = [f"fontSize = {num(size)}.sp", f"fontWeight = FontWeight({font_weight(v['fontWeight'])})"]
            if "lineHeight" in v:
                parts.append(f"lineHeight = {num(size * v['lineHeight'])}.sp")
            spacing = length(v["letterSpacing"])
            if spacing is not None:
                parts.append(f"letterSpacing = {num(spacing)}.sp")
            return "TextStyle(" + ", ".join(parts) + ")"
        return None

    def render_theme(self, ctx: BuildContext, theme: Theme) -> str:
        lines = [
            ctx.header(theme),
            "package designtokens\n",
            "import androidx.compose.animation.core.CubicBezierEasing",
            "import androidx.compose.ui.graphics.Color",
            "import androidx.compose.ui.text.TextStyle",
            "import androidx.compose.ui.text.font.FontWeight",
            "import androidx.compose.ui.unit.dp",
            "import androidx.compose.ui.unit.sp\n",
            f"object {pascal(theme.name)}Tokens {{",
        ]
        for name, e in identifiers(ctx, theme, "Kotlin name", lambda n: camel(n, KOTLIN_KEYWORDS)):
            value = self.value(e)
            if value is not None:
                lines.append(f"    val {name} = {value}")
        lines.append("}\n")
        return "\n".join(lines)

    def render(self, ctx: BuildContext) -> dict[str, str]:
        return {f"android/{t.name}/{pascal(t.name)}Tokens.kt": self.render_theme(ctx, t) for t in ctx.themes}
