"""SCSS variables and a map, one partial per theme: ``scss/_<theme>.scss``.

Variable names are escaped as whole CSS identifiers (a leading ``-`` or ``_`` too, so ``@use`` keeps
them public) (Sass reads CSS escapes: ``$\\32 xl``,
``$size-a\\/b``); the ``$tokens`` map is keyed by the unescaped name as a quoted string."""

from __future__ import annotations

from typing import TYPE_CHECKING

from charter.tokens.formats.base import _HINT, BuildContext, alias_depth
from charter.tokens.naming import assign, css_ident, css_string


def sass_names(ctx: BuildContext, theme: Theme) -> dict[tuple[str, str | None], str]:
    """``(path, part)`` -> escaped Sass variable name (without ``$``).

    Sass treats ``-`` and ``_`` as the same character in names, so names equal up to that collide
    here even when their CSS names differ (checked under the same collision policy); a leading
    ``-`` or ``_`` is escaped, or ``@use`` would make the variable private."""
    entries = ctx.entries(theme)
    items = [(e.name.replace("_", "-"), e.token, e.part) for e in entries]
    final = assign(items, ctx.options.on_collision, "Sass name", ctx.options.name_case, _HINT)
    out = {}
    for e, item, name in zip(entries, items, final, strict=True):
        text = e.name if name == item[0] else name
        ident = css_ident(text, custom_property=False)
        out[e.key] = "\\" + ident if ident[:1] in ("-", "_") else ident
    return out


if TYPE_CHECKING:
    from charter.tokens.themes import Theme


class ScssFormat:
    name = "scss"
    description = "SCSS variables plus a $tokens map (aliases as $variables on request)"

    def render_theme(self, ctx: BuildContext, theme: Theme) -> str:
        opts = ctx.options
        entries = ctx.entries(theme)
        if opts.css_references:
            # A Sass variable must be defined before it is used: targets first.
            tokens = theme.tokens.tokens
            entries = sorted(entries, key=lambda e: alias_depth(tokens, e.token))
        names = sass_names(ctx, theme)
        lines = [ctx.header(theme, "//", "//", "//")]
        for e in entries:
            value = e.value
            if opts.css_references and e.token.alias is not None:
                value = "$" + names[(e.token.alias, e.part)]
            lines.append(f"${names[e.key]}: {value};")
        lines.append("")
        lines.append("$tokens: (")
        lines.extend(f"  {css_string(e.name, chr(34))}: ${names[e.key]}," for e in ctx.entries(theme))
        lines.append(");\n")
        return "\n".join(lines)

    def render(self, ctx: BuildContext) -> dict[str, str]:
        return {f"scss/_{t.name}.scss": self.render_theme(ctx, t) for t in ctx.themes}
