"""CSS custom properties, one file per theme: ``css/<theme>.css``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from charter.tokens.css_values import css_name
from charter.tokens.formats.base import BuildContext

if TYPE_CHECKING:
    from charter.tokens.themes import Theme


def _comment(text: str) -> str:
    return text.replace("*/", "* /").replace("\n", " ")


class CssFormat:
    name = "css"
    description = "CSS custom properties (one :root block per theme; aliases as var() on request)"

    def render_theme(self, ctx: BuildContext, theme: Theme) -> str:
        opts = ctx.options
        selector = opts.selector.replace("{theme}", theme.name)
        lines = [ctx.header(theme), f"{selector} {{"]
        for e in ctx.entries(theme):
            tok = e.token
            value = e.value
            if opts.css_references and tok.alias is not None:
                value = f"var(--{css_name(tok.alias, opts.prefix)})"
            note = ""
            if tok.deprecated:
                reason = tok.deprecated if isinstance(tok.deprecated, str) else "deprecated"
                note = f" /* deprecated: {_comment(reason)} */"
            elif tok.description:
                note = f" /* {_comment(tok.description)} */"
            lines.append(f"  --{e.name}: {value};{note}")
        lines.append("}\n")
        return "\n".join(lines)

    def render(self, ctx: BuildContext) -> dict[str, str]:
        return {f"css/{t.name}.css": self.render_theme(ctx, t) for t in ctx.themes}
