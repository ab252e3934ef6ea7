"""The dead-letter header contract (docs/DESIGN.md §7) and acknowledgement before accounting."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from confluent_kafka import KafkaError, KafkaException

from consumer.kafka.dead_letters import (
    H_VALUE_OMITTED,
    DeadLetterProducer,
    dead_letter_headers,
    format_time,
)
from consumer.observability.metrics import Metrics
from consumer.pipeline.errors import DeadLetter, DeadLetterWriteFailed
from tests.consumer.pipeline.fakes import Collector, make_record

FAILED_AT = datetime(2026, 11, 28, 10, 15, 0, 123456, tzinfo=UTC)


class FakeProducer:
    """`max_value`: a larger value is refused at once as librdkafka refuses a message above its
    message.max.bytes; `refuse`: every produce raises this error code."""

    def __init__(
        self, full_times: int = 0, max_value: int | None = None, refuse: int | None = None
    ) -> None:
        self.produced: list[dict[str, Any]] = []
        self.callbacks: list[Callable[[Any, Any], None]] = []
        self.full_times = full_times
        self.max_value = max_value
        self.refuse = refuse

    def produce(self, topic: str, value: bytes | None = None, key: bytes | None = None,
                *, on_delivery: Any = None, headers: Any = None) -> None:  # fmt: skip
        if self.full_times:
            self.full_times -= 1
            raise BufferError("queue full")
        if self.refuse is not None:
            raise KafkaException(KafkaError(self.refuse))
        if self.max_value is not None and len(value or b"") > self.max_value:
            raise KafkaException(KafkaError(KafkaError.MSG_SIZE_TOO_LARGE))
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


EMPTY = DeadLetter("decode.malformed_body", "body does not decode", "decode")


def _headers(produced: dict[str, Any]) -> dict[str, bytes]:
    return dict(produced["headers"])


def test_a_copy_too_large_for_the_producer_is_written_without_its_value() -> None:
    producer = FakeProducer(max_value=1000)
    accounted = Collector()
    sink = DeadLetterProducer(producer, "t.dlq", accounted, Metrics())
    sink.dead_letter(make_record(1, value=b"\xff" * 5000), EMPTY)
    sink.dead_letter(make_record(2, value=b"\xff" * 10), EMPTY)
    big, small = producer.produced
    assert big["value"] is None
    assert big["key"] == b"k"
    assert _headers(big)[H_VALUE_OMITTED] == b"5000"
    assert _headers(big)["h"] == b"1"  # the original headers stay
    assert _headers(big)["profile_sync.error.class"] == b"decode.malformed_body"
    assert small["value"] == b"\xff" * 10
    assert H_VALUE_OMITTED not in _headers(small)
    assert sink.join(1.0)
    assert accounted.offsets == [1, 2]


def test_a_copy_the_topic_refuses_as_too_large_is_written_again_without_its_value() -> None:
    producer = FakeProducer()
    accounted = Collector()
    sink = DeadLetterProducer(producer, "t.dlq", accounted, Metrics())
    sink.dead_letter(make_record(1, value=b"v" * 3000), EMPTY)
    producer.ack(error=KafkaError(KafkaError.MSG_SIZE_TOO_LARGE))
    assert accounted.records == []
    assert sink.pending() == 1
    again = producer.produced[1]
    assert again["value"] is None
    assert _headers(again)[H_VALUE_OMITTED] == b"3000"
    producer.ack()
    sink.poll()
    assert accounted.offsets == [1]


def test_a_copy_refused_for_a_batch_mates_size_is_tried_again() -> None:
    # The broker refuses a whole batch: the small copy was refused with the big one.
    producer = FakeProducer()
    accounted = Collector()
    sink = DeadLetterProducer(producer, "t.dlq", accounted, Metrics())
    sink.dead_letter(make_record(1, value=b"v" * 3000), EMPTY)
    sink.dead_letter(make_record(2, value=b"small"), EMPTY)
    producer.ack(error=KafkaError(KafkaError.MSG_SIZE_TOO_LARGE))
    producer.ack(error=KafkaError(KafkaError.MSG_SIZE_TOO_LARGE))
    producer.ack(error=KafkaError(KafkaError.MSG_SIZE_TOO_LARGE))  # 1 again, with 2
    producer.ack()  # 2 without its value
    producer.ack()  # 1 without its value
    sink.poll()
    assert sorted(accounted.offsets) == [1, 2]
    assert [_headers(p).get(H_VALUE_OMITTED) for p in producer.produced] == [
        None, None, b"3000", b"5", b"3000"
    ]  # fmt: skip


def test_a_copy_too_large_even_without_its_value_stops_without_accounting() -> None:
    producer = FakeProducer()
    accounted = Collector()
    sink = DeadLetterProducer(producer, "t.dlq", accounted, Metrics())
    sink.dead_letter(make_record(1, value=b"v" * 3000), EMPTY)
    for _ in range(4):  # the whole copy, then three tries without the value
        producer.ack(error=KafkaError(KafkaError.MSG_SIZE_TOO_LARGE))
    assert len(producer.produced) == 4
    with pytest.raises(DeadLetterWriteFailed):
        sink.poll()
    assert accounted.records == []


@pytest.mark.parametrize(
    "code", [KafkaError._INVALID_ARG, KafkaError._UNKNOWN_TOPIC, KafkaError._FATAL]
)
def test_any_other_produce_error_is_a_failed_write(code: int) -> None:
    producer = FakeProducer(refuse=code)
    accounted = Collector()
    sink = DeadLetterProducer(producer, "t.dlq", accounted, Metrics())
    with pytest.raises(DeadLetterWriteFailed) as stopped:
        sink.dead_letter(make_record(7), EMPTY)
    assert stopped.value.exit_code == 1
    assert "[0]@7" in str(stopped.value)
    with pytest.raises(DeadLetterWriteFailed):
        sink.poll()
    assert accounted.records == []
    assert sink.pending() == 0
