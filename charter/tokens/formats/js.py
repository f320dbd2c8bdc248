"""JavaScript ES modules, one per theme: ``js/<theme>.js``.

Each exports one camelCase constant per token (``colorTextDefault``; a typography token also
``…LetterSpacing``) and, as the default export, the nested object (``tokens.color.text.default``).
Values are CSS-ready strings. Any token name is safe as a key: keys are quoted, and
``__proto__`` is written as a computed key (``["__proto__"]``), which defines an own property
instead of setting the prototype (ECMA-262 §B.3.1), so the object and the ``.d.ts`` agree.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from charter.tokens.formats.base import BuildContext, nest

if TYPE_CHECKING:
    from charter.tokens.themes import Theme


def js_key(key: str) -> str:
    quoted = json.dumps(key, ensure_ascii=False)
    return f"[{quoted}]" if key == "__proto__" else quoted


def js_object(node: dict[str, Any], indent: str = "") -> str:
    """``node`` (nested dicts of strings) as a JavaScript object literal."""
    inner = indent + "  "
    lines = ["{"]
    items = list(node.items())
    for i, (key, value) in enumerate(items):
        text = js_object(value, inner) if isinstance(value, dict) else json.dumps(value, ensure_ascii=False)
        lines.append(f"{inner}{js_key(key)}: {text}{',' if i < len(items) - 1 else ''}")
    lines.append(indent + "}")
    return "\n".join(lines) if items else "{}"


class JsFormat:
    name = "js"
    description = "JavaScript ES module: named camelCase exports plus a nested default export"

    def render_theme(self, ctx: BuildContext, theme: Theme) -> str:
        lines = [ctx.header(theme)]
        for name, e in ctx.js_entries(theme):
            tok = e.token
            if tok.deprecated:
                reason = tok.deprecated.replace("*/", "* /") if isinstance(tok.deprecated, str) else ""
                lines.append(f"/** @deprecated {reason} */" if reason else "/** @deprecated */")
            lines.append(f"export const {name} = {json.dumps(e.value, ensure_ascii=False)};")
        nested = nest([(e.token.path, e.value) for e in ctx.entries(theme) if e.part is None])
        lines.append(f"\nexport default {js_object(nested)};\n")
        return "\n".join(lines)

    def render(self, ctx: BuildContext) -> dict[str, str]:
        return {f"js/{t.name}.js": self.render_theme(ctx, t) for t in ctx.themes}
