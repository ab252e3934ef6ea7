"""AEP's format rules, one table per format."""

from __future__ import annotations

import pytest

from schemas.xdm.formats import (
    is_date,
    is_date_time,
    is_email,
    is_uri_reference,
    known_tlds,
)


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("jane@example.com", True),
        ("Jane.Doe@Example.COM", True),
        ("first.last+tag@sub.example.co.uk", True),
        ("o'brien@example.ie", True),
        ("x!#$%&'*+-/=?^_`{|}~y@example.org", True),
        ("user@example.museum", True),
        ("user@xn--80ak6aa92e.xn--p1ai", True),
        ("user@пример.рф", True),  # checked in its IDNA (xn--) form
        ("user@münchen.de", True),
        ("a" * 64 + "@example.com", True),
        ("a" * 65 + "@example.com", False),  # local part longer than 64
        ("user@example.unknowntld", False),  # top-level domain does not exist
        ("user@example.local", False),
        ("user@localhost", False),  # no top-level domain at all
        ("user@example", False),
        ("user@example.onion", False),
        ("user@example.test", False),
        ("plainaddress", False),
        ("@example.com", False),
        ("user@", False),
        (".user@example.com", False),  # dot-atom: no leading dot
        ("user.@example.com", False),  # no trailing dot
        ("us..er@example.com", False),  # no double dot
        ('"quoted"@example.com', False),  # quoted local parts are not dot-atom
        ("us er@example.com", False),
        ("usér@example.com", False),  # local part is ASCII
        ("user@@example.com", False),
        ("user@exa_mple.com", False),
        ("user@-example.com", False),
        ("user@example-.com", False),
        ("user@example..com", False),
        ("user@example.com.", False),
        ("user@[192.0.2.1]", False),  # address literals have no TLD
        ("user@" + "a" * 64 + ".com", False),  # label longer than 63
        ("user@example.com\n", False),
    ],
)
def test_email(value: str, valid: bool) -> None:
    assert is_email(value) is valid


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("2024-05-01T12:34:56Z", True),
        ("2024-05-01T12:34:56.789Z", True),
        ("2024-05-01T12:34:56.123456789+02:00", True),
        ("2024-05-01T12:34:56-05:30", True),
        ("2024-05-01T00:00:00+18:00", True),
        ("2024-02-29T12:00:00Z", True),  # leap year
        ("2000-02-29T12:00:00Z", True),  # divisible by 400
        ("2023-02-29T12:00:00Z", False),  # not a leap year
        ("1900-02-29T12:00:00Z", False),  # divisible by 100, not 400
        ("2024-04-31T12:00:00Z", False),
        ("2024-05-01T12:34Z", False),  # no seconds
        ("2024-05-01T12:34:56", False),  # no offset
        ("2024-05-01 12:34:56Z", False),
        ("2024-05-01t12:34:56Z", False),
        ("2024-05-01T12:34:56z", False),
        ("2024-05-01T24:00:00Z", False),
        ("2024-05-01T12:60:00Z", False),
        ("2024-05-01T12:34:60Z", False),  # leap second: refused like Java's parser
        ("2024-05-01T12:34:56.1234567890Z", False),  # more than 9 fraction digits
        ("2024-05-01T12:34:56.Z", False),
        ("2024-05-01T12:34:56+0200", False),
        ("2024-05-01T12:34:56+18:30", False),
        ("2024-13-01T12:34:56Z", False),
        ("2024-05-01", False),
        ("1714566896000", False),
        ("\uff12\uff10\uff12\uff14-05-01T12:34:56Z", False),  # full-width digits
    ],
)
def test_date_time(value: str, valid: bool) -> None:
    assert is_date_time(value) is valid


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("1985-02-28", True),
        ("2024-02-29", True),
        ("2000-02-29", True),
        ("2023-02-29", False),
        ("1900-02-29", False),
        ("2024-04-31", False),
        ("2024-12-31", True),
        ("2024-13-01", False),
        ("2024-00-10", False),
        ("2024-01-00", False),
        ("2024-1-01", False),
        ("24-01-01", False),
        ("2024/01/01", False),
        ("2024-01-01T00:00:00Z", False),
        ("2024-01-01 ", False),
    ],
)
def test_date(value: str, valid: bool) -> None:
    assert is_date(value) is valid


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("4f0c2a9e8b7d6c5b4a39281706f5e4d3", True),
        ("https://example.com/a/b?c=d#e", True),
        ("urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66", True),
        ("/relative/path", True),
        ("relative/path?q", True),
        ("//host:8080/path", True),
        ("#fragment", True),
        ("a%20b", True),
        ("http://[2001:db8::1]/x", True),
        ("mailto:user@example.com", True),
        ("a b", False),
        ("%zz", False),
        ("1abc:def", False),  # a first segment with a colon must be a scheme
        ("http://[zz::1]/", False),
        ("http://[::1::2]/", False),
        ("http://exa mple.com", False),
        ("<id>", False),
        ('"x"', False),
        ("x\\y", False),
    ],
)
def test_uri_reference(value: str, valid: bool) -> None:
    assert is_uri_reference(value) is valid


def test_tld_list_is_the_root_zone() -> None:
    tlds = known_tlds()
    assert 1400 < len(tlds) < 2000
    assert {"com", "de", "uk", "museum", "xn--p1ai", "arpa"} <= tlds
    assert not {"onion", "local", "localhost", "test", "example", "invalid"} & tlds
    assert all(tld == tld.lower() and tld.isascii() for tld in tlds)
