"""CSS custom properties, one file per theme: ``css/<theme>.css``.

Names are escaped as CSS identifiers (``--size-it\\'s``); a typography token also gets
``--<name>-letter-spacing`` (the ``font`` shorthand cannot carry letter spacing)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from charter.tokens.formats.base import BuildContext
from charter.tokens.naming import css_ident

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
        names = ctx.names(theme) if opts.css_references else {}
        for e in ctx.entries(theme):
            tok = e.token
            value = e.value
            if opts.css_references and tok.alias is not None:
                value = f"var(--{css_ident(names[(tok.alias, e.part)])})"
            note = ""
            if e.part:  # the token's own line carries its description
                pass
            elif tok.deprecated:
                reason = tok.deprecated if isinstance(tok.deprecated, str) else "deprecated"
                note = f" /* deprecated: {_comment(reason)} */"
            elif tok.description:
                note = f" /* {_comment(tok.description)} */"
            lines.append(f"  --{css_ident(e.name)}: {value};{note}")
        lines.append("}\n")
        return "\n".join(lines)

    def render(self, ctx: BuildContext) -> dict[str, str]:
        return {f"css/{t.name}.css": self.render_theme(ctx, t) for t in ctx.themes}
