"""Schedule an approved release to publish at a wall-clock time in a time zone (IANA names).

``at`` is ISO 8601. Without an offset it is local time in ``timezone``; a local time that does
not exist (the hour skipped when clocks go forward) or happens twice (when they go back) is
refused with a message saying how to disambiguate. With an offset it names an instant, and
``timezone`` is kept for display. The worker publishes the release when it falls due.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from charter.auth.roles import Actor, Permission
from charter.content.actions.release import audit_release, release_event, set_status
from charter.content.releases import Release, get_release
from charter.content.revisions import require
from charter.content.workflow import ALLOWED_FROM
from charter.events import RELEASE_SCHEDULED, RELEASE_UNSCHEDULED, utcnow
from charter.exceptions import Conflict, ErrorDetail, ValidationFailed
from charter.runtime import Runtime

#: How far ahead a release may be scheduled.
MAX_AHEAD = timedelta(days=3 * 366)
#: The form of ``at``: a date and a time to the minute or finer, with or without an offset.
AT_PATTERN = (
    r"^(19[7-9][0-9]|2[0-9]{3})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]"
    r"(:[0-5][0-9](\.[0-9]{1,6})?)?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])?$"
)
#: The rule JSON Schema cannot state, as the errors' keyword (charter.http.openapi.rules).
RULE = (
    "schedule",
    422,
    "at must name a time that exists in timezone (an IANA name), after now and at most three years ahead.",
)


def _invalid(pointer: str, message: str) -> ValidationFailed:
    return ValidationFailed(detail=message, errors=[ErrorDetail(pointer, message, "schedule")])


def parse_zone(name: str) -> ZoneInfo:
    if not name or len(name) > 64 or name.startswith(("/", ".")) or ".." in name:
        raise _invalid("/timezone", f"{name!r} is not an IANA time zone such as 'Europe/Berlin' or 'UTC'")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise _invalid("/timezone", f"unknown time zone {name!r}; use an IANA name such as 'Europe/Berlin' or 'UTC'")


def resolve_schedule(at: str, timezone: str, *, now: datetime | None = None) -> datetime:
    """The UTC instant ``at`` names in ``timezone``; ValidationFailed when it is not a valid
    future time."""
    zone = parse_zone(timezone)
    try:
        if not re.fullmatch(AT_PATTERN, at):
            raise ValueError(at)
        parsed = datetime.fromisoformat(at)
    except (TypeError, ValueError):
        raise _invalid("/at", f"{at!r} is not an ISO 8601 date-time such as '2026-12-01T09:00'")
    if parsed.tzinfo is None:
        first = parsed.replace(tzinfo=zone, fold=0)
        second = parsed.replace(tzinfo=zone, fold=1)
        if first.utcoffset() != second.utcoffset():
            # Ambiguous (clocks go back) or non-existent (clocks go forward) local time.
            if _round_trips(first):
                raise _invalid(
                    "/at",
                    f"{at} happens twice in {timezone} (clocks go back); add the offset you mean, "
                    f"{first.isoformat()} or {second.isoformat()}",
                )
            raise _invalid("/at", f"{at} does not exist in {timezone} (clocks go forward then); pick another time")
        instant = first.astimezone(UTC)
    else:
        instant = parsed.astimezone(UTC)
    now = now or utcnow()
    if instant <= now:
        raise _invalid(
            "/at", f"{at} ({timezone}) is in the past: it was {instant.isoformat()}, now is {now.isoformat()}"
        )
    if instant - now > MAX_AHEAD:
        raise _invalid("/at", f"{at} is more than three years ahead")
    return instant


def _round_trips(local: datetime) -> bool:
    back = local.astimezone(UTC).astimezone(local.tzinfo)
    return back.replace(tzinfo=None) == local.replace(tzinfo=None)


def schedule_release(rt: Runtime, actor: Actor, release_id: str, *, at: str, timezone: str) -> Release:
    """Schedule (or re-schedule) an approved release."""
    require(actor, Permission.PUBLISH)
    instant = resolve_schedule(at, timezone)
    with rt.write() as (conn, pending):
        rel = get_release(conn, release_id, lock=True)
        if rel.status not in ALLOWED_FROM["schedule"]:
            raise Conflict(
                f"release {release_id} is {rel.status}; only an approved release can be scheduled",
                extra={"status_now": rel.status},
            )
        set_status(conn, release_id, "scheduled", scheduled_at=instant, schedule_tz=timezone, error=None)
        audit_release(
            conn,
            actor,
            "schedule",
            release_id,
            at=instant.isoformat(),
            timezone=timezone,
            previous=rel.scheduled_at.isoformat() if rel.scheduled_at else None,
        )
        rel = get_release(conn, release_id)
        local = instant.astimezone(parse_zone(timezone)).isoformat()
        release_event(
            conn,
            pending,
            RELEASE_SCHEDULED,
            rel,
            actor,
            scheduled_at=instant.isoformat(),
            timezone=timezone,
            local=local,
        )
        return rel


def unschedule_release(rt: Runtime, actor: Actor, release_id: str) -> Release:
    """Cancel the schedule; the release stays approved."""
    require(actor, Permission.PUBLISH)
    with rt.write() as (conn, pending):
        rel = get_release(conn, release_id, lock=True)
        if rel.status not in ALLOWED_FROM["unschedule"]:
            raise Conflict(f"release {release_id} is {rel.status}, not scheduled")
        set_status(conn, release_id, "approved", scheduled_at=None, schedule_tz=None)
        audit_release(
            conn, actor, "unschedule", release_id, was=rel.scheduled_at.isoformat() if rel.scheduled_at else None
        )
        rel = get_release(conn, release_id)
        release_event(conn, pending, RELEASE_UNSCHEDULED, rel, actor)
        return rel
