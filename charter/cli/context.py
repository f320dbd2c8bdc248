"""Shared CLI options and how commands open a project."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:  # the CLI imports the runtime (SQLAlchemy, Alembic) only when a command opens one
    from charter.config import Settings
    from charter.runtime import Runtime

ProjectOption = Annotated[
    Path | None,
    typer.Option(
        "--project", "-p", help="Project folder (default: $CHARTER_PROJECT or the current folder).", file_okay=False
    ),
]
DemoOption = Annotated[bool, typer.Option("--demo", help="Use the bundled demo project.")]


def settings_for(project: Path | None, demo: bool = False, **overrides: object) -> Settings:
    from charter.config import load_settings

    return load_settings(project, demo=demo, **overrides)


def open_runtime(project: Path | None, demo: bool = False, **overrides: object) -> Runtime:
    from charter.runtime import Runtime

    rt = Runtime.open(settings_for(project, demo, worker=False, **overrides))
    if demo:
        from charter.demo import load_demo_content

        load_demo_content(rt)
    return rt
