"""``charter``: the root command. Each domain's commands live in ``charter/cli/commands/<domain>.py``
and are registered on the ``register_cli_commands`` hook (built-ins: :mod:`charter.cli.plugin`);
command modules import their domain's code only when a command runs, so ``charter --help`` stays
fast.

Typer is imported inside :func:`_build`: commands listed in :data:`FAST_COMMANDS` are dispatched
before it, because they must start in tens of milliseconds (``charter tokens build`` is
benchmarked as a whole process against Style Dictionary, see ``bench/tokens``).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import typer


def _design_tokens(argv: list[str]) -> int:
    from charter.cli.commands.design_tokens import main

    return main(argv)


#: (group, command) -> ``function(argv) -> exit code``, run before Typer and the plugins load.
#: Such a command must also be reachable through its Typer group (for ``--help``).
FAST_COMMANDS: dict[tuple[str, str], Callable[[list[str]], int]] = {
    ("tokens", name): _design_tokens for name in ("build", "validate", "diff", "divergence")
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
    from charter.plugins import collect, make_plugin_manager

    for name, target in collect(make_plugin_manager(), "register_cli_commands").items():
        if isinstance(target, typer.Typer):
            app.add_typer(target, name=name)
        else:
            app.command(name)(target)
    return app


def main() -> None:
    argv = sys.argv[1:]
    fast = FAST_COMMANDS.get((argv[0], argv[1])) if len(argv) >= 2 else None
    if fast is not None:
        sys.exit(fast(argv[1:]))
    from charter.cli.errors import run_cli

    run_cli(_build(), argv)
