"""``charter budgets check|validate``: performance budgets from ``budgets.yaml``."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from charter.cli.errors import fail

app = typer.Typer(no_args_is_help=True)
console = Console()

BudgetsOpt = Annotated[Path, typer.Option("--budgets", "-b", help="The budgets file.", dir_okay=False)]
STATUS = {
    "ok": "[green]ok[/]",
    "over": "[bold red]over[/]",
    "error": "[bold red]error[/]",
    "skipped": "[dim]skipped[/]",
}
KINDS = ("bundle", "image", "api", "llm", "page", "asset")


@app.command()
def check(
    budgets: BudgetsOpt = Path("budgets.yaml"),
    dist: Annotated[Path | None, typer.Option("--dist", help="Build output folder (JS bundles, images).")] = None,
    api: Annotated[str | None, typer.Option("--api", help="Base URL of a running Charter for latency budgets.")] = None,
    token: Annotated[
        str | None, typer.Option(help="API token for endpoints with `auth: true` (default $CHARTER_TOKEN).")
    ] = None,
    llm_key: Annotated[
        str | None, typer.Option("--llm-key", help="Gateway key for LLM routes (default $CHARTER_LLM_KEY).")
    ] = None,
    url: Annotated[
        str | None, typer.Option("--url", help="Base URL of the front end for page budgets whose url is a path.")
    ] = None,
    chromium: Annotated[
        str | None, typer.Option("--chromium", help="Chromium to measure pages with (default $CHARTER_CHROMIUM).")
    ] = None,
    only: Annotated[
        list[str] | None, typer.Option("--only", help="Only these kinds: bundle, image, api, llm, page.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Also write the JSON report here.")] = None,
    markdown: Annotated[Path | None, typer.Option("--markdown", help="Also write a Markdown table here.")] = None,
) -> None:
    """Measure every budget (a bounded load on --api) and fail on any overrun."""
    from charter.metrics.budgets import check_budgets, load_budgets

    kinds = tuple(only or ())
    bad = [k for k in kinds if k not in KINDS]
    if bad:
        raise fail(f"--only takes {', '.join(KINDS)}; not {', '.join(bad)}", 2)
    spec = load_budgets(budgets)
    report = check_budgets(
        spec,
        dist=dist,
        api=api,
        token=token or os.environ.get("CHARTER_TOKEN"),
        llm_key=llm_key or os.environ.get("CHARTER_LLM_KEY"),
        only=kinds,
        url=url,
        chromium=chromium,
    )
    if output is not None:
        output.write_text(json.dumps(report.to_dict(), indent=2) + "\n", encoding="utf-8")
    if markdown is not None:
        markdown.write_text(report.to_markdown() + "\n", encoding="utf-8")
    if as_json:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        table = Table("budget", "kind", "budget", "measured", "margin", "status", "detail", title=str(budgets))
        for r in report.results:
            margin = "—" if r.margin is None else f"{r.display(r.margin)} ({r.margin_percent:+.1f} %)"
            style = "red" if r.margin is not None and r.margin < 0 else "green"
            table.add_row(
                r.name,
                r.kind,
                r.display(r.budget),
                r.display(r.measured),
                f"[{style}]{margin}[/]",
                STATUS[r.status],
                r.detail,
            )
        console.print(table)
        failed = len(report.failed)
        measured = [r for r in report.results if r.status != "skipped"]
        skipped = len(report.results) - len(measured)
        tail = f"; {skipped} skipped (no --dist, --api or --url for them)" if skipped else ""
        if failed:
            console.print(f"[bold red]{failed} of {len(measured)} measured budget(s) failed[/]{tail}")
        elif measured:
            console.print(f"[green]all {len(measured)} measured budget(s) met[/]{tail}")
    if report.failed:
        raise typer.Exit(1)
    if not any(r.status != "skipped" for r in report.results):
        raise fail("nothing was measured: give --dist DIR, --api URL and/or --url URL", 2)


@app.command()
def validate(budgets: BudgetsOpt = Path("budgets.yaml")) -> None:
    """Check a budgets file without measuring anything."""
    from charter.metrics.budgets import load_budgets

    spec = load_budgets(budgets)
    console.print(
        f"ok: {len(spec.bundles)} bundle, {len(spec.images)} image, {len(spec.api)} API, "
        f"{len(spec.llm)} LLM and {len(spec.pages)} page budget(s)"
    )
