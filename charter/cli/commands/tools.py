"""``charter tools``: the tool registry (list, show, diff, check). Reads ``tools/*.yaml`` of the
project; no database needed."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.syntax import Syntax
from rich.table import Table

from charter.cli.context import DemoOption, ProjectOption, settings_for
from charter.cli.errors import fail

app = typer.Typer(no_args_is_help=True)
console = Console()
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]


def _registry(project: Any, demo: bool) -> Any:
    from charter.gateway.tools.catalog import load

    return load(settings_for(project, demo).project_dir)


def _json(value: Any) -> None:
    typer.echo(json.dumps(value, indent=2, ensure_ascii=False))


@app.command("list")
def list_(project: ProjectOption = None, demo: DemoOption = False, as_json: JsonOption = False) -> None:
    """List the registered tools: latest version, risk, who may offer them."""
    from charter.gateway.tools.catalog import summary

    tools = [summary(t) for t in _registry(project, demo).tools.values()]
    if as_json:
        _json(tools)
        return
    if not tools:
        console.print("no tools (add tools/*.yaml; see docs/tools.md)")
        return
    table = Table("tool", "latest", "versions", "risk", "keys", "routes", "prompts")
    for t in tools:
        o = t["offer"]
        table.add_row(
            t["name"],
            t["latest"],
            ", ".join(t["versions"]),
            t["risk"],
            *(", ".join(o[k]) or "any" for k in ("keys", "routes", "prompts")),
        )
    console.print(table)


@app.command()
def show(
    name: Annotated[str, typer.Argument(help="The tool.")],
    version: Annotated[str | None, typer.Argument(help="One version (default: the latest).")] = None,
    openai: Annotated[
        bool, typer.Option("--openai", help="Print the OpenAI tools item that offers this version.")
    ] = False,
    project: ProjectOption = None,
    demo: DemoOption = False,
    as_json: JsonOption = False,
) -> None:
    """Show a tool: its versions with changelogs, or one version's schemas."""
    from charter.gateway.tools.catalog import describe

    registry = _registry(project, demo)
    chosen = registry.version(name, version)
    if openai:
        _json(chosen.definition())
        return
    info = describe(registry.get(name))
    if as_json:
        _json(info)
        return
    console.print(f"[bold]{info['name']}[/] ({info['risk']} risk)  {info['description']}")
    if version is None:
        table = Table("version", "changelog")
        for v in info["history"]:
            table.add_row(v["version"], v["changelog"])
        console.print(table)
    body = {"arguments": chosen.arguments, "result": chosen.result}
    console.print(f"version {chosen.version}:")
    console.print(Syntax(json.dumps(body, indent=2), "json", theme="ansi_dark", word_wrap=True))


@app.command()
def diff(
    name: Annotated[str, typer.Argument(help="The tool.")],
    old: Annotated[str, typer.Argument(help="The older version.")],
    new: Annotated[str, typer.Argument(help="The newer version.")],
    project: ProjectOption = None,
    demo: DemoOption = False,
    as_json: JsonOption = False,
) -> None:
    """Classify every change between two versions (patch, minor, major) as content types are."""
    from charter.gateway.tools.catalog import PARTS, diff_versions

    report = diff_versions(_registry(project, demo), name, old, new)
    if as_json:
        _json(report)
    else:
        console.print(
            f"{name} {old} -> {new}: needs a {report['required_bump']} version, declares a {report['declared_bump']}"
        )
        table = Table("part", "pointer", "level", "change")
        for part in PARTS:
            for c in report[part]["changes"]:
                table.add_row(part, c["pointer"] or "/", c["level"], c["message"])
        console.print(table)
    if not report["ok"]:
        raise typer.Exit(1)


@app.command()
def check(project: ProjectOption = None, demo: DemoOption = False, as_json: JsonOption = False) -> None:
    """Check every tool file, the keys and routes they name, and the semver of each version step
    (a breaking change to the arguments or the result needs a major). Exit 1 on a problem."""
    from charter.gateway.tools.catalog import check as run

    report = run(settings_for(project, demo).project_dir)
    if as_json:
        _json(report.to_dict())
    else:
        for t in report.tools:
            steps = ", ".join(f"{s['old']}->{s['new']} {s['declared_bump']}" for s in t["steps"]) or "one version"
            console.print(f"{t['name']}: {steps}")
    if not report.ok:
        for p in report.problems:
            fail(p)
        raise typer.Exit(1)
    if not as_json:
        console.print(f"ok: {len(report.tools)} tool(s)")
