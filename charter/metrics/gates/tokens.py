"""Gate ``tokens``: the design tokens build (every theme resolves) and every contrast pair meets
WCAG 2.2 (AA, or AAA with ``[charter.metrics.ci] tokens_aaa = true``). Nothing is written.

Domain function: ``charter.tokens.build:build`` with ``charter.tokens.build:BuildOptions``.
"""

from __future__ import annotations

from charter.exceptions import CharterError
from charter.metrics.gates.base import CIContext, GateResult, domain

NAME = "tokens"
TITLE = "Token build + contrast"


def run(ctx: CIContext) -> GateResult:
    folder = ctx.project / str(ctx.config.get("tokens", "tokens"))
    if not folder.exists():
        return GateResult(NAME, TITLE, "not_applicable", f"no {folder.name}/ in the project")
    with domain("charter.tokens"):
        from charter.tokens.build import BuildOptions, build
    try:
        result = build(BuildOptions(sources=[folder], out=None, aaa=bool(ctx.config.get("tokens_aaa", False))))
    except CharterError as exc:
        details = [f"{e.file + '#' if e.file else ''}{e.pointer or '/'}: {e.message}" for e in exc.errors]
        return GateResult(NAME, TITLE, "failed", str(exc), details)
    return GateResult(
        NAME,
        TITLE,
        "passed",
        f"{result.tokens} tokens in {len(result.themes)} theme(s); {len(result.contrast)} contrast check(s) passed",
        data={"version": result.version, "themes": result.themes, "contrast_checks": len(result.contrast)},
    )
