"""``charter init``: write a new project skeleton."""

from __future__ import annotations

import re
import secrets
import shutil
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from charter.cli.errors import fail

console = Console()

#: Copied from the demo as a starting point to edit: the content models, prompts, tools, model routes,
#: contracts, design tokens, golden set, retrieval and budgets. Not its content, nor its charter.toml.
TEMPLATE_PARTS = (
    "content-types",
    "prompts",
    "tools",
    "configs",
    "contracts",
    "tokens",
    "eval",
    "retrieval.yaml",
    "budgets.yaml",
)
#: What git must never see: the data folder, build output, the CI summaries and the secrets file.
GITIGNORE = (".charter/", "out/", "charter-ci.json", "charter-ci.md", "charter.secret.toml")

CHARTER_TOML = """\
# {name}: a Charter project. Every setting: docs/configuration.md; the secret key is in
# charter.secret.toml (git-ignored, written by `charter init`) or $CHARTER_SECRET_KEY.
[charter]
name = "{name}"
cache = "memory"
# database_url = "postgresql://user@host/{slug}"   # default: SQLite in .charter/charter.db

# Approval policies (docs/releases.md): a release needs one publisher's approval. To gate a
# content type (direct publishing refused, N approvals by non-authors), add for example:
#   [charter.workflow.types.legal-text]
#   approvals = 2
[charter.workflow]
release_approvals = 1
approver_role = "publisher"
"""

SECRET_TOML = """\
# Secrets of this checkout: never commit this file (it is in .gitignore). Rotating secret_key
# signs everyone out of the admin and invalidates every preview token.
[charter]
secret_key = "{key}"
"""


def init(
    directory: Annotated[
        Path, typer.Argument(help="Folder to create the project in (its name names the project).")
    ] = Path("."),
    force: Annotated[bool, typer.Option(help="Write into a folder that already has a charter.toml.")] = False,
) -> None:
    """Create a project: its own charter.toml, a random secret key in the git-ignored
    charter.secret.toml, and content types, prompts, tokens … copied from the demo to edit."""
    from charter.config import DEMO_DIR, SECRET_FILE

    directory.mkdir(parents=True, exist_ok=True)
    if (directory / "charter.toml").exists() and not force:
        raise fail(f"{directory / 'charter.toml'} exists; pass --force to overwrite")
    name = directory.resolve().name
    written = ["charter.toml"]
    (directory / "charter.toml").write_text(
        CHARTER_TOML.format(name=name.replace('"', ""), slug=re.sub(r"[^a-z0-9_]+", "_", name.lower())),
        encoding="utf-8",
    )
    secret = directory / SECRET_FILE
    if not secret.exists():  # --force keeps the key: rotating it would sign everyone out
        secret.write_text(SECRET_TOML.format(key=secrets.token_urlsafe(32)), encoding="utf-8")
        secret.chmod(0o600)
        written.append(SECRET_FILE)
    for part in TEMPLATE_PARTS:
        src, dst = DEMO_DIR / part, directory / part
        if src.is_dir():
            shutil.copytree(src, dst, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__"))
        elif src.exists():
            shutil.copy2(src, dst)
        else:
            continue
        written.append(part)
    gitignore = directory / ".gitignore"
    lines = gitignore.read_text(encoding="utf-8").splitlines() if gitignore.exists() else []
    missing = [line for line in GITIGNORE if line not in lines]
    if missing:
        gitignore.write_text("\n".join([*lines, *missing]) + "\n", encoding="utf-8")
        written.append(".gitignore")
    console.print(f"Created a Charter project, {name!r}, in {directory}: {', '.join(written)}", highlight=False)
    console.print(f"Next: cd {directory} && charter schema validate && charter serve", highlight=False)
