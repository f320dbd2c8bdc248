"""``charter webhooks``: subscriptions, the delivery log and replay."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from charter.cli.commands.actor import AsOption, cli_actor
from charter.cli.context import DemoOption, ProjectOption, open_runtime
from charter.cli.errors import fail

app = typer.Typer(no_args_is_help=True)
out = Console()
console = Console(stderr=True)


@app.command("list")
def list_(project: ProjectOption = None, demo: DemoOption = False) -> None:
    """List subscriptions."""
    from charter.webhooks.subscriptions import list_subscriptions

    with open_runtime(project, demo) as rt, rt.read() as conn:
        subs = list_subscriptions(conn)
    table = Table("id", "url", "events", "active")
    for s in subs:
        table.add_row(s.id, s.url, ", ".join(s.event_types), "yes" if s.active else f"no ({s.disabled_reason})")
    out.print(table)


@app.command()
def create(
    url: str,
    event: Annotated[list[str], typer.Option("--event", "-e", help="Event type, 'x.*' or '*' (repeatable).")],
    description: Annotated[str | None, typer.Option(help="What the endpoint is.")] = None,
    as_: AsOption = None,
    project: ProjectOption = None,
    demo: DemoOption = False,
) -> None:
    """Subscribe an endpoint; prints the signing secret once."""
    from charter.webhooks.subscriptions import create_subscription

    with open_runtime(project, demo) as rt:
        sub = create_subscription(rt, cli_actor(as_), url, event, description=description)
    typer.echo(sub.secret)
    console.print(f"subscription {sub.id} for {', '.join(sub.event_types)}; the secret above is shown only now")


@app.command()
def delete(subscription_id: str, as_: AsOption = None, project: ProjectOption = None, demo: DemoOption = False) -> None:
    """Remove a subscription and its delivery log."""
    from charter.webhooks.subscriptions import delete_subscription

    with open_runtime(project, demo) as rt:
        delete_subscription(rt, cli_actor(as_), subscription_id)
    console.print(f"deleted subscription {subscription_id}")


@app.command()
def deliveries(
    subscription_id: str,
    status: Annotated[str | None, typer.Option(help="pending, delivering, succeeded or dead.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 50,
    project: ProjectOption = None,
    demo: DemoOption = False,
) -> None:
    """The delivery log of a subscription, newest first."""
    from charter.webhooks.delivery import list_deliveries
    from charter.webhooks.subscriptions import get_subscription

    with open_runtime(project, demo) as rt, rt.read() as conn:
        get_subscription(conn, subscription_id)
        rows = list_deliveries(conn, subscription_id, status, limit)
    table = Table("delivery (webhook-id)", "event", "status", "attempts", "last", "created")
    for d in rows:
        last = str(d["last_status_code"] or d["last_error"] or "")
        table.add_row(
            d["id"], f"{d['event_type']} #{d['event_id']}", d["status"], str(d["attempts"]), last, d["created_at"]
        )
    out.print(table)


@app.command()
def show(delivery_id: str, project: ProjectOption = None, demo: DemoOption = False) -> None:
    """One delivery with its body and every attempt, as JSON."""
    from charter.webhooks.delivery import get_delivery

    with open_runtime(project, demo) as rt, rt.read() as conn:
        typer.echo(json.dumps(get_delivery(conn, delivery_id), indent=2))


@app.command()
def replay(
    delivery_ids: Annotated[list[str] | None, typer.Argument(help="Deliveries to send again.")] = None,
    subscription: Annotated[str | None, typer.Option(help="Replay this subscription's deliveries.")] = None,
    status: Annotated[str, typer.Option(help="With --subscription: dead or succeeded.")] = "dead",
    since: Annotated[str | None, typer.Option(help="With --subscription: created at or after (ISO 8601).")] = None,
    as_: AsOption = None,
    project: ProjectOption = None,
    demo: DemoOption = False,
) -> None:
    """Send deliveries again (same webhook-id, fresh signature); the worker sends them."""
    from charter.webhooks.delivery import replay as replay_deliveries

    if not delivery_ids and not subscription:
        raise fail("name DELIVERY_IDS or --subscription ID", 2)
    after = None
    if since:
        try:
            after = datetime.fromisoformat(since)
        except ValueError:
            raise fail(f"--since {since!r} is not an ISO 8601 date-time", 2)
        if after.tzinfo is None:
            raise fail("--since needs an offset, e.g. 2026-12-01T00:00:00+00:00", 2)
    with open_runtime(project, demo) as rt:
        ids = replay_deliveries(
            rt,
            cli_actor(as_),
            delivery_ids=list(delivery_ids) if delivery_ids else None,
            subscription_id=subscription,
            status=status,
            since=after,
        )
    console.print(f"queued {len(ids)} deliver{'y' if len(ids) == 1 else 'ies'} again")
