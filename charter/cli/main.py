"""``charter``: the root command. Each domain's commands live in ``charter/cli/commands/<domain>.py``
and are imported only when their group runs, so ``charter --help`` stays fast.

Typer is imported inside :func:`_build`: commands listed in :data:`FAST_COMMANDS` are dispatched
before it, because they must start in tens of milliseconds (``charter tokens build`` is
benchmarked as a whole process against Style Dictionary, see ``bench/tokens``).
"""

from __future__ import annotations

import importlib
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import typer

#: (group name, module, help). Each module defines ``app: typer.Typer``.
GROUPS: list[tuple[str, str, str]] = [
    ("schema", "charter.cli.commands.schema", "Content types: validate, diff, check."),
    ("content", "charter.cli.commands.content", "Entries: import, export, rollback."),
    ("tokens", "charter.cli.commands.tokens", "API tokens (create, list, revoke) and design tokens."),
    ("contracts", "charter.cli.commands.contracts", "Consumer-driven contracts: check, verify."),
    ("prompts", "charter.cli.commands.prompts", "Prompt registry: list, show, diff, promote, rollback."),
    ("tools", "charter.cli.commands.tools", "Tool registry: list, show, diff, check."),
    ("audit", "charter.cli.commands.audit", "Audit records: charter audit llm list|show (gateway calls)."),
    ("eval", "charter.cli.commands.evals", "Evaluation harness: run, compare."),
    ("index", "charter.cli.commands.index", "Retrieval indexes: rebuild, status."),
    ("users", "charter.cli.commands.users", "Web admin users: create, list, set-role, set-password, disable."),
    ("metrics", "charter.cli.commands.metrics", "Maintainability metrics and DORA: report, series, list."),
    ("deploy", "charter.cli.commands.deploy", "Record deployments and incidents (DORA inputs)."),
    ("budgets", "charter.cli.commands.budgets", "Performance budgets: check, validate."),
    ("releases", "charter.cli.commands.releases", "Releases: create, review, schedule, publish, roll back, preview."),
    ("previews", "charter.cli.commands.previews", "Preview tokens: create, list, revoke."),
    ("webhooks", "charter.cli.commands.webhooks", "Webhook subscriptions, the delivery log, replay."),
    ("types", "charter.cli.commands.types", "Front-end types generated from content types (TypeScript)."),
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
    ("charter.cli.commands.doctor", "doctor"),
]


#: (group, command) -> ``module:function``; the function takes the remaining argv and returns the
#: exit code. Such a command must also be reachable through its Typer group (for ``--help``).
FAST_COMMANDS: dict[tuple[str, str], str] = {
    ("tokens", name): "charter.cli.commands.design_tokens:main" for name in ("build", "validate", "diff", "divergence")
}


def _build() -> typer.Typer:
    import typer

    app = typer.Typer(
        name="charter",
        help="Charter: contract-first content and AI platform.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )
    for module, func in COMMANDS:
        app.command()(getattr(importlib.import_module(module), func))
    groups = {name: importlib.import_module(module).app for name, module, _ in GROUPS}
    for group, module, func in SUBCOMMANDS:
        groups[group].command()(getattr(importlib.import_module(module), func))
    for name, _module, help_text in GROUPS:
        app.add_typer(groups[name], name=name, help=help_text)
    return app


def main() -> None:
    argv = sys.argv[1:]
    fast = FAST_COMMANDS.get((argv[0], argv[1])) if len(argv) >= 2 else None
    if fast is not None:
        module, func = fast.split(":")
        sys.exit(getattr(importlib.import_module(module), func)(argv[1:]))
    from charter.cli.errors import run_cli

    run_cli(_build(), argv)
