"""``charter index``: check the retrieval contract, rebuild and inspect indexes, measure routing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from charter.cli.context import DemoOption, ProjectOption, open_runtime, settings_for

app = typer.Typer(no_args_is_help=True)
console = Console(stderr=True)
out = Console()


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console
    )


@app.command("check")
def check(project: ProjectOption = None, demo: DemoOption = False) -> None:
    """Validate retrieval.yaml against the project's content types (exit 1 listing every problem)."""
    from charter.retrieval.contract import load_contract
    from charter.schemas.registry import Registry

    settings = settings_for(project, demo)
    registry = Registry.load(settings.content_types_dir, tuple(settings.intents))
    contract = load_contract(Path(settings.project_dir) / "retrieval.yaml", registry)
    out.print(
        f"retrieval.yaml is valid: {len(contract.indexes)} indexes ({', '.join(contract.indexes)}), "
        f"{len(contract.intents)} intents, mode {contract.mode}",
        highlight=False,
    )


@app.command("rebuild")
def rebuild(
    no_embed: Annotated[bool, typer.Option("--no-embed", help="Skip dense vectors even when available.")] = False,
    project: ProjectOption = None,
    demo: DemoOption = False,
) -> None:
    """Re-chunk every published entry into fresh indexes (and embed them), then save them."""
    from charter.retrieval.contract import contract_path, load_contract
    from charter.retrieval.service import RetrievalService
    from charter.retrieval.store import store_for

    with open_runtime(project, demo) as rt:
        contract = load_contract(contract_path(rt), rt.registry)
        service = RetrievalService(rt, contract, store_for(rt))
        with _progress() as progress:
            task = progress.add_task("indexing", total=None)
            counts = service.reconcile(
                lambda done, total: progress.update(task, completed=done, total=total), rebuild=True
            )
            if not no_embed and service.dense_available:
                etask = progress.add_task("embedding", total=None)
                service.embed_all(lambda done, total: progress.update(etask, completed=done, total=total))
            service.flush()
    out.print(
        f"indexed {counts['indexed']} entries into {counts['chunks']} chunks"
        + ("" if service.dense_available else f"; dense: {service.dense_reason}"),
        highlight=False,
    )


@app.command("status")
def status(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    project: ProjectOption = None,
    demo: DemoOption = False,
) -> None:
    """Indexes, chunk counts, dense availability and publish-to-searchable lag per index."""
    from charter.retrieval.lifecycle import load_service

    with open_runtime(project, demo) as rt:
        info = load_service(rt, record=False).status()
    if as_json:
        out.print_json(json.dumps(info))
        return
    table = Table(title=f"Indexes (store: {info['store']}, mode: {info['mode']})")
    for col in ("index", "entries", "chunks", "vectors", "locales", "SLO", "lag p50 ms", "lag p95 ms", "breaches"):
        table.add_column(col)
    for name, i in info["indexes"].items():
        f = i["freshness"]
        table.add_row(
            name + (" (regulated)" if i["regulated"] else ""),
            str(i["entries"]),
            str(i["chunks"]),
            str(i["vectors"]),
            ", ".join(i["locales"]),
            f"{i['freshness_slo_s']:g} s",
            f"{f['p50_ms']:.1f}" if f.get("count") else "—",
            f"{f['p95_ms']:.1f}" if f.get("count") else "—",
            str(f.get("slo_breaches", 0)),
        )
    out.print(table)
    dense = info["dense"]
    out.print("dense: " + ("available" if dense["available"] else str(dense["reason"])), highlight=False)


@app.command("search")
def search(
    query: Annotated[str, typer.Argument(help="What to search for.")],
    locale: Annotated[str, typer.Option("--locale", "-l")] = "en",
    index: Annotated[list[str] | None, typer.Option("--index", "-i", help="Only these indexes (repeatable).")] = None,
    mode: Annotated[str | None, typer.Option("--mode", help="bm25, dense or hybrid (default: the contract's).")] = None,
    k: Annotated[int, typer.Option("-k", min=1, max=100)] = 5,
    route: Annotated[bool, typer.Option("--route", help="Search the indexes the question's intent allows.")] = False,
    project: ProjectOption = None,
    demo: DemoOption = False,
) -> None:
    """Show the top chunks for a query (a debugging aid; /v1/ask is what users call)."""
    from charter.exceptions import BadRequest
    from charter.retrieval.lifecycle import load_service

    if mode not in (None, "bm25", "dense", "hybrid"):
        raise BadRequest(f"--mode must be bm25, dense or hybrid, not {mode!r}")
    with open_runtime(project, demo) as rt:
        service = load_service(rt, record=False)
        indexes = index
        if route:
            decision = service.router.route(query)
            indexes = decision.indexes
            out.print(f"intent {decision.intent} ({decision.method}) -> {', '.join(indexes)}", highlight=False)
        result = service.search(query, locale, indexes, mode=mode, k=k)
    if result.degraded:
        console.print(f"[yellow]{result.degraded}[/]", highlight=False)
    table = Table(title=f"{len(result.hits)} hits ({result.mode})")
    for col in ("#", "score", "index", "entry#chunk", "heading", "text"):
        table.add_column(col)
    for hit in result.hits:
        c = hit.chunk
        table.add_row(str(hit.rank + 1), f"{hit.score:.4f}", c.index, c.key, c.heading, c.text[:100])
    out.print(table)


@app.command("routing")
def routing(
    dataset: Annotated[
        Path | None, typer.Option("--dataset", help="Score the router on a golden set's cases that name an intent.")
    ] = None,
    project: ProjectOption = None,
    demo: DemoOption = False,
) -> None:
    """Routing accuracy: leave-one-out over retrieval.yaml's labelled examples, or on a golden set."""
    from charter.retrieval.contract import load_contract
    from charter.retrieval.routing import routing_accuracy
    from charter.schemas.registry import Registry

    settings = settings_for(project, demo)
    registry = Registry.load(settings.content_types_dir, tuple(settings.intents))
    contract = load_contract(Path(settings.project_dir) / "retrieval.yaml", registry)
    cases = None
    if dataset is not None:
        from charter.evals.dataset import load_dataset

        data = load_dataset(dataset)
        cases = [(c.query, c.intent) for c in data.cases if c.intent]
    report = routing_accuracy(contract, cases)
    how = f"on {dataset}" if dataset else "leave-one-out over the labelled examples (classifier only)"
    out.print(f"routing accuracy {report.accuracy:.3f} over {report.n} questions, {how}", highlight=False)
    table = Table(title="Confusion (rows: expected, columns: routed)")
    intents = list(contract.intents)
    table.add_column("expected")
    for name in intents:
        table.add_column(name, justify="right")
    table.add_column("accuracy", justify="right")
    for truth in intents:
        row = report.confusion.get(truth, {})
        acc = report.per_intent.get(truth)
        table.add_row(truth, *(str(row.get(n, 0)) for n in intents), "—" if acc is None else f"{acc:.2f}")
    out.print(table)
