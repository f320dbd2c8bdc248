"""``charter releases``: compose, review, schedule, publish and roll back releases; mint previews
(``charter previews`` lists and revokes them)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, cast

import typer
from rich.console import Console
from rich.table import Table

from charter.cli.commands.actor import AsOption, cli_actor
from charter.cli.context import DemoOption, ProjectOption, open_runtime
from charter.cli.errors import fail

if TYPE_CHECKING:
    from charter.content.releases import Release

app = typer.Typer(no_args_is_help=True)
out = Console()
console = Console(stderr=True)


def _print(rel: Any) -> None:
    typer.echo(json.dumps(rel.to_dict(), indent=2, ensure_ascii=False))


def _items(file: Path | None, publish: list[str], unpublish: list[str]) -> list[Any]:
    from charter.content.actions.release import ItemSpec

    specs: list[ItemSpec] = []
    if file is not None:
        try:
            raw = json.loads(file.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise fail(f"cannot read items from {file}: {exc}")
        if not isinstance(raw, list) or not all(isinstance(i, dict) for i in raw):
            raise fail(f"{file} must hold a JSON list of items: {{action, entry_id?, type?, data?, revision?}}")
        allowed = {"action", "entry_id", "type", "data", "revision"}
        for n, item in enumerate(raw):
            extra = set(item) - allowed
            if extra or "action" not in item:
                raise fail(f"{file} item {n}: needs 'action' and only {', '.join(sorted(allowed))}")
            specs.append(ItemSpec(**item))
    for ref in publish:
        entry_id, _, rev = ref.partition("@")
        if rev and not rev.isdigit():
            raise fail(f"--publish {ref!r}: write ENTRY_ID or ENTRY_ID@REVISION", 2)
        specs.append(ItemSpec("update", entry_id=entry_id, revision=int(rev) if rev else None))
    specs.extend(ItemSpec("unpublish", entry_id=e) for e in unpublish)
    return specs


@app.command("list")
def list_(
    status: Annotated[str | None, typer.Option(help="Only releases in this status.")] = None,
    project: ProjectOption = None,
    demo: DemoOption = False,
) -> None:
    """List releases, newest first."""
    from charter.content.releases import STATUSES, list_releases

    if status is not None and status not in STATUSES:
        raise fail(f"unknown status {status!r}; use one of {', '.join(STATUSES)}", 2)
    with open_runtime(project, demo) as rt, rt.read() as conn:
        found = list_releases(conn, status)
    table = Table("id", "name", "status", "scheduled (UTC)", "published")
    for r in found:
        table.add_row(
            r.id,
            r.name,
            r.status,
            r.scheduled_at.isoformat() if r.scheduled_at else "",
            r.published_at.isoformat() if r.published_at else "",
        )
    out.print(table)


@app.command()
def show(release_id: str, project: ProjectOption = None, demo: DemoOption = False) -> None:
    """Print a release with its items and reviews as JSON."""
    from charter.content.releases import get_release

    with open_runtime(project, demo) as rt, rt.read() as conn:
        _print(get_release(conn, release_id))


@app.command()
def create(
    name: str,
    description: Annotated[str | None, typer.Option(help="What the release is for.")] = None,
    items: Annotated[
        Path | None, typer.Option("--items", help="A JSON list of items.", exists=True, dir_okay=False)
    ] = None,
    publish: Annotated[list[str], typer.Option("--publish", help="ENTRY_ID[@REVISION]: publish a draft.")] = [],  # noqa: B006
    unpublish: Annotated[list[str], typer.Option("--unpublish", help="ENTRY_ID: take an entry offline.")] = [],  # noqa: B006
    as_: AsOption = None,
    project: ProjectOption = None,
    demo: DemoOption = False,
) -> None:
    """Create a draft release (all items validated; nothing stored on an error)."""
    from charter.content.actions.release import create_release

    specs = _items(items, publish, unpublish)
    with open_runtime(project, demo) as rt:
        rel = create_release(rt, cli_actor(as_), name, description=description, items=specs)
    typer.echo(rel.id)
    console.print(f"created draft release {rel.name!r} with {len(rel.items)} item(s)")


def _step(verb: str, release_id: str, as_: str | None, project: Path | None, demo: bool, **kw: Any) -> None:
    """Run release verb ``verb`` (charter.content.actions.release_verbs) and say where the release stands."""
    from charter.content.actions.release_verbs import run

    with open_runtime(project, demo) as rt:
        rel = cast("Release", run(rt, cli_actor(as_), release_id, verb, **kw))  # delete has no _step
    extra = ""
    if rel.scheduled_at and rel.status == "scheduled":
        extra = f" for {rel.to_dict()['schedule']['local']} ({rel.scheduled_at.isoformat()})"
    console.print(f"release {rel.name!r} ({rel.id}) is {rel.status}{extra}")


@app.command()
def submit(release_id: str, as_: AsOption = None, project: ProjectOption = None, demo: DemoOption = False) -> None:
    """Send a release for review."""
    _step("submit", release_id, as_, project, demo)


@app.command()
def withdraw(release_id: str, as_: AsOption = None, project: ProjectOption = None, demo: DemoOption = False) -> None:
    """Take a release back to draft to change it."""
    _step("withdraw", release_id, as_, project, demo)


@app.command()
def approve(
    release_id: str,
    comment: Annotated[str | None, typer.Option(help="A note for the authors.")] = None,
    as_: AsOption = None,
    project: ProjectOption = None,
    demo: DemoOption = False,
) -> None:
    """Approve a release in review (authors may not approve their own change)."""
    _step("approve", release_id, as_, project, demo, comment=comment)


@app.command()
def reject(
    release_id: str,
    comment: Annotated[str, typer.Option(help="What to change (required).")],
    as_: AsOption = None,
    project: ProjectOption = None,
    demo: DemoOption = False,
) -> None:
    """Reject a release in review, saying why."""
    _step("reject", release_id, as_, project, demo, comment=comment)


@app.command()
def schedule(
    release_id: str,
    at: Annotated[str, typer.Option(help="ISO 8601, e.g. 2026-11-27T09:00 (local time in --tz).")],
    tz: Annotated[str, typer.Option("--tz", help="IANA time zone, e.g. Europe/Berlin.")] = "UTC",
    as_: AsOption = None,
    project: ProjectOption = None,
    demo: DemoOption = False,
) -> None:
    """Schedule an approved release; the worker publishes it on time."""
    _step("schedule", release_id, as_, project, demo, at=at, timezone=tz)


@app.command()
def unschedule(release_id: str, as_: AsOption = None, project: ProjectOption = None, demo: DemoOption = False) -> None:
    """Cancel a schedule (the release stays approved)."""
    _step("unschedule", release_id, as_, project, demo)


@app.command()
def publish(release_id: str, as_: AsOption = None, project: ProjectOption = None, demo: DemoOption = False) -> None:
    """Publish an approved release now: all items or none."""
    _step("publish", release_id, as_, project, demo)


@app.command()
def rollback(
    release_id: str,
    force: Annotated[bool, typer.Option(help="Also overwrite entries changed since.")] = False,
    message: Annotated[str | None, typer.Option(help="A note kept with the new revisions.")] = None,
    as_: AsOption = None,
    project: ProjectOption = None,
    demo: DemoOption = False,
) -> None:
    """Undo a published release as new revisions (same as `charter content rollback --release`)."""
    _step("rollback", release_id, as_, project, demo, message=message, force=force)


@app.command()
def preview(
    release_id: str,
    ttl: Annotated[int, typer.Option(help="Lifetime in seconds (at most 7 days).", min=1)] = 3600,
    as_: AsOption = None,
    project: ProjectOption = None,
    demo: DemoOption = False,
) -> None:
    """Print a preview token for a release (send it as Charter-Preview or ?preview=); list and
    revoke tokens with `charter previews list|revoke`."""
    from charter.cli.commands.previews import mint

    mint("release", release_id, ttl, as_, project, demo)
