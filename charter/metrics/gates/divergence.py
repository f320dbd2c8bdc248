"""Gate ``divergence``: each app's share of style declarations that override the design tokens is
under the threshold (default 5 %, the playbook's target).

Apps come from ``--app NAME=PATH`` (relative to the working folder) or ``[charter.metrics.ci]
divergence_apps`` (relative to the project folder); ``divergence_threshold`` sets the threshold. Domain function:
``charter.tokens.divergence:scan`` with ``charter.tokens.divergence:ScanOptions``.
"""

from __future__ import annotations

from pathlib import Path

from charter.exceptions import CharterError
from charter.metrics.gates.base import CIContext, GateResult, domain

NAME = "divergence"
TITLE = "Token divergence scan"


def _in_project(ctx: CIContext, spec: str) -> str:
    """``NAME=PATH`` from charter.toml, with a relative ``PATH`` taken from the project folder."""
    name, sep, path = spec.partition("=")
    if not sep or not name or "/" in name:
        name, path = "", spec
    if Path(path).is_absolute():
        return spec
    return f"{name or Path(path).name or ctx.project.name}={ctx.project / path}"


def run(ctx: CIContext) -> GateResult:
    # --app paths are the user's (relative to where charter ci runs); charter.toml's are the project's.
    apps = ctx.apps or [_in_project(ctx, str(a)) for a in ctx.config.get("divergence_apps", [])]
    if not apps:
        return GateResult(NAME, TITLE, "not_applicable", "no apps to scan (--app NAME=PATH or divergence_apps)")
    threshold = float(ctx.config.get("divergence_threshold", 5.0))
    with domain("charter.tokens"):
        from charter.tokens.divergence import ScanOptions, scan
    tokens = ctx.project / str(ctx.config.get("tokens", "tokens"))
    try:
        report = scan(ScanOptions(paths=apps, tokens=tokens if tokens.exists() else None, threshold=threshold))
    except CharterError as exc:
        details = [f"{e.file + '#' if e.file else ''}{e.pointer or '/'}: {e.message}" for e in exc.errors]
        return GateResult(NAME, TITLE, "error", str(exc), details)
    rows = [(a.name, float(a.percent)) for a in report.apps]
    over = [
        f"{name}: {percent:.1f} % of declarations override tokens (threshold {threshold:g} %)"
        for name, percent in rows
        if percent > threshold
    ]
    summary = ", ".join(f"{name} {percent:.1f} %" for name, percent in rows) or "no declarations found"
    return GateResult(
        NAME,
        TITLE,
        "failed" if over or report.failed else "passed",
        summary,
        over,
        {"apps": dict(rows), "threshold_percent": threshold},
    )
