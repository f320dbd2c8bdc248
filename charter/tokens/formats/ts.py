"""TypeScript declarations for the ES modules: ``js/<theme>.d.ts``."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from charter.tokens.formats.base import BuildContext, js_name, nest

if TYPE_CHECKING:
    from charter.tokens.themes import Theme


def _shape(node: dict[str, Any], indent: str) -> str:
    lines = ["{"]
    for key, value in node.items():
        sub = _shape(value, indent + "  ") if isinstance(value, dict) else "string"
        lines.append(f"{indent}  readonly {json.dumps(key)}: {sub};")
    lines.append(indent + "}")
    return "\n".join(lines)


class TsFormat:
    name = "ts"
    description = "TypeScript declarations (.d.ts) for the JavaScript modules"

    def render_theme(self, ctx: BuildContext, theme: Theme) -> str:
        entries = ctx.entries(theme)
        lines = [ctx.header(theme)]
        for e in entries:
            desc = (e.token.description or "").replace("*/", "* /").replace("\n", " ")
            doc = f"/** {desc} */ " if desc else ""
            lines.append(f"{doc}export declare const {js_name(e.name)}: string;")
        shape = _shape(nest([(e.token.path, "") for e in entries]), "")
        lines.append(f"\ndeclare const tokens: {shape};\nexport default tokens;\n")
        return "\n".join(lines)

    def render(self, ctx: BuildContext) -> dict[str, str]:
        return {f"js/{t.name}.d.ts": self.render_theme(ctx, t) for t in ctx.themes}
