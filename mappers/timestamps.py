"""Timestamps and dates of the contract, in both of the forms events arrive in.

Avro gives `datetime` (UTC) and `date`; the JSON form gives epoch milliseconds, ISO-8601 strings
with an offset, and `YYYY-MM-DD`. A time without an offset is refused rather than guessed: Commerce
writes UTC, but a bridge that drops the zone marker may as well have converted to local time.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Final

from pydantic import BeforeValidator
from pydantic_core import PydanticCustomError

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_MS: Final = timedelta(milliseconds=1)
_DATE_TEXT: Final = re.compile(r"\d{4}-\d{2}-\d{2}")

INVALID_TIMESTAMP: Final = "invalid_timestamp"
INVALID_DATE: Final = "invalid_date"
NULL_VALUE: Final = "null_value"


def _timestamp_error(reason: str) -> PydanticCustomError:
    # The reason is fixed text: the refused value never enters the error.
    return PydanticCustomError(INVALID_TIMESTAMP, reason)


def parse_timestamp(value: object) -> datetime:
    """An aware UTC datetime from a datetime, epoch milliseconds or ISO-8601 text with offset."""
    moment = avro_moment(value)
    if moment is not None:
        return moment  # the Avro forms
    if value is None:
        # Every contract timestamp is required; null reads as missing, not as unreadable.
        raise PydanticCustomError(NULL_VALUE, "required field is null")
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, int) and not isinstance(value, bool):
        try:
            return _EPOCH + value * _ONE_MS
        except OverflowError:
            raise _timestamp_error("epoch milliseconds out of range") from None
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            raise _timestamp_error("not an ISO-8601 timestamp") from None
    else:
        raise _timestamp_error("expected epoch milliseconds or an ISO-8601 timestamp")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise _timestamp_error("timestamp without a UTC offset")
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise _timestamp_error("timestamp out of range") from None


def avro_moment(value: object) -> datetime | None:
    """The forms an Avro decoder gives a timestamp, a UTC `datetime` or epoch milliseconds (an
    exact `int`), as `parse_timestamp` reads them; None for anything else or out of range."""
    if type(value) is int:
        try:
            return _EPOCH + value * _ONE_MS
        except OverflowError:
            return None
    if type(value) is datetime and value.tzinfo is UTC:
        return value
    return None


def parse_date(value: object) -> date:
    """A calendar date from a `date` or `YYYY-MM-DD` text."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and _DATE_TEXT.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise PydanticCustomError(INVALID_DATE, "expected a calendar date YYYY-MM-DD")


Timestamp = Annotated[datetime, BeforeValidator(parse_timestamp)]
CalendarDate = Annotated[date, BeforeValidator(parse_date)]


def epoch_ms(moment: datetime) -> int:
    """Milliseconds since the epoch (floor), the unit of the ordering key."""
    return (moment - _EPOCH) // _ONE_MS


def xdm_datetime(moment: datetime) -> str:
    """`yyyy-MM-dd'T'HH:mm:ss.SSS'Z'` in UTC, the format of the audit ordering fields."""
    utc = moment if moment.tzinfo is UTC else moment.astimezone(UTC)
    # isoformat pads the year to four digits (strftime("%Y") does not on glibc); its UTC
    # offset "+00:00" becomes "Z".
    return utc.isoformat(timespec="milliseconds")[:-6] + "Z"
