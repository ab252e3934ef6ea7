"""The dead-letter header contract (docs/DESIGN.md §7) and acknowledgement before accounting."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from consumer.kafka.dead_letters import DeadLetterProducer, dead_letter_headers, format_time
from consumer.observability.metrics import Metrics
from consumer.pipeline.errors import DeadLetter, DeadLetterWriteFailed
from tests.consumer.pipeline.fakes import Collector, make_record

FAILED_AT = datetime(2026, 11, 28, 10, 15, 0, 123456, tzinfo=UTC)


class FakeProducer:
    def __init__(self, full_times: int = 0) -> None:
        self.produced: list[dict[str, Any]] = []
        self.callbacks: list[Callable[[Any, Any], None]] = []
        self.full_times = full_times

    def produce(self, topic: str, value: bytes | None = None, key: bytes | None = None,
                *, on_delivery: Any = None, headers: Any = None) -> None:  # fmt: skip
        if self.full_times:
            self.full_times -= 1
            raise BufferError("queue full")
        self.produced.append({"topic": topic, "key": key, "value": value, "headers": headers})
        self.callbacks.append(on_delivery)

    def ack(self, error: Any = None) -> None:
        self.callbacks.pop(0)(error, None)

    def poll(self, timeout: float) -> int:
        return 0

    def flush(self, timeout: float) -> int:
        while self.callbacks:
            self.ack()
        return 0


def test_headers_follow_the_contract_exactly_and_in_order() -> None:
    record = make_record(42, partition=3)
    record.event_type = "CustomerUpdated"
    record.customer_id = 1001
    record.attempts = 2
    reason = DeadLetter(
        "deliver.aep_rejected",
        'AEP: string "jane@example.com" is not a valid email',
        "deliver",
        {"status": 400, "message": "value [jane@example.com] refused", "xactionId": "x-1"},
    )
    headers = dead_letter_headers(record, reason, FAILED_AT)
    assert headers[0] == ("h", b"1")  # original headers first, unchanged
    ours = {name: value.decode() for name, value in headers[1:] if value is not None}
    assert [name for name, _ in headers[1:]] == [
        "__connect.errors.topic",
        "__connect.errors.partition",
        "__connect.errors.offset",
        "__connect.errors.exception.class.name",
        "__connect.errors.exception.message",
        "profile_sync.error.stage",
        "profile_sync.error.class",
        "profile_sync.error.detail",
        "profile_sync.attempts",
        "profile_sync.failed_at",
        "profile_sync.event_type",
        "profile_sync.customer_id",
    ]
    assert ours["__connect.errors.topic"] == "t"
    assert ours["__connect.errors.partition"] == "3"
    assert ours["__connect.errors.offset"] == "42"
    assert ours["__connect.errors.exception.class.name"] == "profile_sync.DeliverError"
    assert "jane@example.com" not in ours["__connect.errors.exception.message"]
    assert "[redacted]" in ours["__connect.errors.exception.message"]
    assert ours["profile_sync.error.stage"] == "deliver"
    assert ours["profile_sync.error.class"] == "deliver.aep_rejected"
    detail = orjson.loads(ours["profile_sync.error.detail"])
    assert detail["status"] == 400
    assert detail["xactionId"] == "x-1"
    assert "jane" not in detail["message"]
    assert ours["profile_sync.attempts"] == "2"
    assert ours["profile_sync.failed_at"] == "2026-11-28T10:15:00.123Z"
    assert ours["profile_sync.event_type"] == "CustomerUpdated"
    assert ours["profile_sync.customer_id"] == "1001"


def test_unknown_event_type_and_customer_are_left_out_and_message_capped() -> None:
    record = make_record(1)
    reason = DeadLetter("decode.malformed_body", "x" * 5000, "decode")
    names = [name for name, _ in dead_letter_headers(record, reason, FAILED_AT)]
    assert "profile_sync.event_type" not in names
    assert "profile_sync.customer_id" not in names
    message = dict(dead_letter_headers(record, reason, FAILED_AT))[
        "__connect.errors.exception.message"
    ]
    assert message is not None
    assert len(message) <= 1024


def test_format_time_is_milliseconds_in_utc() -> None:
    assert format_time(datetime(2026, 1, 2, 3, 4, 5, 6000, tzinfo=UTC)) == (
        "2026-01-02T03:04:05.006Z"
    )


def test_key_value_copied_and_accounted_only_when_acknowledged() -> None:
    producer = FakeProducer()
    accounted = Collector()
    sink = DeadLetterProducer(producer, "t.dlq", accounted, Metrics())
    record = make_record(5, value=b"\xc3\x01garbage")
    sink.dead_letter(record, DeadLetter("decode.unknown_fingerprint", "unknown", "decode"))
    assert producer.produced[0]["key"] == b"k"
    assert producer.produced[0]["value"] == b"\xc3\x01garbage"
    assert producer.produced[0]["topic"] == "t.dlq"
    assert accounted.records == []
    assert sink.pending() == 1
    producer.ack()
    assert accounted.offsets == [5]
    assert sink.pending() == 0


def test_a_failed_write_stops_and_is_never_accounted() -> None:
    producer = FakeProducer()
    accounted = Collector()
    sink = DeadLetterProducer(producer, "t.dlq", accounted, Metrics())
    sink.dead_letter(make_record(1), DeadLetter("decode.empty_value", "empty", "decode"))
    sink.dead_letter(make_record(2), DeadLetter("decode.empty_value", "empty", "decode"))
    producer.ack(error="_MSG_TIMED_OUT")
    producer.ack()
    with pytest.raises(DeadLetterWriteFailed) as stopped:
        sink.poll()
    assert stopped.value.exit_code == 1
    assert accounted.records == []


def test_a_full_producer_queue_is_retried_from_poll() -> None:
    producer = FakeProducer(full_times=1)
    accounted = Collector()
    sink = DeadLetterProducer(producer, "t.dlq", accounted, Metrics())
    sink.dead_letter(make_record(1), DeadLetter("decode.empty_value", "empty", "decode"))
    assert producer.produced == []
    assert sink.pending() == 1
    sink.poll()
    assert len(producer.produced) == 1
    assert sink.join(1.0)
    assert accounted.offsets == [1]
