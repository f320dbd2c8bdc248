"""Run the real root CLI in-process and return its exit code."""

from __future__ import annotations

from charter.cli.errors import run_cli
from charter.cli.main import _build


def invoke(argv: list[str]) -> int:
    try:
        run_cli(_build(), argv)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 1
    return 0
