"""The mark's bytes and the stale decision of docs/DESIGN.md §11."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from consumer.pipeline.state.mark import (
    MARK_BYTES,
    MarkFormatError,
    customer_key,
    decode_mark,
    encode_mark,
    is_stale,
)

INT64 = st.integers(min_value=-(2**63), max_value=2**63 - 1)


@given(st.tuples(INT64, INT64, INT64))
def test_a_mark_survives_its_bytes(mark: tuple[int, int, int]) -> None:
    raw = encode_mark(mark)
    assert len(raw) == MARK_BYTES
    assert decode_mark(raw) == mark


@pytest.mark.parametrize("raw", [b"", b"\x01" + b"\x00" * 23, b"\x02" + b"\x00" * 24, b"123"])
def test_other_bytes_are_refused(raw: bytes) -> None:
    with pytest.raises(MarkFormatError):
        decode_mark(raw)


def test_customer_key_is_the_decimal_id() -> None:
    assert customer_key(1001) == b"1001"


def test_older_is_stale_equal_and_newer_go_on() -> None:
    mark = (2_000, 1_500, 7)
    assert is_stale((1_999, 9_999, 99), mark)
    assert is_stale((2_000, 1_499, 99), mark)
    assert is_stale((2_000, 1_500, 6), mark)  # ties go to the higher offset
    assert not is_stale(mark, mark)
    assert not is_stale((2_000, 1_500, 8), mark)
    assert not is_stale((2_001, 0, 0), mark)
    assert not is_stale((0, 0, 0), None)


def test_a_deletes_mark_keeps_a_late_update_out() -> None:
    # Delete: (event_time, event_time, offset). A later-polled update whose updated_at is older
    # than the delete's event time is stale; a newer create is not.
    delete_mark = (5_000, 5_000, 10)
    assert is_stale((4_000, 6_000, 11), delete_mark)
    assert not is_stale((5_001, 5_001, 12), delete_mark)
