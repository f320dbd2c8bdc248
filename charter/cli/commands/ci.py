"""``charter ci``: schema check, contracts, tokens + contrast, divergence, eval gate and budgets in
one run, with one summary (JSON, and Markdown fit for a pull-request comment)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from charter.cli.context import ProjectOption, settings_for

console = Console()
STYLE = {
    "passed": "[green]passed[/]",
    "failed": "[bold red]failed[/]",
    "unavailable": "[bold yellow]unavailable[/]",
    "error": "[bold red]error[/]",
    "skipped": "[dim]skipped[/]",
    "not_applicable": "[dim]not applicable[/]",
}


def ci(
    skip: Annotated[list[str] | None, typer.Option("--skip", help="Leave this gate out (repeatable).")] = None,
    only: Annotated[list[str] | None, typer.Option("--only", help="Run only this gate (repeatable).")] = None,
    dist: Annotated[Path | None, typer.Option("--dist", help="Build output for the bundle and image budgets.")] = None,
    api: Annotated[str | None, typer.Option("--api", help="A running Charter for the latency budgets.")] = None,
    url: Annotated[str | None, typer.Option("--url", help="The front end's base URL for the page budgets.")] = None,
    token: Annotated[str | None, typer.Option(help="API token for budgets with auth (default $CHARTER_TOKEN).")] = None,
    llm_key: Annotated[str | None, typer.Option("--llm-key", help="Gateway key (default $CHARTER_LLM_KEY).")] = None,
    base_ref: Annotated[
        str | None, typer.Option("--base-ref", help="Git ref to compare schema versions with (e.g. origin/main).")
    ] = None,
    app_paths: Annotated[
        list[str] | None, typer.Option("--app", help="NAME=PATH of an app for the divergence scan (repeatable).")
    ] = None,
    summary: Annotated[Path, typer.Option("--summary", help="Write the JSON summary here.")] = Path("charter-ci.json"),
    markdown: Annotated[Path, typer.Option("--markdown", help="Write the Markdown summary here.")] = Path(
        "charter-ci.md"
    ),
    project: ProjectOption = None,
) -> None:
    """Run every quality gate; exit 1 when any gate fails or is unavailable."""
    from charter.metrics.gates import check_gate_names, ci_gates, run_ci
    from charter.metrics.gates.base import CIContext
    from charter.plugins import make_plugin_manager

    gates = ci_gates(make_plugin_manager())
    check_gate_names([*(skip or []), *(only or [])], gates)
    ctx = CIContext(
        settings=settings_for(project),
        dist=dist,
        api=api,
        url=url,
        token=token or os.environ.get("CHARTER_TOKEN"),
        llm_key=llm_key or os.environ.get("CHARTER_LLM_KEY"),
        base_ref=base_ref,
        apps=list(app_paths or []),
    )
    result = run_ci(ctx, gates, skip=skip or [], only=only or [])
    summary.write_text(json.dumps(result.to_dict(), indent=2) + "\n", encoding="utf-8")
    markdown.write_text(result.to_markdown(), encoding="utf-8")
    table = Table("gate", "status", "summary", "time", title="charter ci", title_justify="left")
    for r in result.results:
        table.add_row(
            r.name, STYLE[r.status], r.summary + "".join(f"\n  {d}" for d in r.details[:10]), f"{r.seconds:.1f} s"
        )
    console.print(table)
    console.print(
        ("[green]all gates passed[/]" if result.passed else "[bold red]gates failed[/]")
        + f" — summary in {summary} and {markdown}"
    )
    if not result.passed:
        raise typer.Exit(1)
