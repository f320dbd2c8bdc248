"""Gate ``budgets``: ``budgets.yaml`` holds for ``--dist``, ``--api`` and ``--url`` (charter.metrics.budgets)."""

from __future__ import annotations

from charter.metrics.gates.base import CIContext, GateResult

NAME = "budgets"
TITLE = "Performance budgets"


def run(ctx: CIContext) -> GateResult:
    from charter.metrics.budgets import check_budgets, load_budgets

    path = ctx.project / str(ctx.config.get("budgets", "budgets.yaml"))
    if not path.is_file():
        return GateResult(NAME, TITLE, "not_applicable", f"no {path.name} in the project")
    budgets = load_budgets(path)
    absolute_pages = any(p.url.startswith(("http://", "https://")) for p in budgets.pages)
    if ctx.dist is None and ctx.api is None and ctx.url is None and not absolute_pages:
        # Nothing to measure is not a failure of the budgets: a fresh project's `charter ci` passes,
        # and CI that builds a bundle, runs a server or serves the front end passes --dist/--api/--url.
        return GateResult(NAME, TITLE, "skipped", f"{path.name} not measured: give --dist, --api and/or --url")
    report = check_budgets(budgets, dist=ctx.dist, api=ctx.api, token=ctx.token, llm_key=ctx.llm_key, url=ctx.url)
    measured = [r for r in report.results if r.status != "skipped"]
    if not measured:
        return GateResult(
            NAME, TITLE, "error", "nothing was measured: give --dist, --api and/or --url", data=report.to_dict()
        )
    failed = report.failed
    skipped = len(report.results) - len(measured)
    tail = f"; {skipped} skipped (no --dist, --api or --url)" if skipped else ""
    summary = (
        f"{len(failed)} of {len(measured)} budget(s) over" if failed else f"{len(measured)} budget(s) met"
    ) + tail
    details = [f"{r.name}: {r.display(r.measured)} / {r.display(r.budget)} ({r.status}) {r.detail}" for r in failed]
    return GateResult(
        NAME,
        TITLE,
        "failed" if failed else "passed",
        summary,
        details,
        {"markdown": report.to_markdown(), **report.to_dict()},
    )
