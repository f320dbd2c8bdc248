"""E-mail-safe CSS (``email``): ``email/<theme>.css``, one class per token, resolved values only.

Mail clients ignore custom properties (``var()``), ``rem`` and often ``rgba()``, and many drop
shorthands: so every value is resolved (no references), colours are ``#rrggbb`` (sRGB; a translucent
colour is composited over white, the usual mail background), lengths are ``px`` (``rem`` x 16) and
typography is written as longhands. Class names are the output names, escaped as CSS identifiers:

* colour ``x``: ``.x { color: … }`` and ``.bg-x { background-color: … }``;
* typography ``x``: ``.x { font-family; font-size; font-weight; line-height; letter-spacing }``;
* font family, font weight and border ``x``: ``.x { font-family | font-weight | border: … }``.

Other types (dimensions, durations, shadows, gradients, cubic Béziers, numbers) have no property
to attach to without guessing, and are left out. Class names are collision-checked (``.bg-x`` of
colour ``x`` against a token named ``bg-x``) under the build's policy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from charter.tokens.css_values import font_family, font_weight, stroke_style
from charter.tokens.formats.base import BuildContext
from charter.tokens.formats.native import length, num, rgba
from charter.tokens.naming import assign, css_ident

if TYPE_CHECKING:
    from charter.tokens.themes import Theme


def mail_color(v: dict[str, Any]) -> str:
    """``#rrggbb``; alpha composited over white."""
    r, g, b, a = rgba(v)
    r, g, b = (int(c * a + 255 * (1 - a) + 0.5) for c in (r, g, b))
    return f"#{r:02x}{g:02x}{b:02x}"


def mail_length(v: dict[str, Any]) -> str | None:
    px = length(v)
    return None if px is None else f"{num(px)}px"


class EmailFormat:
    name = "email"
    description = "E-mail-safe CSS: a class per token with resolved values, hex colours and px"

    def declarations(self, t: str, v: Any) -> list[tuple[str, str]]:
        """``(class prefix, declarations)`` for a token of type ``t``."""
        if t == "color":
            return [("", f"color: {mail_color(v)}"), ("bg-", f"background-color: {mail_color(v)}")]
        if t == "fontFamily":
            return [("", f"font-family: {font_family(v)}")]
        if t == "fontWeight":
            return [("", f"font-weight: {font_weight(v)}")]
        if t == "border":
            width = mail_length(v["width"])
            return [("", f"border: {width} {stroke_style(v['style'])} {mail_color(v['color'])}")] if width else []
        if t == "typography":
            size = mail_length(v["fontSize"])
            if size is None:
                return []
            decls = [f"font-family: {font_family(v['fontFamily'])}", f"font-size: {size}"]
            decls.append(f"font-weight: {font_weight(v['fontWeight'])}")
            if "lineHeight" in v:
                decls.append(f"line-height: {num(v['lineHeight'])}")
            spacing = mail_length(v["letterSpacing"])
            if spacing is not None:
                decls.append(f"letter-spacing: {spacing}")
            return [("", "; ".join(decls))]
        return []

    def render_theme(self, ctx: BuildContext, theme: Theme) -> str:
        items: list[tuple[str, Any, str | None]] = []
        bodies: list[str] = []
        for e in ctx.entries(theme):
            if e.part is None and e.token.type is not None:
                for prefix, body in self.declarations(e.token.type, e.token.resolved):
                    items.append((prefix + e.name, e.token, "background" if prefix else None))
                    bodies.append(body)
        names = assign(items, ctx.options.on_collision, "e-mail class", ctx.options.name_case)
        lines = [ctx.header(theme)]
        lines.extend(f".{css_ident(n, custom_property=False)} {{ {b}; }}" for n, b in zip(names, bodies, strict=True))
        return "\n".join(lines) + "\n"

    def render(self, ctx: BuildContext) -> dict[str, str]:
        return {f"email/{t.name}.css": self.render_theme(ctx, t) for t in ctx.themes}
