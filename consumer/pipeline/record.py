"""The handle one Kafka record carries through the pipeline."""

from __future__ import annotations

from typing import Any, Final, Literal

from opentelemetry.trace import SpanContext

# (primary ms, secondary ms, offset): docs/DESIGN.md §6's ordering key, the mapper's
# `EventOrder` with the Kafka offset as the last tie-breaker.
OrderingKey = tuple[int, int, int]

# How far a record got; a record offered again after backpressure skips the steps it passed.
POLLED: Final = 0
DECODED: Final = 1
MAPPED: Final = 2
VALIDATED: Final = 3
Header = tuple[str, bytes | None]


class SourceRecord:
    """One polled Kafka record and what the steps learnt about it.

    Steps fill the later fields in order (decode, map, validate); the coordinates and original
    bytes never change, so a dead letter can always copy them unchanged.
    """

    __slots__ = (
        "attempts",
        "customer_id",
        "datum",
        "entity_json",
        "event_type",
        "headers",
        "key",
        "offset",
        "operation",
        "ordering_key",
        "partition",
        "polled_at",
        "progress",
        "record",
        "timestamp_ms",
        "topic",
        "trace_context",
        "value",
    )

    def __init__(
        self,
        topic: str,
        partition: int,
        offset: int,
        key: bytes | None,
        value: bytes | None,
        headers: list[Header] | None,
        timestamp_ms: int | None,
        polled_at: float,
    ) -> None:
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.key = key
        self.value = value
        self.headers = headers
        self.timestamp_ms = timestamp_ms
        self.polled_at = polled_at
        self.event_type: str | None = None
        self.datum: dict[str, Any] | None = None
        self.customer_id: int | None = None
        self.operation: Literal["create", "delete"] = "create"
        self.record: dict[str, Any] | None = None
        self.ordering_key: OrderingKey = (0, 0, offset)
        self.entity_json: bytes = b""
        self.attempts = 0
        self.progress = POLLED
        # The span of the AEP batch that last carried it (tracing on): a dead letter of the
        # record continues that trace.
        self.trace_context: SpanContext | None = None

    @property
    def coordinates(self) -> tuple[str, int, int]:
        return (self.topic, self.partition, self.offset)

    def __repr__(self) -> str:  # coordinates only: the payload may hold personal data
        return f"SourceRecord({self.topic}[{self.partition}]@{self.offset})"
