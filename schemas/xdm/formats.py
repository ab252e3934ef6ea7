"""AEP's `format` rules, stricter than a JSON Schema library's defaults.

- `email`: an RFC 5322 dot-atom local part (ASCII, at most 64 characters) `@` a host name of
  LDH labels whose top-level domain exists (IANA root zone, shipped in `data/tlds.txt`); no
  quoted local parts, no address literals. Internationalised domains are checked in their
  ASCII (IDNA) form.
- `date-time`: RFC 3339 with seconds and an offset: `YYYY-MM-DDTHH:MM:SS[.f{1,9}](Z|±HH:MM)`,
  a real calendar date, hours 00-23, minutes and seconds 00-59 (no leap second, as Java's
  parser that AEP uses), offsets up to ±18:00.
- `date`: `YYYY-MM-DD`, a real calendar date.
- `uri-reference`: RFC 3986 `URI-reference`.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from functools import cache, lru_cache
from importlib import resources
from typing import Final

FormatCheck = Callable[[str], bool]

_LOCAL_PART: Final = re.compile(
    r"[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~]+(?:\.[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~]+)*\Z"
)
_LABEL: Final = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\Z")


@cache
def known_tlds() -> frozenset[str]:
    """Top-level domains that exist, lower case, IDN ones in `xn--` form."""
    text = (resources.files("schemas.xdm") / "data" / "tlds.txt").read_text(encoding="ascii")
    return frozenset(
        line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
    )


def _ascii_domain(domain: str) -> str | None:
    if domain.isascii():
        return domain.lower()
    try:
        return domain.encode("idna").decode("ascii").lower()
    except UnicodeError:
        return None


# The mapper checks an address and the validator checks the same text again moments later;
# the second look is a cache hit. Small, so addresses do not stay in memory for long.
@lru_cache(maxsize=64)
def is_email(value: str) -> bool:
    local, at, domain = value.rpartition("@")
    if not at or len(local) > 64 or not _LOCAL_PART.match(local):
        return False
    ascii_domain = _ascii_domain(domain)
    if ascii_domain is None or len(ascii_domain) > 253:
        return False
    labels = ascii_domain.split(".")
    if len(labels) < 2 or labels[-1] not in known_tlds():
        return False
    return all(_LABEL.match(label) for label in labels)


# Field ranges are in the patterns; only days 29-31 need the calendar.
_DATE_TIME: Final = re.compile(
    r"([0-9]{4})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
    r"T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]{1,9})?"
    r"(?:Z|[+-](?:(?:0[0-9]|1[0-7]):[0-5][0-9]|18:00))\Z"
)
_DATE: Final = re.compile(r"([0-9]{4})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])\Z")
_DAYS_IN_MONTH: Final = (0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _valid_day(year: str, month: str, day: str) -> bool:
    if day < "29":
        return True
    month_number = int(month)
    if month_number == 2 and day == "29":
        year_number = int(year)
        return year_number % 4 == 0 and (year_number % 100 != 0 or year_number % 400 == 0)
    return int(day) <= _DAYS_IN_MONTH[month_number]


def is_date(value: str) -> bool:
    match = _DATE.match(value)
    return match is not None and _valid_day(*match.groups())


def is_date_time(value: str) -> bool:
    match = _DATE_TIME.match(value)
    return match is not None and _valid_day(*match.groups())


# RFC 3986 section 4.1 URI-reference = URI / relative-ref, transcribed from its ABNF.
_PCT: Final = r"%[0-9A-Fa-f]{2}"
_UNRESERVED_SUB: Final = r"A-Za-z0-9\-._~!$&'()*+,;="
_PCHAR: Final = rf"(?:[{_UNRESERVED_SUB}:@]|{_PCT})"
_SEGMENT_NZ_NC: Final = rf"(?:[{_UNRESERVED_SUB}@]|{_PCT})+"
_IP_LITERAL: Final = rf"\[(?:[0-9A-Fa-f:.]+|v[0-9A-Fa-f]+\.[{_UNRESERVED_SUB}:]+)\]"
_REG_NAME: Final = rf"(?:[{_UNRESERVED_SUB}]|{_PCT})*"
_AUTHORITY: Final = (
    rf"(?:(?:[{_UNRESERVED_SUB}:]|{_PCT})*@)?(?:{_IP_LITERAL}|{_REG_NAME})(?::[0-9]*)?"
)
_PATH_ABEMPTY: Final = rf"(?:/{_PCHAR}*)*"
_PATH_ABSOLUTE: Final = rf"/(?:{_PCHAR}+(?:/{_PCHAR}*)*)?"
_PATH_ROOTLESS: Final = rf"{_PCHAR}+(?:/{_PCHAR}*)*"
_PATH_NOSCHEME: Final = rf"{_SEGMENT_NZ_NC}(?:/{_PCHAR}*)*"
_QUERY_FRAGMENT: Final = rf"(?:\?(?:{_PCHAR}|[/?])*)?(?:#(?:{_PCHAR}|[/?])*)?"
_URI_REFERENCE: Final = re.compile(
    rf"(?:[A-Za-z][A-Za-z0-9+\-.]*:(?://{_AUTHORITY}{_PATH_ABEMPTY}|{_PATH_ABSOLUTE}"
    rf"|{_PATH_ROOTLESS}|)"
    rf"|(?://{_AUTHORITY}{_PATH_ABEMPTY}|{_PATH_ABSOLUTE}|{_PATH_NOSCHEME}|))"
    rf"{_QUERY_FRAGMENT}\Z"
)


_IPV6_HOST: Final = re.compile(
    r"(?:[A-Za-z][A-Za-z0-9+\-.]*:)?//(?:[^@/?#\[]*@)?\[([0-9A-Fa-f:.]+)\]"
)


def is_uri_reference(value: str) -> bool:
    if value.isascii() and value.isalnum():
        # Letters and digits alone are a relative path (`path-noscheme`), as every record's hex
        # `_id` is: a C-level test instead of the whole grammar.
        return True
    if _URI_REFERENCE.match(value) is None:
        return False
    host = _IPV6_HOST.match(value)
    if host is None:
        return True
    try:
        ipaddress.IPv6Address(host[1])
    except ValueError:
        return False
    return True


FORMAT_CHECKS: Final[dict[str, FormatCheck]] = {
    "email": is_email,
    "date-time": is_date_time,
    "date": is_date,
    "uri-reference": is_uri_reference,
}
