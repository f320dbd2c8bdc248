"""``charter audit llm``: the gateway's audit records (list with filters, show one call end to end),
the same action as ``GET /v1/manage/llm-calls`` (:mod:`charter.gateway.calls`)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from charter.cli.context import DemoOption, ProjectOption, open_runtime

app = typer.Typer(no_args_is_help=True)
llm = typer.Typer(no_args_is_help=True, help="LLM calls through the gateway: list, show.")
app.add_typer(llm, name="llm")
console = Console()
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]


def _json(value: Any) -> None:
    typer.echo(json.dumps(value, indent=2, ensure_ascii=False, default=str))


@llm.command("list")
def list_(
    since: Annotated[datetime | None, typer.Option(help="At or after (ISO 8601).")] = None,
    until: Annotated[datetime | None, typer.Option(help="Before (ISO 8601).")] = None,
    key: Annotated[str | None, typer.Option(help="Gateway key name.")] = None,
    route: Annotated[str | None, typer.Option(help="Route.")] = None,
    model: Annotated[str | None, typer.Option(help="Model that answered.")] = None,
    prompt: Annotated[str | None, typer.Option(help="Registry prompt.")] = None,
    prompt_version: Annotated[str | None, typer.Option("--prompt-version", help="Its version.")] = None,
    tool: Annotated[str | None, typer.Option(help="A tool offered or called.")] = None,
    status: Annotated[str | None, typer.Option(help="ok, error or refused.")] = None,
    risk: Annotated[str | None, typer.Option(help="low, medium or high.")] = None,
    limit: Annotated[int, typer.Option(help="Records per page (1-500).")] = 50,
    cursor: Annotated[str | None, typer.Option(help="next_cursor of the previous page.")] = None,
    project: ProjectOption = None,
    demo: DemoOption = False,
    as_json: JsonOption = False,
) -> None:
    """List LLM calls, newest first."""
    from charter.gateway.calls import CallFilter, list_calls

    where = CallFilter(since, until, key, route, model, prompt, prompt_version, tool, status, risk)
    rt = open_runtime(project, demo)
    try:
        with rt.read() as conn:
            page = list_calls(conn, where, limit=limit, cursor=cursor)
    finally:
        rt.close()
    if as_json:
        _json(page)
        return
    table = Table("at", "id", "key", "route", "model", "prompt", "status", "risk", "tools", "ms", "USD")
    for c in page["data"]:
        tools = ", ".join(f"{t['name']}@{t['version'] or '?'}" for t in c["tools"] or []) or "-"
        prompt_name = f"{c['prompt']}@{c['prompt_version']}" if c["prompt"] else "-"
        table.add_row(
            c["at"][:19],
            c["id"],
            c["key_name"],
            c["route"],
            c["model"] or "-",
            prompt_name,
            c["status"],
            c["risk"] or "-",
            tools,
            f"{c['latency_ms']:.1f}",
            f"{c['cost']:.6f}",
        )
    console.print(table)
    if page["next_cursor"]:
        console.print(f"more: --cursor {page['next_cursor']}")


@llm.command()
def show(
    call_id: Annotated[str, typer.Argument(help="The record id (the audit id an error names).")],
    project: ProjectOption = None,
    demo: DemoOption = False,
) -> None:
    """One call end to end, as JSON: messages, offered tools, tool calls and results, sources, cost."""
    from charter.gateway.calls import get_call

    rt = open_runtime(project, demo)
    try:
        with rt.read() as conn:
            _json(get_call(conn, call_id))
    finally:
        rt.close()
