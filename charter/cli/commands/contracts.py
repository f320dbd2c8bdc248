"""``charter contracts check | verify``: consumer-driven contracts (``contracts/*.yaml``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from charter.cli.context import DemoOption, ProjectOption, settings_for
from charter.cli.errors import fail

if TYPE_CHECKING:
    from charter.contracts import Contract, ContractReport

app = typer.Typer(no_args_is_help=True)
console = Console()

ContractsOption = Annotated[
    Path | None, typer.Option("--contracts", help="Contract folder or file (default: the project's contracts/).")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the report as JSON.")]


def _load(settings_dir: Path, target: Path | None) -> list[Contract]:
    from charter.contracts import load_contract, load_contracts

    path = target or settings_dir / "contracts"
    if path.is_file():
        return [load_contract(path)]
    if not path.exists():
        raise fail(f"--contracts: {f'{path} does not exist'}", 2)
    return load_contracts(path)


def _print(report: ContractReport, as_json: bool) -> None:
    if as_json:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        console.print(
            f"{len(report.contracts)} contract file(s), {report.checked} check(s), {len(report.failures)} failure(s)",
            highlight=False,
        )
        for f in report.failures:
            console.print(f"  [red]✗[/] {f.describe()}", highlight=False)
        console.print("[green]contracts hold[/]" if report.ok else "[bold red]contracts broken[/]")
    if not report.ok:
        raise typer.Exit(1)


@app.command()
def check(
    contracts: ContractsOption = None,
    project: ProjectOption = None,
    demo: DemoOption = False,
    as_json: JsonOption = False,
) -> None:
    """Verify contracts statically against the content types: is every path guaranteed (required
    all the way down, in every locale) and of the stated type, and does the version range match?"""
    from charter.contracts import check_contracts
    from charter.schemas.compat.check import pinned_schemas, registry_history
    from charter.schemas.registry import Registry

    settings = settings_for(project, demo)
    found = _load(settings.project_dir, contracts)
    registry = Registry.load(settings.content_types_dir, tuple(settings.intents))
    # Contracts pinning an older major are checked against its last release in the registry.
    _print(check_contracts(found, registry, pinned=pinned_schemas(registry_history(settings))), as_json)


@app.command()
def verify(
    provider: Annotated[
        str, typer.Option("--provider", help="Base URL of a running Charter, e.g. http://127.0.0.1:8000.")
    ],
    contracts: ContractsOption = None,
    project: ProjectOption = None,
    demo: DemoOption = False,
    max_entries: Annotated[
        int | None, typer.Option("--max-entries", help="Check at most N entries per endpoint.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Verify contracts against a running provider: every published entry of each endpoint, in
    every locale, reporting each consumer, entry, locale and field that fails."""
    from charter import egress
    from charter.contracts import verify_contracts
    from charter.schemas.registry import Registry

    if not provider.startswith(("http://", "https://")):
        raise fail(f"--provider: {'must be an http(s) URL'}", 2)
    settings = settings_for(project, demo)
    found = _load(settings.project_dir, contracts)
    registry = None
    if settings.content_types_dir.is_dir():
        registry = Registry.load(settings.content_types_dir, tuple(settings.intents))
    report = verify_contracts(
        found,
        provider,
        registry=registry,
        max_entries=max_entries,
        intents=tuple(settings.intents),
        policy=egress.policy_for(settings).trusting(provider),
    )
    _print(report, as_json)
