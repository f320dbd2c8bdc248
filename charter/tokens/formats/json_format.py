"""JSON exports per theme: ``json/<theme>.json`` (nested DTCG with resolved values, keeping
``$description``, ``$deprecated`` and ``$extensions`` as-is) and ``json/<theme>.flat.json``
(``{"color.text.default": "#111827"}``, CSS-ready values)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from charter.tokens.formats.base import BuildContext, nest

if TYPE_CHECKING:
    from charter.tokens.themes import Theme


def dtcg_token(tok: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"$type": tok.type, "$value": tok.resolved}
    if tok.description:
        out["$description"] = tok.description
    if tok.deprecated:
        out["$deprecated"] = tok.deprecated
    if tok.extensions:
        out["$extensions"] = tok.extensions
    return out


class JsonFormat:
    name = "json"
    description = "JSON: nested DTCG with resolved values, and a flat path -> CSS value map"

    def render_theme(self, ctx: BuildContext, theme: Theme) -> dict[str, str]:
        nested = nest([(t.path, dtcg_token(t)) for t in theme.tokens])
        flat = {e.token.path: e.value for e in ctx.entries(theme) if e.part is None}
        return {
            f"json/{theme.name}.json": json.dumps(nested, indent=2, ensure_ascii=False) + "\n",
            f"json/{theme.name}.flat.json": json.dumps(flat, indent=2, ensure_ascii=False) + "\n",
        }

    def render(self, ctx: BuildContext) -> dict[str, str]:
        out: dict[str, str] = {}
        for t in ctx.themes:
            out.update(self.render_theme(ctx, t))
        return out
