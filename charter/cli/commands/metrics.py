"""``charter metrics report|series|list``: maintainability metrics and DORA from the event log."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from charter.cli.context import DemoOption, ProjectOption, open_runtime
from charter.cli.errors import fail

app = typer.Typer(no_args_is_help=True)
console = Console()
err = Console(stderr=True)

STATUS_STYLE = {"ok": "[green]ok[/]", "breach": "[bold red]breach[/]", "no_data": "[dim]no data[/]", "info": "info"}

MetricOpt = Annotated[
    list[str] | None,
    typer.Option("--metric", "-m", help="Metric name or group (maintainability, dora); repeatable. Default all."),
]
ServiceOpt = Annotated[list[str] | None, typer.Option("--service", help="Only this service (DORA); repeatable.")]
EnvOpt = Annotated[str | None, typer.Option("--environment", help="DORA environment (default production).")]
RepoOpt = Annotated[
    Path | None,
    typer.Option(
        "--repo", help="Git repository for change lead time (default: [charter.metrics] repo or the project)."
    ),
]
FormatOpt = Annotated[str, typer.Option("--format", "-f", help="table, json or markdown.")]
OutputOpt = Annotated[Path | None, typer.Option("--output", "-o", help="Also write the JSON/Markdown to this file.")]


def _time(name: str, value: str | None) -> datetime | None:
    from charter.exceptions import BadRequest
    from charter.metrics.timestamps import TimestampError, parse_timestamp

    if value is None:
        return None
    try:
        return parse_timestamp(value, allow_future=True)
    except TimestampError as exc:
        raise BadRequest(f"--{name}: {exc}") from None


def _git(repo: Path | None, settings: Any) -> Any:
    from charter.metrics.git import GitHistory
    from charter.metrics.sources import git_for

    return GitHistory.open(repo) if repo is not None else git_for(settings)


def _check_format(fmt: str, allowed: tuple[str, ...]) -> None:
    if fmt not in allowed:
        raise fail(f"--format must be one of {', '.join(allowed)}, not {fmt!r}", 2)


@app.command()
def report(
    metric: MetricOpt = None,
    window: Annotated[
        list[str] | None,
        typer.Option("--window", "-w", help="7d, 12w, quarter, 2026-Q1, 2026-03, START..END; repeatable."),
    ] = None,
    until: Annotated[str | None, typer.Option(help="End of duration windows (RFC 3339; default now).")] = None,
    service: ServiceOpt = None,
    environment: EnvOpt = None,
    repo: RepoOpt = None,
    fmt: FormatOpt = "table",
    output: OutputOpt = None,
    fail_on_breach: Annotated[
        bool, typer.Option("--fail-on-breach", help="Exit 1 when a metric misses its target.")
    ] = False,
    project: ProjectOption = None,
    demo: DemoOption = False,
) -> None:
    """The five maintainability metrics and DORA's five over windows, with target and status."""
    from charter.metrics.report import build_report

    _check_format(fmt, ("table", "json", "markdown"))
    end = _time("until", until)
    with open_runtime(project, demo) as rt:
        git = _git(repo, rt.settings)
        with rt.read() as conn:
            rep = build_report(
                conn,
                metrics=metric,
                windows=window,
                until=end,
                settings_metrics=rt.settings.metrics,
                git=git,
                services=tuple(service or ()),
                environment=environment,
            )
    text = json.dumps(rep.to_dict(), indent=2) if fmt != "markdown" else rep.to_markdown()
    if output is not None:
        output.write_text(text + "\n", encoding="utf-8")
    if fmt == "table":
        _print_table(rep)
    else:
        print(text)
    if fail_on_breach and rep.breaches:
        raise typer.Exit(1)


def _print_table(rep: Any) -> None:
    for window in rep.windows:
        table = Table(
            "metric",
            "value",
            "target",
            "status",
            "samples",
            "notes",
            title=f"{window.name}  ({window.start:%Y-%m-%d %H:%M} → {window.end:%Y-%m-%d %H:%M} UTC)",
            title_justify="left",
        )
        for r in rep.results:
            if r.window is not window:
                continue
            d = r.to_dict()
            table.add_row(
                r.title, d["display"], d["target_display"], STATUS_STYLE[r.status], str(r.samples), "\n".join(r.notes)
            )
        console.print(table)
    if rep.scope.get("git") is None:
        err.print("[dim]no git repository: change lead time uses recorded changes only (--repo DIR)[/]")


@app.command()
def series(
    metric: MetricOpt = None,
    bucket: Annotated[str, typer.Option(help="day, week or month.")] = "week",
    since: Annotated[str | None, typer.Option(help="Start (RFC 3339; default 12 buckets back).")] = None,
    until: Annotated[str | None, typer.Option(help="End (RFC 3339; default now).")] = None,
    service: ServiceOpt = None,
    environment: EnvOpt = None,
    repo: RepoOpt = None,
    fmt: FormatOpt = "table",
    project: ProjectOption = None,
    demo: DemoOption = False,
) -> None:
    """The metrics per day, week or month (what the admin dashboard charts)."""
    from charter.metrics.series import series as build_series

    _check_format(fmt, ("table", "json"))
    start, end = _time("since", since), _time("until", until)
    with open_runtime(project, demo) as rt:
        git = _git(repo, rt.settings)
        with rt.read() as conn:
            found = build_series(
                conn,
                metric,
                bucket=bucket,
                since=start,
                until=end,
                settings_metrics=rt.settings.metrics,
                git=git,
                services=tuple(service or ()),
                environment=environment,
            )
    if fmt == "json":
        print(json.dumps([s.to_dict() for s in found], indent=2))
        return
    if not found:
        return
    table = Table("metric", *[p.window.name for p in found[0].points], "target")
    for s in found:
        table.add_row(s.title, *[p.to_dict()["display"] for p in s.points], s.target_display)
    console.print(table)


@app.command("list")
def list_(as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False) -> None:
    """Every metric: group, unit, default target and the event types it reads."""
    from charter.metrics.model import format_target
    from charter.metrics.registry import METRICS

    rows: list[dict[str, Any]] = [
        {
            "metric": m.name,
            "group": m.group,
            "unit": m.unit,
            "target": format_target(m.target, m.unit),
            "reads": list(m.reads),
            "prometheus": m.prometheus,
            "description": m.description,
        }
        for m in METRICS.values()
    ]
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    table = Table("metric", "group", "target", "reads", "description")
    for r in rows:
        table.add_row(r["metric"], r["group"], r["target"], ", ".join(r["reads"]), r["description"])
    console.print(table)
