"""``charter prompts``: the prompt registry (list, show, diff, history, run, promote, rollback)."""

from __future__ import annotations

import asyncio
import getpass
import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.syntax import Syntax
from rich.table import Table

from charter.cli.context import DemoOption, ProjectOption, open_runtime
from charter.cli.errors import fail

app = typer.Typer(no_args_is_help=True)
console = Console()
err = Console(stderr=True)

LabelOption = Annotated[str, typer.Option("--label", "-l", help="The label to move.")]
ReasonOption = Annotated[str, typer.Option("--reason", "-m", help="Why (kept in the audit trail).")]
ByOption = Annotated[
    str | None, typer.Option("--by", help="Who moves the label (default: $CHARTER_ACTOR, else your login name).")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]


def _actor(by: str | None) -> Any:
    from charter.auth.roles import Actor, Role

    name = by or os.environ.get("CHARTER_ACTOR") or _login()
    return Actor(name=name, role=Role.ADMIN, kind="cli")


def _login() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (a container): still say it was the CLI
        return "cli"


def _json(value: Any) -> None:
    typer.echo(json.dumps(value, indent=2, ensure_ascii=False, default=str))


@app.command("list")
def list_(project: ProjectOption = None, demo: DemoOption = False, as_json: JsonOption = False) -> None:
    """List prompts with their versions, labels and flags."""
    from charter.gateway.prompts.catalog import list_prompts

    with open_runtime(project, demo) as rt:
        prompts = list_prompts(rt)
    if as_json:
        _json(prompts)
        return
    if not prompts:
        err.print("no prompts (add prompts/*.yaml; see docs/prompts.md)")
        return
    table = Table("prompt", "versions", "labels", "flags", "state")
    for p in prompts:
        labels = ", ".join(f"{k}={v}" for k, v in sorted(p["labels"].items())) or "-"
        state = f"[red]modified after release: {', '.join(p['modified'])}[/]" if p["modified"] else "ok"
        table.add_row(p["name"], ", ".join(p["versions"]), labels, ", ".join(p["flags"]) or "-", state)
    console.print(table)


@app.command()
def show(
    name: Annotated[str, typer.Argument(help="The prompt.")],
    version: Annotated[str | None, typer.Argument(help="One version: print its definition.")] = None,
    project: ProjectOption = None,
    demo: DemoOption = False,
    as_json: JsonOption = False,
) -> None:
    """Show a prompt: versions with changelogs, labels, flags and label history."""
    from charter.gateway.prompts.catalog import describe_prompt, registry, version_yaml

    with open_runtime(project, demo) as rt:
        info = describe_prompt(rt, name)
        source = version_yaml(registry(rt).get(name), version) if version else None
    if as_json:
        _json(next(v for v in info["versions"] if v["version"] == version) if version else info)
        return
    console.print(f"[bold]{info['name']}[/]  {info['description']}  ({info['file']})")
    if version and source is not None:
        v = next(v for v in info["versions"] if v["version"] == version)
        state = "released" if v["released"] else "not released"
        if v["modified_since_release"]:
            state = "[red]released, but the file changed since (it will not run)[/]"
        console.print(f"version {version}: {state}; labels: {', '.join(v['labels']) or '-'}")
        console.print(Syntax(source, "yaml", theme="ansi_dark", word_wrap=True))
        return
    table = Table("version", "route", "output", "labels", "released", "changelog")
    for v in info["versions"]:
        released = "yes" if v["released"] else "no"
        if v["modified_since_release"]:
            released = "[red]modified[/]"
        output = v["output"]["schema"] if v["output"] else "-"
        table.add_row(v["version"], v["route"], output, ", ".join(v["labels"]) or "-", released, v["changelog"])
    console.print(table)
    for f in info["flags"]:
        conditions = [
            f"{f['percentage']:g}%" if f["percentage"] is not None else "",
            f"locales {', '.join(f['locales'])}" if f["locales"] else "",
            f"markets {', '.join(f['markets'])}" if f["markets"] else "",
            f"cohort of {f['cohort_size']}" if f["cohort_size"] else "",
        ]
        console.print(f"flag {f['name']}: serves {f['serve']} to {'; '.join(c for c in conditions if c) or 'everyone'}")
    _history_table(info["history"][-10:])


def _history_table(moves: list[dict[str, Any]]) -> None:
    if not moves:
        console.print("no label moves yet")
        return
    table = Table("at", "label", "action", "from", "to", "by", "reason")
    for m in moves:
        table.add_row(
            str(m["at"])[:19],
            m["label"],
            m["action"],
            m["from_version"] or "-",
            m["to_version"],
            m["actor"],
            m["reason"],
        )
    console.print(table)


@app.command()
def history(
    name: Annotated[str, typer.Argument(help="The prompt.")],
    label: Annotated[str | None, typer.Option("--label", "-l", help="Only this label.")] = None,
    project: ProjectOption = None,
    demo: DemoOption = False,
    as_json: JsonOption = False,
) -> None:
    """Every label move of a prompt: who, when, why, and the eval report that allowed it."""
    from charter.gateway.prompts.catalog import describe_prompt

    with open_runtime(project, demo) as rt:
        moves = [m for m in describe_prompt(rt, name)["history"] if label is None or m["label"] == label]
    if as_json:
        _json(moves)
    else:
        _history_table(moves)


@app.command()
def diff(
    name: Annotated[str, typer.Argument(help="The prompt.")],
    old: Annotated[str, typer.Argument(help="The older version.")],
    new: Annotated[str, typer.Argument(help="The newer version.")],
    project: ProjectOption = None,
    demo: DemoOption = False,
) -> None:
    """Show what changed between two versions (a unified diff of their definitions)."""
    from charter.gateway.prompts.catalog import diff_versions

    with open_runtime(project, demo) as rt:
        text = diff_versions(rt, name, old, new)
    if not text:
        err.print(f"{name}@{old} and {name}@{new} are the same")
        return
    if sys.stdout.isatty():
        console.print(Syntax(text, "diff", theme="ansi_dark"))
    else:
        typer.echo(text, nl=False)


@app.command()
def promote(
    name: Annotated[str, typer.Argument(help="The prompt.")],
    version: Annotated[str, typer.Argument(help="The version to serve.")],
    report: Annotated[
        Path, typer.Option("--report", "-r", help="Eval report (charter.eval-report/1 JSON).", dir_okay=False)
    ],
    reason: ReasonOption,
    label: LabelOption = "production",
    by: ByOption = None,
    project: ProjectOption = None,
    demo: DemoOption = False,
) -> None:
    """Point a label at a version if the eval report meets the version's thresholds."""
    from charter.gateway.prompts.catalog import promote_prompt

    try:
        raw = report.read_bytes()
    except OSError as exc:
        raise fail(f"cannot read the eval report {report}: {exc.strerror}") from None
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise fail(f"{report} is not JSON: {exc}") from None
    with open_runtime(project, demo) as rt:
        move = promote_prompt(rt, _actor(by), name, version, label, reason=reason, report=data, report_bytes=raw)
    was = f" (was {move['from_version']})" if move["from_version"] else ""
    console.print(f"{name}: {label} -> {version}{was}; report {move['report_sha256'][:12]}")


@app.command()
def rollback(
    name: Annotated[str, typer.Argument(help="The prompt.")],
    reason: ReasonOption,
    label: LabelOption = "production",
    by: ByOption = None,
    project: ProjectOption = None,
    demo: DemoOption = False,
) -> None:
    """Move a label back to the version it served before its latest promotion."""
    from charter.gateway.prompts.catalog import rollback_prompt

    with open_runtime(project, demo) as rt:
        move = rollback_prompt(rt, _actor(by), name, label, reason=reason)
    console.print(f"{name}: {label} -> {move['to_version']} (was {move['from_version']})")


@app.command()
def run(
    name: Annotated[str, typer.Argument(help="The prompt.")],
    variables: Annotated[
        str, typer.Option("--vars", help="Variables as a JSON object, or @FILE to read them from a file.")
    ] = "{}",
    version: Annotated[str | None, typer.Option(help="Run this exact version.")] = None,
    label: Annotated[str | None, typer.Option(help="Run the version this label serves.")] = None,
    no_draft: Annotated[bool, typer.Option("--no-draft", help="Do not save a draft entry.")] = False,
    project: ProjectOption = None,
    demo: DemoOption = False,
) -> None:
    """Run a prompt once and print the result as JSON (drafts are saved as the CLI user)."""
    from charter.gateway import get_gateway
    from charter.gateway.prompts.run import run_prompt

    try:
        text = Path(variables[1:]).read_text(encoding="utf-8") if variables.startswith("@") else variables
        values = json.loads(text)
    except (OSError, ValueError) as exc:
        raise fail(f"--vars: {exc}") from None
    if not isinstance(values, dict):
        raise fail("--vars must be a JSON object")
    with open_runtime(project, demo) as rt:
        gw = get_gateway(rt)

        async def go() -> dict[str, Any]:
            try:
                return await run_prompt(
                    gw,
                    name,
                    values,
                    version=version,
                    label=label,
                    save_draft=False if no_draft else None,
                    actor=_actor(None),
                )
            finally:
                await gw.aclose()

        result = asyncio.run(go())
    _json(result)
