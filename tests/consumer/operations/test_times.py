from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from consumer.operations.times import TimeFormatError, iso_millis, parse_time, to_millis

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "back"),
    [
        ("90s", timedelta(seconds=90)),
        ("15m", timedelta(minutes=15)),
        ("2h", timedelta(hours=2)),
        ("7d", timedelta(days=7)),
        ("1w", timedelta(weeks=1)),
        ("1d12h", timedelta(days=1, hours=12)),
        ("0h", timedelta(0)),
    ],
)
def test_a_duration_is_that_long_back_from_now(text: str, back: timedelta) -> None:
    assert parse_time(text, NOW) == NOW - back


def test_iso_times_with_an_offset_become_utc() -> None:
    assert parse_time("2026-12-01T10:00:00Z", NOW) == datetime(2026, 12, 1, 10, tzinfo=UTC)
    assert parse_time("2026-12-01T11:30:00+01:30", NOW) == datetime(2026, 12, 1, 10, tzinfo=UTC)
    assert parse_time("2026-12-01", NOW) == datetime(2026, 12, 1, tzinfo=UTC)


@pytest.mark.parametrize("text", ["yesterday", "2h ago", "-2h", "2x", "", "2026-13-01", "12:00"])
def test_anything_else_is_refused_with_the_forms_it_takes(text: str) -> None:
    with pytest.raises(TimeFormatError, match=r"ISO-8601|calendar date"):
        parse_time(text, NOW)


def test_a_time_without_offset_is_refused_as_ambiguous() -> None:
    with pytest.raises(TimeFormatError, match="needs a UTC offset"):
        parse_time("2026-12-01T10:00:00", NOW)


def test_millis_format_matches_the_dead_letter_headers() -> None:
    moment = datetime(2026, 12, 1, 10, 0, 5, 42000, tzinfo=UTC)
    assert iso_millis(to_millis(moment)) == "2026-12-01T10:00:05.042Z"
