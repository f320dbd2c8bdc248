"""``charter eval``: run the evaluation harness, compare reports, validate a report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from charter.cli.context import DemoOption, ProjectOption, open_runtime
from charter.cli.errors import fail

app = typer.Typer(no_args_is_help=True)
console = Console(stderr=True)
out = Console()

#: Exit code when the run regressed against the baseline (1 is bad input, 2 is usage).
EXIT_REGRESSION = 3


def _summary_table(report: dict[str, object]) -> Table:
    table = Table(title="Summary")
    table.add_column("metric")
    table.add_column("value", justify="right")
    table.add_column("n", justify="right")
    metrics = report.get("metrics") or {}
    for name, value in (report.get("summary") or {}).items():  # type: ignore[attr-defined]
        n = (metrics.get(name) or {}).get("n", "")  # type: ignore[attr-defined]
        table.add_row(name, "—" if value is None else f"{value:.4f}", str(n))
    return table


@app.command("run")
def run(
    dataset: Annotated[Path, typer.Option("--dataset", help="Golden set (JSONL).")] = Path("eval/golden.jsonl"),
    retriever_config: Annotated[Path, typer.Option("--retriever-config", help="Retriever settings (YAML).")] = Path(
        "configs/retriever.yaml"
    ),
    model_config: Annotated[
        Path, typer.Option("--model-config", help="The gateway's model.yaml (its eval: section).")
    ] = Path("configs/model.yaml"),
    metrics: Annotated[
        str,
        typer.Option(
            "--metrics",
            help="Comma-separated: answers,evidence,factuality,citations,latency,toxicity,refusal,retrieval,routing.",
        ),
    ] = "answers,evidence,factuality,citations,latency,toxicity,refusal,retrieval",
    report: Annotated[Path | None, typer.Option("--report", help="JSON report path (HTML beside it).")] = None,
    html: Annotated[Path | None, typer.Option("--html", help="Write the HTML report here instead.")] = None,
    baseline: Annotated[Path | None, typer.Option("--baseline", help="A previous JSON report to compare with.")] = None,
    max_regression: Annotated[
        str | None,
        typer.Option("--max-regression", help="Allowed regression per metric: factuality=0.02,latency_p95_ms=10%."),
    ] = None,
    critical: Annotated[
        str | None, typer.Option("--critical", help="Metrics whose regression is critical (comma-separated).")
    ] = None,
    prompt: Annotated[
        str | None, typer.Option("--prompt", help="Answer with this prompt version: name or name@version.")
    ] = None,
    concurrency: Annotated[int | None, typer.Option("--concurrency", min=1, max=64, help="Cases at a time.")] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Do not read or write the model-call cache.")] = False,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="Only the first N cases.")] = None,
    project: ProjectOption = None,
    demo: DemoOption = False,
) -> None:
    """Run a golden set through retrieval and the gateway, score it, write reports, gate on a baseline.

    Exits 3 when a metric regressed beyond --max-regression against --baseline."""
    from charter.evals.baseline import render_table
    from charter.evals.runner import EvalOptions, run_eval

    if max_regression and baseline is None:
        raise fail("--max-regression needs --baseline REPORT")
    base = Path(project) if project else Path.cwd()
    if demo:
        from charter.config import DEMO_DIR

        base = DEMO_DIR

    def here(path: Path | None) -> Path | None:
        if path is None:
            return None
        return path if path.is_absolute() or path.exists() else base / path

    options = EvalOptions(
        dataset=here(dataset),  # type: ignore[arg-type]
        retriever_config=here(retriever_config),  # type: ignore[arg-type]
        model_config=here(model_config),  # type: ignore[arg-type]
        metrics=[m.strip() for m in metrics.split(",") if m.strip()],
        report=report,
        html=html,
        baseline=baseline,
        max_regression={} if not max_regression else _pairs(max_regression),
        critical=[c.strip() for c in critical.split(",") if c.strip()] if critical else None,
        prompt=prompt,
        concurrency=concurrency,
        cache=not no_cache,
        limit=limit,
    )
    with (
        open_runtime(project, demo) as rt,
        Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console
        ) as progress,
    ):
        task = progress.add_task("evaluating", total=None)

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        result = run_eval(rt, options, advance)
    rep = result.report
    for err in rep["dataset"]["errors"]:
        console.print(f"[yellow]skipped[/] {options.dataset}:{err['line']}: {err['message']}", highlight=False)
    errors = [c for c in rep["cases"] if c["error"]]
    for c in errors[:20]:
        console.print(f"[red]case {c['id']} (line {c['line']}) failed:[/] {c['error']}", highlight=False)
    out.print(_summary_table(rep))
    totals = rep["totals"]
    out.print(
        f"{totals['cases']} cases, {totals['errors']} errors, {totals['refused']} refused, "
        f"{rep['dataset']['errors'].__len__()} invalid lines; cache {rep['cache']['hits']} hits, "
        f"{rep['cache']['misses']} misses; {rep['timing']['duration_ms'] / 1000:.2f} s",
        highlight=False,
    )
    if result.report_path:
        out.print(f"report: {result.report_path}  html: {result.html_path}", highlight=False)
    if result.comparison is not None:
        out.print(render_table(result.comparison))
        if result.regressed:
            names = ", ".join(r.metric + (" (critical)" if r.critical else "") for r in result.comparison.regressions)
            console.print(f"[bold red]regressed:[/] {names}", highlight=False)
            raise typer.Exit(EXIT_REGRESSION)


def _pairs(spec: str) -> dict[str, str]:
    from charter.exceptions import ConfigError

    pairs: dict[str, str] = {}
    for part in (p for p in spec.split(",") if p.strip()):
        key, sep, value = part.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--max-regression: {part.strip()!r} is not metric=amount (e.g. factuality=0.02)")
        pairs[key.strip()] = value.strip()
    return pairs


@app.command("compare")
def compare_cmd(
    baseline: Annotated[Path, typer.Argument(help="The baseline JSON report.")],
    current: Annotated[Path, typer.Argument(help="The JSON report to check.")],
    max_regression: Annotated[
        str | None, typer.Option("--max-regression", help="Allowed regression per metric: factuality=0.02,...")
    ] = None,
    critical: Annotated[str | None, typer.Option("--critical", help="Metrics whose regression is critical.")] = None,
) -> None:
    """Compare two reports and print the diff table; exits 3 on a regression."""
    from charter.evals.baseline import compare, parse_max_regression, render_table
    from charter.evals.runner import _read_baseline

    base, cur = _read_baseline(baseline), _read_baseline(current)
    tolerances = parse_max_regression(_pairs(max_regression) if max_regression else {})
    comparison = compare(base, cur, tolerances, [c.strip() for c in critical.split(",")] if critical else None)
    out.print(render_table(comparison))
    if comparison.regressed:
        console.print("[bold red]regressed:[/] " + ", ".join(r.metric for r in comparison.regressions), highlight=False)
        raise typer.Exit(EXIT_REGRESSION)


@app.command("validate")
def validate(report: Annotated[Path, typer.Argument(help="A JSON report to check against the schema.")]) -> None:
    """Check a report against the charter.eval-report/1 JSON schema."""
    from charter.evals.report import validate_report

    try:
        data = json.loads(report.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise fail(f"cannot read {report}: {exc}")
    problems = validate_report(data)
    if problems:
        for p in problems:
            console.print(f"  {p}", highlight=False)
        raise fail(f"{report} is not a valid charter.eval-report/1 report ({len(problems)} problems)")
    out.print(f"{report}: valid charter.eval-report/1")
