from __future__ import annotations

from typing import Any

import orjson

from consumer.operations.dead_letter_view import view_of
from consumer.operations.filters import Filters


class Message:
    """The part of `confluent_kafka.Message` the view reads."""

    def __init__(self, headers: list[tuple[str, bytes | None]], key: bytes | None = b"42") -> None:
        self._headers = headers
        self._key = key

    def headers(self) -> list[tuple[str, bytes | None]]:
        return self._headers

    def key(self) -> bytes | None:
        return self._key

    def value(self) -> bytes:
        return b"\x00"

    def partition(self) -> int:
        return 1

    def offset(self) -> int:
        return 9

    def timestamp(self) -> tuple[int, int]:
        return (1, 1_796_259_193_312)


def _service(**values: Any) -> list[tuple[str, bytes | None]]:
    names = {
        "topic": "__connect.errors.topic",
        "partition": "__connect.errors.partition",
        "offset": "__connect.errors.offset",
        "stage": "profile_sync.error.stage",
        "error_class": "profile_sync.error.class",
        "detail": "profile_sync.error.detail",
        "attempts": "profile_sync.attempts",
        "customer": "profile_sync.customer_id",
    }
    return [(names[k], str(v).encode()) for k, v in values.items()]


def test_the_service_headers_after_the_originals_are_the_ones_read() -> None:
    # A redriven record that failed again carries its earlier dead letter's headers first.
    earlier = _service(error_class="decode.unknown_fingerprint", attempts=0, stage="decode")
    latest = _service(
        topic="src",
        partition=2,
        offset=77,
        stage="deliver",
        error_class="deliver.aep_rejected",
        detail=orjson.dumps({"status": 400}).decode(),
        attempts=1,
        customer=7,
    )
    view = view_of(Message([("traceparent", b"00-ab"), *earlier, *latest]))
    assert (view.source_topic, view.source_partition, view.source_offset) == ("src", 2, 77)
    assert (view.stage, view.error_class, view.attempts, view.status) == (
        "deliver",
        "deliver.aep_rejected",
        1,
        400,
    )
    assert view.customer_id == "7"
    assert view.original_headers() == [("traceparent", b"00-ab")]
    assert view.summary()["time"] == "2026-12-03T00:53:13.312Z"


def test_without_a_customer_header_the_key_names_the_customer() -> None:
    view = view_of(Message(_service(error_class="decode.truncated"), key=b"1234"))
    assert view.customer_id == "1234"
    assert Filters(customer_id="1234").matches(view)
    assert not Filters(customer_id="123").matches(view)
    assert view_of(Message([], key=None)).customer_id is None


def test_a_detail_that_is_not_json_is_kept_as_text() -> None:
    view = view_of(Message(_service(detail="{broken")))
    assert view.detail == "{broken"
    assert view.status is None


def test_the_failed_processings_trace_is_the_last_service_traceparent() -> None:
    # The source record's own `traceparent` is an original header, not the service's.
    first = ("profile_sync.traceparent", b"00-" + b"1" * 32 + b"-" + b"2" * 16 + b"-01")
    latest = ("profile_sync.traceparent", b"00-" + b"3" * 32 + b"-" + b"4" * 16 + b"-01")
    view = view_of(Message([("traceparent", b"00-ab"), first, latest]))
    assert view.traceparent() == latest[1].decode()
    assert view_of(Message([("traceparent", b"00-ab")])).traceparent() is None
