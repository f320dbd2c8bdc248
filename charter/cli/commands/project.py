"""``charter init``: write a new project skeleton."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from charter.cli.errors import fail

console = Console()


def init(
    directory: Annotated[Path, typer.Argument(help="Folder to create the project in.")] = Path("."),
    force: Annotated[bool, typer.Option(help="Write into a folder that already has a charter.toml.")] = False,
) -> None:
    """Create a project: charter.toml and content-types/ (copied from the demo), ready for git."""
    from charter.config import DEMO_DIR

    directory.mkdir(parents=True, exist_ok=True)
    if (directory / "charter.toml").exists() and not force:
        raise fail(f"{directory / 'charter.toml'} exists; pass --force to overwrite")
    written = []
    for name in (
        "charter.toml",
        "content-types",
        "prompts",
        "tools",
        "configs",
        "contracts",
        "tokens",
        "eval",
        "retrieval.yaml",
        "budgets.yaml",
    ):
        src = DEMO_DIR / name
        dst = directory / name
        if not src.exists():
            continue
        if src.is_dir():
            shutil.copytree(src, dst, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(src, dst)
        written.append(name)
    gitignore = directory / ".gitignore"
    if not gitignore.exists():
        gitignore.write_text(".charter/\nout/\n", encoding="utf-8")
    console.print(f"Created a Charter project in {directory}: {', '.join(written)}")
    console.print("Next: charter schema validate && charter serve")
