"""TIME arguments: ISO-8601 with a UTC offset (or a bare date, midnight UTC), or a duration back
from now such as `90s`, `15m`, `2h`, `7d`, `1w` or `1d12h`."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Final

_UNIT_SECONDS: Final = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION: Final = re.compile(r"^(?:\d+[smhdw])+$")
_PART: Final = re.compile(r"(\d+)([smhdw])")


class TimeFormatError(ValueError):
    """The text is neither an ISO-8601 time with an offset nor a duration."""


def parse_time(text: str, now: datetime) -> datetime:
    """The moment `text` names, in UTC; `now` anchors durations."""
    value = text.strip()
    if _DURATION.match(value):
        seconds = sum(int(n) * _UNIT_SECONDS[unit] for n, unit in _PART.findall(value))
        return (now - timedelta(seconds=seconds)).astimezone(UTC)
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        try:
            day = date.fromisoformat(value)
        except ValueError:
            raise TimeFormatError(f"{text!r} is not a calendar date") from None
        return datetime(day.year, day.month, day.day, tzinfo=UTC)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise TimeFormatError(
            f"{text!r} is neither an ISO-8601 time (2026-12-01T10:00:00Z) nor a duration back "
            "from now (90s, 15m, 2h, 7d, 1w)"
        ) from None
    if moment.tzinfo is None:
        raise TimeFormatError(f"{text!r} needs a UTC offset, e.g. 2026-12-01T10:00:00Z")
    return moment.astimezone(UTC)


def to_millis(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def from_millis(millis: int) -> datetime:
    return datetime.fromtimestamp(millis / 1000, UTC)


def iso_millis(millis: int) -> str:
    """`yyyy-MM-dd'T'HH:mm:ss.SSS'Z'`, the dead-letter headers' time format."""
    moment = from_millis(millis)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{millis % 1000:03d}Z"
