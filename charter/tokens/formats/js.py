"""JavaScript ES modules, one per theme: ``js/<theme>.js``.

Each exports one camelCase constant per token (``colorTextDefault``) and, as the default export,
the nested object (``tokens.color.text.default``). Values are CSS-ready strings.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from charter.tokens.formats.base import BuildContext, _check_unique, js_name, nest

if TYPE_CHECKING:
    from charter.tokens.themes import Theme


class JsFormat:
    name = "js"
    description = "JavaScript ES module: named camelCase exports plus a nested default export"

    def render_theme(self, ctx: BuildContext, theme: Theme) -> str:
        entries = ctx.entries(theme)
        names = [(js_name(e.name), e.token) for e in entries]
        _check_unique(names, "JavaScript name")
        lines = [ctx.header(theme)]
        for (name, tok), e in zip(names, entries, strict=True):
            if tok.deprecated:
                reason = tok.deprecated.replace("*/", "* /") if isinstance(tok.deprecated, str) else ""
                lines.append(f"/** @deprecated {reason} */" if reason else "/** @deprecated */")
            lines.append(f"export const {name} = {json.dumps(e.value)};")
        nested = nest([(e.token.path, e.value) for e in entries])
        lines.append(f"\nexport default {json.dumps(nested, indent=2)};\n")
        return "\n".join(lines)

    def render(self, ctx: BuildContext) -> dict[str, str]:
        return {f"js/{t.name}.js": self.render_theme(ctx, t) for t in ctx.themes}
