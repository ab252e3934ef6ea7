"""The format checks' shortcuts agree with the full rules."""

from __future__ import annotations

import hashlib

from hypothesis import given
from hypothesis import strategies as st

from schemas.xdm.formats import _URI_REFERENCE, is_email, is_uri_reference

# Non-ASCII letters and digits too: str.isalnum() takes them, the URI grammar does not.
_ALPHANUMERIC = st.text(st.sampled_from("azAZ09xK7\u00e9\u0661"), max_size=70)


@given(_ALPHANUMERIC)
def test_letters_and_digits_agree_with_the_uri_grammar(value: str) -> None:
    assert is_uri_reference(value) is (_URI_REFERENCE.match(value) is not None)


def test_a_record_id_is_a_uri_reference() -> None:
    assert is_uri_reference(hashlib.sha256(b"event:CustomerUpdated").hexdigest())


@given(st.sampled_from(["a@example.com", "a@example.invalid", "x", "Ab.c@Example.ORG", "@x.de"]))
def test_cached_email_answers_match_the_rule(value: str) -> None:
    assert is_email(value) is is_email.__wrapped__(value)
    assert is_email(value) is is_email.__wrapped__(value)  # the cached answer
