"""Strict timestamps for metric events: RFC 3339 with an explicit offset, never in the future.

Events carry their own times (``deployed_at``, ``resolved_at`` …) because the moment something
happened is rarely the moment it is recorded. A time without an offset is ambiguous and rejected;
a time further in the future than :data:`FUTURE_TOLERANCE` is a clock-skew bug in the sender and
rejected too, since it would silently distort every metric computed from it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

#: How far ahead of the server's clock an event time may be (NTP drift between CI and server).
FUTURE_TOLERANCE = timedelta(minutes=5)


class TimestampError(ValueError):
    """A timestamp that is malformed, has no offset or lies in the future."""


def parse_timestamp(value: object, *, now: datetime | None = None, allow_future: bool = False) -> datetime:
    """Parse an RFC 3339 timestamp (``2026-03-01T10:00:00Z``, ``…+02:00``) into aware UTC.

    Raises :class:`TimestampError` for a non-string, a malformed value, a missing offset, or (unless
    ``allow_future``) a time more than :data:`FUTURE_TOLERANCE` after ``now``.
    """
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str) and value.strip():
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            raise TimestampError(f"{value!r} is not an RFC 3339 timestamp (e.g. 2026-03-01T10:00:00Z)") from None
        if "T" not in text.upper() and " " not in text:
            raise TimestampError(f"{value!r} is a date, not a timestamp: add a time and an offset")
    else:
        raise TimestampError(f"expected an RFC 3339 timestamp string, got {type(value).__name__}")
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise TimestampError(f"{value!r} has no UTC offset: add 'Z' or '+HH:MM'")
    parsed = parsed.astimezone(UTC)
    if not allow_future:
        current = now or datetime.now(UTC)
        if parsed > current + FUTURE_TOLERANCE:
            raise TimestampError(f"{value!r} is {_ago(parsed - current)} in the future (the sender's clock is wrong?)")
    return parsed


def format_timestamp(value: datetime) -> str:
    """``2026-03-01T10:00:00Z`` (UTC; milliseconds only when there are any)."""
    utc = value.astimezone(UTC)
    return utc.isoformat(timespec="milliseconds" if utc.microsecond else "seconds").replace("+00:00", "Z")


def _ago(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"
