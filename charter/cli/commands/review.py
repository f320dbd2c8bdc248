"""``charter review list|show|claim|label|export|check``: the human review queue, the same
actions as ``/v1/manage/review`` (:mod:`charter.review.queue`, docs/review.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from charter.cli.commands.actor import AsOption, cli_actor
from charter.cli.context import DemoOption, ProjectOption, open_runtime
from charter.cli.errors import fail

app = typer.Typer(no_args_is_help=True)
console = Console()
err = Console(stderr=True)
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]


def _json(value: Any) -> None:
    typer.echo(json.dumps(value, indent=2, ensure_ascii=False, default=str))


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f}{unit}"
    return f"{seconds:.0f}s"


@app.command("list")
def list_(
    status: Annotated[str, typer.Option(help="pending, reviewed or all.")] = "pending",
    reason: Annotated[str | None, typer.Option(help="Why items were queued (e.g. refusal, sampled).")] = None,
    intent: Annotated[str | None, typer.Option(help="Retrieval intent.")] = None,
    prompt: Annotated[str | None, typer.Option(help="Prompt (retrieval.answer for /v1/ask).")] = None,
    label: Annotated[str | None, typer.Option(help="Reviewed items with this label.")] = None,
    limit: Annotated[int, typer.Option(help="Items to show (1-500).")] = 50,
    project: ProjectOption = None,
    demo: DemoOption = False,
    as_json: JsonOption = False,
) -> None:
    """The queue, oldest first, with its backlog and the age of the oldest pending item."""
    from charter.review.queue import ItemFilter, list_items, stats

    flt = ItemFilter(None if status == "all" else status, reason, intent, prompt, label)
    with open_runtime(project, demo) as rt:
        items = list_items(rt, cli_actor(None), flt, limit)
        figures = stats(rt)
    if as_json:
        _json({"data": items, "stats": figures})
        return
    table = Table("id", "age", "source", "reasons", "intent/prompt", "status", "held by", "question")
    for i in items:
        table.add_row(
            i["id"][:8],
            _age(i["age_seconds"]),
            i["source"],
            ", ".join(i["reasons"]),
            i["intent"] or f"{i['prompt'] or '-'}@{i['prompt_version'] or '-'}",
            i["label"] or i["status"],
            i["claimed_by"] or "",
            (i["question"] or "")[:60],
        )
    console.print(table)
    console.print(
        f"backlog {figures['backlog']}, oldest pending {_age(figures['oldest_pending_age_seconds'])}, "
        f"reviewed {figures['reviewed']}"
        + (f" ({figures['reviewed_share']:.0%} of all queued)" if figures["reviewed_share"] is not None else "")
    )


def _resolve(rt: Any, item_id: str) -> str:
    """A full id from a unique prefix of at least 8 characters (as ``list`` prints them)."""
    import sqlalchemy as sa

    from charter.review.tables import review_items

    if len(item_id) >= 36 or len(item_id) < 8:
        return item_id
    with rt.read() as conn:
        found = conn.execute(
            sa.select(review_items.c.id).where(review_items.c.id.startswith(item_id, autoescape=True)).limit(2)
        ).all()
    return found[0].id if len(found) == 1 else item_id


@app.command()
def show(item_id: str, project: ProjectOption = None, demo: DemoOption = False, as_json: JsonOption = False) -> None:
    """One item: question, retrieved chunks, answer, citations, prompt version, model, tool calls."""
    from charter.review.queue import get_item

    with open_runtime(project, demo) as rt:
        item = get_item(rt, cli_actor(None), _resolve(rt, item_id))
    if as_json:
        _json(item)
        return
    console.print(
        f"[bold]{item['id']}[/] {item['status']} ({', '.join(item['reasons'])}), age {_age(item['age_seconds'])}"
    )
    console.print(f"prompt {item['prompt']}@{item['prompt_version']}, model {item['model']}, route {item['route']}")
    if item["intent"]:
        console.print(f"intent {item['intent']}, indexes {', '.join(item['indexes'])}, evidence {item['evidence']}")
    console.print(f"[bold]question[/] {item['question']}")
    for c in item["chunks"]:
        console.print(f"  [{c.get('source', '')}] {c.get('id', '')}: {str(c.get('text', ''))[:200]}")
    refused = f" (refused: {item['refusal_reason']})" if item["refused"] else ""
    console.print(f"[bold]answer[/]{refused} {item['answer']}")
    for c in item["citations"]:
        console.print(f"  cites {c.get('source')} {c.get('entry_id')}#{c.get('chunk')} ({c.get('index')})")
    for t in item["tool_calls"]:
        console.print(f"  tool call {t.get('name')} {json.dumps(t.get('arguments', ''))[:200]}")
    if item["label"]:
        console.print(f"[bold]label[/] {item['label']} by {item['reviewed_by']}: {item['comment'] or ''}")
    elif item["claimed_by"]:
        console.print(f"held by {item['claimed_by']} until {item['claimed_until']}")


@app.command()
def claim(item_id: str, as_: AsOption = None, project: ProjectOption = None, demo: DemoOption = False) -> None:
    """Hold an item for the policy's lease, so nobody else labels it meanwhile."""
    from charter.review.queue import claim as do_claim

    with open_runtime(project, demo) as rt:
        item = do_claim(rt, cli_actor(as_), _resolve(rt, item_id))
    err.print(f"review item {item['id']} is yours until {item['claimed_until']}")


@app.command()
def label(
    item_id: str,
    value: Annotated[str, typer.Argument(help="correct, incorrect, should_have_refused, citation_wrong or unsafe.")],
    comment: Annotated[str | None, typer.Option(help="Why (kept with the label).")] = None,
    fact: Annotated[list[str], typer.Option("--fact", help="What a correct answer states (repeatable).")] = [],  # noqa: B006
    version: Annotated[int | None, typer.Option(help="The version you read; a newer one is refused.")] = None,
    as_: AsOption = None,
    project: ProjectOption = None,
    demo: DemoOption = False,
) -> None:
    """Label an item (final). Refused when it was already labelled or another reviewer holds it."""
    from charter.review.queue import label as do_label

    with open_runtime(project, demo) as rt:
        item = do_label(
            rt, cli_actor(as_), _resolve(rt, item_id), value, comment=comment, facts=fact or None, version=version
        )
    err.print(f"review item {item['id']} labelled {item['label']} by {item['reviewed_by']}")


@app.command()
def export(
    golden: Annotated[Path, typer.Option("--golden", help="Write golden JSONL here (charter eval run reads it).")],
    label: Annotated[list[str], typer.Option("--label", help="Only items with this label (repeatable).")] = [],  # noqa: B006
    project: ProjectOption = None,
    demo: DemoOption = False,
) -> None:
    """Reviewed items as golden eval cases (expected refusal, expected facts, relevant documents)."""
    from charter.review.export import collect, write_jsonl
    from charter.review.queue import LABELS

    bad = sorted(set(label) - set(LABELS))
    if bad:
        raise fail(f"--label {', '.join(bad)}: a label is one of {', '.join(LABELS)}", 2)
    with open_runtime(project, demo) as rt:
        found = collect(rt, cli_actor(None), labels=tuple(label))
    write_jsonl(found.rows, golden)
    err.print(f"wrote {len(found.rows)} golden case(s) to {golden}")
    for s in found.skipped:
        err.print(f"skipped {s['id']}: {s['why']}")


@app.command()
def check(project: ProjectOption = None, demo: DemoOption = False) -> None:
    """Validate review.yaml against the project's intents, prompts, routes and tools."""
    from charter.review.policy import load_policy

    with open_runtime(project, demo) as rt:
        policy = load_policy(rt)
    where = policy.path or "no review.yaml (nothing sampled, every always-rule on)"
    rates = ", ".join(f"{d}.{n}={r}" for d, table in policy.rates.items() for n, r in table.items()) or "none"
    err.print(f"{where}: default rate {policy.default}, rates {rates}, lease {policy.lease_seconds:.0f}s")
