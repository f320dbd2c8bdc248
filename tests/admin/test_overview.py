"""The overview names who changed what (an entry's title and type, a release's name), and the demo's
recorded past gives every metric a value."""

from __future__ import annotations

import html
from datetime import UTC, datetime

from charter.auth.roles import Actor, Role
from charter.content import actions, store
from charter.demo.history import record_demo_history
from charter.metrics import METRICS
from charter.metrics.report import build_report
from charter.runtime import Runtime


def test_latest_changes_name_the_actor_and_the_subject(runtime: Runtime, as_role) -> None:  # type: ignore[no-untyped-def]
    ana = Actor(name="ana", role=Role.EDITOR, kind="user")
    with runtime.read() as conn:
        careers = next(e for e in store.list_entries(conn, "page") if e.slug == "careers")
        data = store.get_revision(conn, careers.id, careers.current_revision).data
    actions.update_entry(
        runtime, ana, careers.id, {**data, "en": {**data["en"], "title": "Join us"}}, if_match=careers.etag
    )
    client, _ = as_role("viewer")
    page = html.unescape(client.get("/admin").text)
    latest = page.split("Latest changes", 1)[1]
    first_row = latest.split("<tr>", 3)[2]
    assert "<td>ana</td>" in first_row and "update" in first_row
    assert f'<a href="/admin/content/{careers.id}">page “Join us”</a>' in first_row
    assert f"entry {careers.id[:8]}" not in latest  # no bare ids for entries that exist


def test_the_demo_history_gives_every_metric_a_value(runtime: Runtime, as_role) -> None:  # type: ignore[no-untyped-def]
    record_demo_history(runtime, now=datetime.now(UTC))
    with runtime.read() as conn:
        report = build_report(conn, windows=["30d"])
    values = {r.name: r.value for r in report.results}
    assert set(values) == set(METRICS) and None not in values.values(), values
    client, _ = as_role("viewer")
    latest = html.unescape(client.get("/admin").text).split("Latest changes", 1)[1]
    assert "<td>ana</td>" in latest and "page “Careers at Lumen”" in latest
    assert "the system" not in latest.split("</tr>", 2)[1]  # the newest change has a person's name
