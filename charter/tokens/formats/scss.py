"""SCSS variables and a map, one partial per theme: ``scss/_<theme>.scss``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from charter.tokens.css_values import css_name
from charter.tokens.formats.base import BuildContext, alias_depth

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
        lines = [ctx.header(theme, "//", "//", "//")]
        for e in entries:
            value = e.value
            if opts.css_references and e.token.alias is not None:
                value = "$" + css_name(e.token.alias, opts.prefix)
            lines.append(f"${e.name}: {value};")
        lines.append("")
        lines.append("$tokens: (")
        lines.extend(f'  "{e.name}": ${e.name},' for e in ctx.entries(theme))
        lines.append(");\n")
        return "\n".join(lines)

    def render(self, ctx: BuildContext) -> dict[str, str]:
        return {f"scss/_{t.name}.scss": self.render_theme(ctx, t) for t in ctx.themes}
