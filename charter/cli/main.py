"""``charter``: the root command. Each domain's commands live in ``charter/cli/commands/<domain>.py``
and are imported only when their group runs, so ``charter --help`` stays fast."""

from __future__ import annotations

import importlib
import sys

import typer

from charter.cli.errors import run_cli

app = typer.Typer(
    name="charter",
    help="Charter: contract-first content and AI platform.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

#: (group name, module, help). Each module defines ``app: typer.Typer``.
GROUPS: list[tuple[str, str, str]] = [
    ("schema", "charter.cli.commands.schema", "Content types: validate, diff, check."),
    ("content", "charter.cli.commands.content", "Entries: import, export, rollback."),
    ("tokens", "charter.cli.commands.tokens", "API tokens (create, list, revoke) and design tokens."),
    ("contracts", "charter.cli.commands.contracts", "Consumer-driven contracts: check, verify."),
    ("prompts", "charter.cli.commands.prompts", "Prompt registry: list, show, diff, promote, rollback."),
    ("eval", "charter.cli.commands.evals", "Evaluation harness: run, compare."),
    ("index", "charter.cli.commands.index", "Retrieval indexes: rebuild, status."),
    ("users", "charter.cli.commands.users", "Web admin users: create, list, set-role, set-password, disable."),
    ("metrics", "charter.cli.commands.metrics", "Maintainability metrics and DORA: report, series, list."),
    ("deploy", "charter.cli.commands.deploy", "Record deployments and incidents (DORA inputs)."),
    ("budgets", "charter.cli.commands.budgets", "Performance budgets: check, validate."),
    ("releases", "charter.cli.commands.releases", "Releases: create, review, schedule, publish, roll back, preview."),
    ("webhooks", "charter.cli.commands.webhooks", "Webhook subscriptions, the delivery log, replay."),
]

#: Commands added to another module's group: (group name, module, function name).
SUBCOMMANDS: list[tuple[str, str, str]] = [
    ("content", "charter.cli.commands.rollback", "rollback"),
]

#: Top-level commands: (module, function name).
COMMANDS: list[tuple[str, str]] = [
    ("charter.cli.commands.project", "init"),
    ("charter.cli.commands.serve", "serve"),
    ("charter.cli.commands.ci", "ci"),
    ("charter.cli.commands.worker", "worker"),
]


def _build() -> typer.Typer:
    for module, func in COMMANDS:
        app.command()(getattr(importlib.import_module(module), func))
    groups = {name: importlib.import_module(module).app for name, module, _ in GROUPS}
    for group, module, func in SUBCOMMANDS:
        groups[group].command()(getattr(importlib.import_module(module), func))
    for name, _module, help_text in GROUPS:
        app.add_typer(groups[name], name=name, help=help_text)
    return app


def main() -> None:
    run_cli(_build(), sys.argv[1:])
