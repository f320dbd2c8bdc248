"""Reporting windows: the half-open time range ``[start, end)`` a metric is computed over.

Accepted forms (:func:`parse_window`):

- a duration ending now (or at ``--until``): ``24h``, ``7d``, ``12w``; the names ``day`` (1d),
  ``week`` (7d), ``month`` (30d), ``quarter`` (a quarter year: 91.3125 d) and ``year`` (365.25 d);
- a calendar period in UTC: ``2026-Q1``, ``2026-03`` (a month), ``2026-W10`` (an ISO week), ``2026``;
- an explicit range: ``2026-01-01T00:00:00Z..2026-04-01T00:00:00Z``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from charter.exceptions import BadRequest
from charter.metrics.timestamps import TimestampError, format_timestamp, parse_timestamp

DAY = timedelta(days=1)
#: A quarter year, so that rates "per quarter" over multi-quarter windows are exact.
QUARTER = timedelta(days=365.25 / 4)
YEAR = timedelta(days=365.25)
NAMED = {"day": DAY, "week": 7 * DAY, "month": 30 * DAY, "quarter": QUARTER, "year": YEAR}
UNITS = {"h": timedelta(hours=1), "d": DAY, "w": 7 * DAY}
BUCKETS = ("day", "week", "month")

FORMS = "24h, 7d, 12w, day, week, month, quarter, year, 2026-Q1, 2026-03, 2026-W10, 2026, or START..END"
#: The years a window or a series may cover.
YEARS = r"(19[7-9][0-9]|2[0-9]{3})"
#: An RFC 3339 timestamp in those years (the API's ``since``/``until`` and a range's ends).
TIMESTAMP = (
    YEARS + r"-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])[Tt]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,6})?"
    r"([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9])"
)
#: Every window :func:`parse_window` accepts, as the API declares it. A value of this form can still
#: name no window (2026-02-30T00:00:00Z, 2027-W53, an END not after its START): :class:`ImpossibleWindow`.
WINDOW_PATTERN = (
    r"^(day|week|month|quarter|year|([1-9][0-9]{0,2}|[12][0-9]{3}|3[0-5][0-9]{2}|36[0-5][0-9]|3660)[hdw]|"
    + YEARS
    + r"(-?[Qq][1-4]|-(0[1-9]|1[0-2])|-[Ww](0[1-9]|[1-4][0-9]|5[0-3]))?|"
    + TIMESTAMP
    + r"\.\."
    + TIMESTAMP
    + ")$"
)


class UnknownWindow(BadRequest):
    type_slug = "unknown-window"
    title = "Unknown window"


class ImpossibleWindow(UnknownWindow):
    """A window of a valid form that names no time: a day or ISO week the calendar lacks, or a
    range whose end is not after its start."""

    type_slug = "impossible-window"
    title = "Impossible window"


@dataclass(frozen=True)
class Window:
    """``[start, end)`` in UTC, with the name it was asked for."""

    name: str
    start: datetime
    end: datetime
    #: Calendar quarters are one quarter exactly, whatever their length in days.
    calendar_quarters: float | None = None

    @property
    def duration(self) -> timedelta:
        return self.end - self.start

    @property
    def days(self) -> float:
        return self.duration / DAY

    @property
    def quarters(self) -> float:
        if self.calendar_quarters is not None:
            return self.calendar_quarters
        return self.duration / QUARTER

    def contains(self, moment: datetime) -> bool:
        return self.start <= moment < self.end

    def to_dict(self) -> dict[str, str]:
        return {"name": self.name, "start": format_timestamp(self.start), "end": format_timestamp(self.end)}


class RangeTooLong(UnknownWindow):
    """A series over more than :data:`MAX_BUCKETS` buckets."""

    type_slug = "range-too-long"
    title = "Range too long"


MAX_BUCKETS = 2000


def parse_window(text: str, *, until: datetime | None = None, now: datetime | None = None) -> Window:
    """Parse one window (:data:`WINDOW_PATTERN`); durations end at ``until`` (default ``now``).
    Raises :class:`UnknownWindow` for another form, :class:`ImpossibleWindow` for no such time."""
    raw = text
    if not re.fullmatch(WINDOW_PATTERN, raw):
        raise UnknownWindow(f"unknown window {raw[:80]!r}; use one of: {FORMS}")
    end = until or now or datetime.now(UTC)
    if raw in NAMED:
        return Window(raw, end - NAMED[raw], end)
    if raw[-1] in UNITS and raw[:-1].isdigit():
        return Window(raw, end - int(raw[:-1]) * UNITS[raw[-1]], end)
    if ".." in raw:
        first, _, second = raw.partition("..")
        try:
            start = parse_timestamp(first, allow_future=True)
            stop = parse_timestamp(second, allow_future=True)
        except TimestampError as exc:
            raise ImpossibleWindow(f"window {raw!r}: {exc}") from None
        if stop <= start:
            raise ImpossibleWindow(f"window {raw!r}: the end must be after the start")
        return Window(raw, start, stop)
    return _calendar(raw)


def _calendar(raw: str) -> Window:
    key = raw.upper()
    try:
        if m := re.fullmatch(r"(\d{4})-?Q([1-4])", key):
            year, q = int(m.group(1)), int(m.group(2))
            start = datetime(year, 3 * q - 2, 1, tzinfo=UTC)
            end = datetime(year + (q == 4), 1 if q == 4 else 3 * q + 1, 1, tzinfo=UTC)
            return Window(raw, start, end, calendar_quarters=1.0)
        if m := re.fullmatch(r"(\d{4})-(\d{2})", key):
            year, month = int(m.group(1)), int(m.group(2))
            start = datetime(year, month, 1, tzinfo=UTC)
            end = datetime(year + (month == 12), 1 if month == 12 else month + 1, 1, tzinfo=UTC)
            return Window(raw, start, end, calendar_quarters=1 / 3)
        if m := re.fullmatch(r"(\d{4})-W(\d{2})", key):
            monday = date.fromisocalendar(int(m.group(1)), int(m.group(2)), 1)
            start = datetime(monday.year, monday.month, monday.day, tzinfo=UTC)
            return Window(raw, start, start + 7 * DAY)
        year = int(raw)
        return Window(raw, datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC), 4.0)
    except ValueError as exc:
        raise ImpossibleWindow(f"window {raw!r}: {exc}") from None


def buckets(start: datetime, end: datetime, size: str) -> list[Window]:
    """Consecutive calendar buckets (UTC) covering ``[start, end)``: ``day``, ISO ``week`` (Mondays)
    or calendar ``month``. The first and last bucket are whole buckets, so a chart's points compare."""
    if size not in BUCKETS:
        raise UnknownWindow(f"unknown bucket {size!r}; use one of: {', '.join(BUCKETS)}")
    if end <= start:
        raise ImpossibleWindow("the series must end after it starts")
    cursor = datetime(start.year, start.month, start.day, tzinfo=UTC)
    if size == "week":
        cursor -= timedelta(days=cursor.weekday())
    elif size == "month":
        cursor = cursor.replace(day=1)
    out: list[Window] = []
    while cursor < end:
        if size == "day":
            nxt = cursor + DAY
            label = cursor.date().isoformat()
            quarters = None
        elif size == "week":
            nxt = cursor + 7 * DAY
            iso = cursor.isocalendar()
            label = f"{iso.year}-W{iso.week:02d}"
            quarters = None
        else:
            nxt = cursor.replace(year=cursor.year + (cursor.month == 12), month=cursor.month % 12 + 1)
            label = f"{cursor.year}-{cursor.month:02d}"
            quarters = 1 / 3
        out.append(Window(label, cursor, nxt, calendar_quarters=quarters))
        if len(out) > MAX_BUCKETS:
            raise RangeTooLong(f"too many {size} buckets between {format_timestamp(start)} and {format_timestamp(end)}")
        cursor = nxt
    return out
