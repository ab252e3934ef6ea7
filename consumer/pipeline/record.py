"""The handle one Kafka record carries through the pipeline."""

from __future__ import annotations

from dataclasses import dataclass
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


@dataclass(frozen=True, slots=True)
class Replay:
    """Where a record read from the replay topic really comes from (its provenance headers).

    `source`: the original source coordinates, None when the headers do not name them (a record
    written there by hand); `attempts`: the delivery attempts of the dead letter a redrive wrote
    back (None for a plain replay)."""

    source: tuple[str, int, int] | None
    replay_id: str | None = None
    redrive_id: str | None = None
    attempts: int | None = None


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
        "replay",
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
        # Set when the record was read from the replay topic.
        self.replay: Replay | None = None

    @property
    def source_offset(self) -> int:
        """The offset in the ordering key: the original source offset of a replayed record
        (docs/DESIGN.md §12), -1 when its headers do not say (it then never wins a tie)."""
        replay = self.replay
        if replay is None:
            return self.offset
        return -1 if replay.source is None else replay.source[2]

    @property
    def source_coordinates(self) -> tuple[str, int, int]:
        """Where the record was first written: what a dead letter names as its origin."""
        replay = self.replay
        if replay is None or replay.source is None:
            return (self.topic, self.partition, self.offset)
        return replay.source

    @property
    def coordinates(self) -> tuple[str, int, int]:
        return (self.topic, self.partition, self.offset)

    def __repr__(self) -> str:  # coordinates only: the payload may hold personal data
        return f"SourceRecord({self.topic}[{self.partition}]@{self.offset})"
