"""Provenance headers of replayed and redriven records (docs/DESIGN.md §12), and the dead letter
such a record gets when it fails again: its original coordinates, one more attempt, the ids."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from consumer.kafka.dead_letters import dead_letter_headers
from consumer.kafka.replayed import read_provenance
from consumer.pipeline.errors import DeadLetter
from consumer.pipeline.record import Replay
from tests.consumer.pipeline.fakes import make_record

REASON = DeadLetter("decode.malformed_body", "bytes left over", "decode", {})
FAILED_AT = datetime(2026, 11, 28, 10, 15, tzinfo=UTC)


def test_provenance_is_read_and_taken_off_leaving_the_source_headers_in_order() -> None:
    replay, rest = read_provenance(
        [
            ("traceparent", b"00-a"),
            ("profile_sync.source.topic", b"orders"),
            ("origin", None),
            ("profile_sync.source.partition", b"4"),
            ("profile_sync.source.offset", b"1200"),
            ("profile_sync.redrive.id", b"rd-1"),
            ("profile_sync.attempts", b"3"),
        ]
    )
    assert replay == Replay(("orders", 4, 1200), redrive_id="rd-1", attempts=3)
    assert rest == [("traceparent", b"00-a"), ("origin", None)]


@pytest.mark.parametrize(
    "headers",
    [
        None,
        [("profile_sync.source.topic", b"orders"), ("profile_sync.source.partition", b"1")],
        [
            ("profile_sync.source.topic", b"orders"),
            ("profile_sync.source.partition", b"1"),
            ("profile_sync.source.offset", b"-5"),
        ],
        [
            ("profile_sync.source.topic", b"\xff"),
            ("profile_sync.source.partition", b"1"),
            ("profile_sync.source.offset", b"x"),
        ],
    ],
)
def test_incomplete_provenance_names_no_source_and_orders_first(
    headers: list[tuple[str, bytes | None]] | None,
) -> None:
    replay, _ = read_provenance(headers)
    assert replay.source is None
    record = make_record(77, partition=1)
    record.replay = replay
    assert record.source_offset == -1  # never wins a tie against a real source offset
    assert record.source_coordinates == record.coordinates


def test_a_redriven_record_failing_again_names_its_original_and_counts_one_more_attempt() -> None:
    record = make_record(9, partition=1)  # read from the replay topic at offset 9
    record.replay = Replay(("orders", 1, 1200), redrive_id="rd-1", attempts=3)
    headers = dict(dead_letter_headers(record, REASON, FAILED_AT))
    assert headers["__connect.errors.topic"] == b"orders"
    assert headers["__connect.errors.partition"] == b"1"
    assert headers["__connect.errors.offset"] == b"1200"
    assert headers["profile_sync.attempts"] == b"4"  # failed before being sent: one more
    assert headers["profile_sync.redrive.id"] == b"rd-1"
    assert "profile_sync.replay.id" not in headers
    record.attempts = 2  # sent twice this time
    assert dict(dead_letter_headers(record, REASON, FAILED_AT))["profile_sync.attempts"] == b"5"


def test_a_replayed_record_keeps_its_attempts_and_names_the_replay() -> None:
    record = make_record(9)
    record.attempts = 1
    record.replay = Replay(("orders", 0, 50), replay_id="rp-2")
    headers = dict(dead_letter_headers(record, REASON, FAILED_AT))
    assert headers["profile_sync.attempts"] == b"1"
    assert headers["profile_sync.replay.id"] == b"rp-2"
    assert headers["__connect.errors.offset"] == b"50"
