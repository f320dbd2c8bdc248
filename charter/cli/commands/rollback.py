"""``charter content rollback``: restore an entry's earlier revision, or undo a whole release."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from charter.cli.commands.actor import AsOption, cli_actor
from charter.cli.context import DemoOption, ProjectOption, open_runtime
from charter.cli.errors import fail

console = Console(stderr=True)


def rollback(
    entry_id: Annotated[str | None, typer.Argument(help="The entry to roll back.")] = None,
    to: Annotated[int | None, typer.Option("--to", help="The revision whose content to restore.", min=1)] = None,
    release: Annotated[str | None, typer.Option("--release", help="Roll back this whole release instead.")] = None,
    message: Annotated[str | None, typer.Option(help="A note kept with the new revisions.")] = None,
    publish: Annotated[
        bool | None, typer.Option("--publish/--no-publish", help="Publish the restored revision (default: if live).")
    ] = None,
    force: Annotated[bool, typer.Option(help="Release: also overwrite entries changed since.")] = False,
    as_: AsOption = None,
    project: ProjectOption = None,
    demo: DemoOption = False,
) -> None:
    """Roll back as new revisions (history is kept) and purge the caches.

    charter content rollback ENTRY_ID --to 3
    charter content rollback --release RELEASE_ID
    """
    from charter.content.actions.rollback import rollback_entry, rollback_release

    if (entry_id is None) == (release is None):
        raise fail("give an ENTRY_ID with --to N, or --release RELEASE_ID", 2)
    if entry_id is not None and to is None:
        raise fail("say which revision to restore: --to N", 2)
    actor = cli_actor(as_)
    with open_runtime(project, demo) as rt:
        if release is not None:
            rel = rollback_release(rt, actor, release, message=message, force=force)
            console.print(f"rolled back release {rel.name!r} ({rel.id}): {len(rel.items)} entries restored")
        else:
            assert entry_id is not None and to is not None
            entry = rollback_entry(rt, actor, entry_id, to, message=message, publish=publish)
            state = "published" if entry.published_revision == entry.current_revision else "draft"
            console.print(f"entry {entry.id}: revision {entry.current_revision} restores revision {to} ({state})")
