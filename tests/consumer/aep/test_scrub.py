"""Scrubbing of AEP messages and exception text (docs/DESIGN.md §7 and §10)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from consumer.aep.scrub import MAX_BYTES, REDACTED, scrub, truncate_utf8


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (
            "string [john@example.com] is not a valid email",
            "string [redacted] is not a valid email",
        ),
        (
            "extraneous key [workEmail] is not permitted",
            "extraneous key [redacted] is not permitted",
        ),
        ("The 'header' field is mandatory.", "The [redacted] field is mandatory."),
        ('value "Müller" is too long', "value [redacted] is too long"),
        ("nested [a[b]c] here", "nested [redacted] here"),
        ("unterminated [john@example.com is bad", "unterminated [redacted]"),
        ("unterminated 'Jane Doe", "unterminated [redacted]"),
        ("the name 'O'Brien' is odd", "the name [redacted] is odd"),
        ("it doesn't matter", "it doesn't matter"),
        ('escaped "a \\" b" end', "escaped [redacted] end"),
        ("expected type: String, found: Long", "expected type: String, found: Long"),
        ("already [redacted] once", "already [redacted] once"),
    ],
)
def test_bracketed_and_quoted_values_are_redacted(message: str, expected: str) -> None:
    assert scrub(message) == expected


def test_unbracketed_email_is_redacted_too() -> None:
    out = scrub("no brackets around jane.doe+x@mail.example.org here")
    assert "jane" not in out
    assert "example" not in out
    assert REDACTED in out


def test_output_is_at_most_one_kilobyte_on_a_character_boundary() -> None:
    out = scrub("é" * 2000)
    assert len(out.encode("utf-8")) <= MAX_BYTES
    assert out.endswith("...")
    out.encode("utf-8").decode("utf-8")  # no broken character


def test_short_text_is_not_truncated() -> None:
    assert truncate_utf8("abc", 3) == "abc"
    assert truncate_utf8("abcd", 3) == "..."


@given(st.text(max_size=300), st.emails())
def test_a_bracketed_or_quoted_value_never_survives(prefix: str, email: str) -> None:
    for wrapped in (f"[{email}]", f'"{email}"', f" '{email}' "):
        out = scrub(f"{prefix}{wrapped} is invalid")
        assert email not in out
        assert len(out.encode("utf-8")) <= MAX_BYTES
