"""Timestamp and date parsing and formatting."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from pydantic_core import PydanticCustomError

from mappers.timestamps import epoch_ms, parse_date, parse_timestamp, xdm_datetime


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, datetime(1970, 1, 1, tzinfo=UTC)),
        (1764324900123, datetime(2025, 11, 28, 10, 15, 0, 123000, tzinfo=UTC)),
        (-1000, datetime(1969, 12, 31, 23, 59, 59, tzinfo=UTC)),
        ("2026-11-28T10:15:00Z", datetime(2026, 11, 28, 10, 15, tzinfo=UTC)),
        ("2026-11-28T12:15:00+02:00", datetime(2026, 11, 28, 10, 15, tzinfo=UTC)),
        (" 2026-11-28T10:15:00.5-00:30 ", datetime(2026, 11, 28, 10, 45, 0, 500000, tzinfo=UTC)),
        (
            datetime(2026, 11, 28, 5, 15, tzinfo=timezone(timedelta(hours=-5))),
            datetime(2026, 11, 28, 10, 15, tzinfo=UTC),
        ),
    ],
)
def test_parse_timestamp(value: object, expected: datetime) -> None:
    parsed = parse_timestamp(value)
    assert parsed == expected
    assert parsed.tzinfo is UTC


@pytest.mark.parametrize(
    "value",
    [
        "2026-11-28T10:15:00",
        "2026-11-28",
        datetime(2026, 11, 28),
        "",
        True,
        1.0,
        10**17,
        "0001-01-01T00:00:00+01:00",
    ],
)
def test_unreadable_timestamps(value: object) -> None:
    with pytest.raises(PydanticCustomError) as raised:
        parse_timestamp(value)
    assert raised.value.type == "invalid_timestamp"


def test_null_timestamp_reads_as_missing() -> None:
    with pytest.raises(PydanticCustomError) as raised:
        parse_timestamp(None)
    assert raised.value.type == "null_value"


def test_epoch_ms_floors_to_the_millisecond() -> None:
    assert epoch_ms(datetime(1970, 1, 1, 0, 0, 0, 1999, tzinfo=UTC)) == 1
    assert epoch_ms(datetime(1969, 12, 31, 23, 59, 59, 999500, tzinfo=UTC)) == -1


@pytest.mark.parametrize(
    ("moment", "text"),
    [
        (datetime(2026, 1, 5, 8, 0, tzinfo=UTC), "2026-01-05T08:00:00.000Z"),
        (datetime(2026, 1, 5, 8, 0, 0, 999999, tzinfo=UTC), "2026-01-05T08:00:00.999Z"),
        (datetime(999, 3, 4, 5, 6, 7, 8000, tzinfo=UTC), "0999-03-04T05:06:07.008Z"),
        (
            datetime(2026, 1, 5, 10, 0, tzinfo=timezone(timedelta(hours=2))),
            "2026-01-05T08:00:00.000Z",
        ),
    ],
)
def test_xdm_datetime(moment: datetime, text: str) -> None:
    assert xdm_datetime(moment) == text


@pytest.mark.parametrize("value", ["2000-02-29", date(2000, 2, 29)])
def test_parse_date(value: object) -> None:
    assert parse_date(value) == date(2000, 2, 29)


@pytest.mark.parametrize(
    "value", ["2001-02-29", "2000-2-29", "20000229", datetime(2000, 2, 29), 951782400, None]
)
def test_unreadable_dates(value: object) -> None:
    with pytest.raises(PydanticCustomError) as raised:
        parse_date(value)
    assert raised.value.type == "invalid_date"
