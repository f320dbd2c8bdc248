"""Windows, buckets and timestamps: every accepted form, and clear errors for the rest."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from charter.metrics.timestamps import TimestampError, format_timestamp, parse_timestamp
from charter.metrics.windows import UnknownWindow, buckets, parse_window

NOW = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "start", "end", "quarters"),
    [
        ("7d", NOW - timedelta(days=7), NOW, 7 / 91.3125),
        ("24h", NOW - timedelta(hours=24), NOW, 1 / 91.3125),
        ("12w", NOW - timedelta(weeks=12), NOW, 84 / 91.3125),
        ("quarter", NOW - timedelta(days=91.3125), NOW, 1.0),
        ("2026-Q1", datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC), 1.0),
        ("2025q4", datetime(2025, 10, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC), 1.0),
        ("2026-02", datetime(2026, 2, 1, tzinfo=UTC), datetime(2026, 3, 1, tzinfo=UTC), 1 / 3),
        ("2025-12", datetime(2025, 12, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC), 1 / 3),
        ("2026-W01", datetime(2025, 12, 29, tzinfo=UTC), datetime(2026, 1, 5, tzinfo=UTC), 7 / 91.3125),
        ("2026", datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC), 4.0),
        (
            "2026-01-01T00:00:00Z..2026-01-02T00:00:00+01:00",
            datetime(2026, 1, 1, tzinfo=UTC),
            datetime(2026, 1, 1, 23, tzinfo=UTC),
            23 / 24 / 91.3125,
        ),
    ],
)
def test_windows(text: str, start: datetime, end: datetime, quarters: float) -> None:
    w = parse_window(text, now=NOW)
    assert (w.start, w.end) == (start, end)
    assert w.quarters == pytest.approx(quarters)


@pytest.mark.parametrize(
    "text",
    [
        "fortnight",
        "0d",
        "9999d",
        "7x",
        "2026-Q5",
        "2026-13",
        "2026-W60",
        "2026-01-02T00:00:00Z..2026-01-01T00:00:00Z",
        "2026-01-01..2026-02-01",
        "",
    ],
)
def test_unknown_windows(text: str) -> None:
    with pytest.raises(UnknownWindow):
        parse_window(text, now=NOW)


def test_buckets_are_whole_calendar_periods() -> None:
    weeks = buckets(datetime(2026, 3, 4, tzinfo=UTC), datetime(2026, 3, 17, tzinfo=UTC), "week")
    assert [w.name for w in weeks] == ["2026-W10", "2026-W11", "2026-W12"]
    assert weeks[0].start == datetime(2026, 3, 2, tzinfo=UTC)
    months = buckets(datetime(2025, 11, 20, tzinfo=UTC), datetime(2026, 1, 2, tzinfo=UTC), "month")
    assert [w.name for w in months] == ["2025-11", "2025-12", "2026-01"]
    assert len(buckets(NOW - timedelta(days=3), NOW, "day")) == 4
    with pytest.raises(UnknownWindow):
        buckets(NOW, NOW, "week")
    with pytest.raises(UnknownWindow):
        buckets(NOW - timedelta(days=3), NOW, "hour")


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("2026-03-01T10:00:00", "no UTC offset"),
        ("2026-03-01", "a date, not a timestamp"),
        ("soon", "not an RFC 3339"),
        (17, "expected an RFC 3339 timestamp string"),
        ("2026-03-15T12:06:00Z", "in the future"),
    ],
)
def test_bad_timestamps(text: object, fragment: str) -> None:
    with pytest.raises(TimestampError, match=fragment):
        parse_timestamp(text, now=NOW)


def test_timestamps() -> None:
    assert parse_timestamp("2026-03-15T12:04:00Z", now=NOW) == datetime(2026, 3, 15, 12, 4, tzinfo=UTC)  # tolerance
    assert parse_timestamp("2026-03-01T10:00:00+02:00", now=NOW) == datetime(2026, 3, 1, 8, tzinfo=UTC)
    assert parse_timestamp("2099-01-01T00:00:00z", allow_future=True).year == 2099
    assert format_timestamp(datetime(2026, 3, 1, 8, tzinfo=UTC)) == "2026-03-01T08:00:00Z"
    assert format_timestamp(datetime(2026, 3, 1, 8, 0, 0, 123456, tzinfo=UTC)) == "2026-03-01T08:00:00.123Z"
