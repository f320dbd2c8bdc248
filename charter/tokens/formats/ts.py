"""TypeScript declarations for the ES modules: ``js/<theme>.d.ts`` (the same names and keys as
``js/<theme>.js``, checked by ``tsc --strict`` in the tests)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from charter.tokens.formats.base import BuildContext, nest

if TYPE_CHECKING:
    from charter.tokens.themes import Theme


def _doc(text: str) -> str:
    return text.replace("*/", "* /").replace("\n", " ")


def _shape(node: dict[str, Any], indent: str) -> str:
    lines = ["{"]
    for key, value in node.items():
        sub = _shape(value, indent + "  ") if isinstance(value, dict) else "string"
        lines.append(f"{indent}  readonly {json.dumps(key, ensure_ascii=False)}: {sub};")
    lines.append(indent + "}")
    return "\n".join(lines)


class TsFormat:
    name = "ts"
    description = "TypeScript declarations (.d.ts) for the JavaScript modules"

    def render_theme(self, ctx: BuildContext, theme: Theme) -> str:
        lines = [ctx.header(theme)]
        for name, e in ctx.js_entries(theme):
            desc = _doc(e.token.description or "") if e.part is None else ""
            doc = f"/** {desc} */ " if desc else ""
            lines.append(f"{doc}export declare const {name}: string;")
        shape = _shape(nest([(e.token.path, "") for e in ctx.entries(theme) if e.part is None]), "")
        # ``$`` never appears in a token's JavaScript name, so this cannot clash with one; ``export {}``
        # stops a declaration file from exporting its non-exported declarations (it would
        # otherwise declare a named export the module does not have).
        lines.append(f"\ndeclare const tokens$: {shape};\nexport default tokens$;\nexport {{}};\n")
        return "\n".join(lines)

    def render(self, ctx: BuildContext) -> dict[str, str]:
        return {f"js/{t.name}.d.ts": self.render_theme(ctx, t) for t in ctx.themes}
