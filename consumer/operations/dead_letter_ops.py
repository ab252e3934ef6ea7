"""Reading, counting, redriving and purging the dead-letter topic (`profile-sync dlq`)."""

from __future__ import annotations

import functools
import re
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Final, TextIO

import orjson
from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient

from consumer.operations import kafka_io
from consumer.operations.dead_letter_view import DeadLetterView, view_of
from consumer.operations.errors import OperationError, usage
from consumer.operations.filters import Filters
from consumer.operations.kafka_io import DeliveryTracker, Span
from consumer.operations.pacing import Pacer
from consumer.operations.times import iso_millis
from schemas import replay_headers

GROUPINGS: Final = ("class", "stage", "event_type", "status", "hour", "partition")
_COORDINATES: Final = re.compile(r"^(\d+):(\d+)$")
_HOUR_MS: Final = 3_600_000


def scan(
    consumer: Consumer,
    topic: str,
    spans: list[Span],
    filters: Filters,
    on_progress: Callable[[int], None] | None = None,
) -> Iterator[list[DeadLetterView]]:
    """The dead letters of `spans` that pass `filters`, a batch at a time."""
    for batch in kafka_io.read(consumer, topic, spans, on_progress):
        views = [view for view in map(view_of, batch) if filters.matches(view)]
        if views:
            yield views


# ---- stats --------------------------------------------------------------------------------


def group_value(view: DeadLetterView, by: str) -> str | int | None:
    if by == "class":
        return view.error_class
    if by == "stage":
        return view.stage
    if by == "event_type":
        return view.event_type
    if by == "status":
        return view.status
    if by == "hour":
        return iso_millis(view.timestamp_ms - view.timestamp_ms % _HOUR_MS)
    if by == "partition":
        return view.source_partition
    raise ValueError(by)


@dataclass(slots=True)
class Group:
    value: str | int | None
    count: int
    oldest_ms: int
    newest_ms: int

    def as_json(self, by: str) -> dict[str, Any]:
        return {
            "by": by,
            "value": self.value,
            "count": self.count,
            "oldest": iso_millis(self.oldest_ms),
            "newest": iso_millis(self.newest_ms),
        }


def stats(batches: Iterable[list[DeadLetterView]], by: str) -> list[Group]:
    """Counts, oldest and newest per group: the most frequent first (by hour: in time order)."""
    groups: dict[str | int | None, Group] = {}
    for batch in batches:
        for view in batch:
            value = group_value(view, by)
            group = groups.get(value)
            if group is None:
                groups[value] = Group(value, 1, view.timestamp_ms, view.timestamp_ms)
            else:
                group.count += 1
                group.oldest_ms = min(group.oldest_ms, view.timestamp_ms)
                group.newest_ms = max(group.newest_ms, view.timestamp_ms)
    if by == "hour":
        return sorted(groups.values(), key=lambda g: str(g.value))
    return sorted(groups.values(), key=lambda g: (-g.count, str(g.value)))


# ---- show -----------------------------------------------------------------------------------


def parse_coordinates(text: str, what: str = "PARTITION:OFFSET") -> tuple[int, int]:
    found = _COORDINATES.match(text.strip())
    if found is None:
        raise usage(f"{text!r} is not {what} (two integers, e.g. 0:42)")
    return int(found.group(1)), int(found.group(2))


def fetch(consumer: Consumer, topic: str, partitions: int, partition: int, offset: int) -> Any:
    """The message at `partition:offset` of the dead-letter topic (exit 2 when there is none)."""
    if not 0 <= partition < partitions:
        raise usage(f"{partition}:{offset}: {topic} has partitions 0 to {partitions - 1}")
    low, high = kafka_io.watermarks(consumer, topic, partition)
    if not low <= offset < high:
        held = f"offsets {low} to {high - 1}" if high > low else "no records"
        raise usage(
            f"{partition}:{offset}: no dead letter there ({topic}[{partition}] holds {held})"
        )
    for batch in kafka_io.read(consumer, topic, [Span(partition, offset, offset + 1)]):
        for message in batch:
            if message.offset() == offset:
                return message
    raise usage(f"{partition}:{offset}: no dead letter there (removed by compaction)")


# ---- redrive --------------------------------------------------------------------------------


def read_selection(source: TextIO) -> dict[int, set[int]]:
    """Dead-letter coordinates from `list --json` lines (any object with `partition` and
    `offset`, so `jq` may reshape them); blank lines are skipped."""
    chosen: dict[int, set[int]] = {}
    for number, line in enumerate(source, start=1):
        if not line.strip():
            continue
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError:
            raise usage(
                f"--from-file line {number}: not JSON (expected `dlq list --json` lines)"
            ) from None
        partition = obj.get("partition") if isinstance(obj, dict) else None
        offset = obj.get("offset") if isinstance(obj, dict) else None
        if not isinstance(partition, int) or not isinstance(offset, int):
            raise usage(f'--from-file line {number}: needs integer "partition" and "offset"')
        chosen.setdefault(partition, set()).add(offset)
    return chosen


def selection_spans(
    consumer: Consumer, topic: str, partitions: int, chosen: dict[int, set[int]]
) -> list[Span]:
    """The smallest reads covering `chosen`; exit 2 when a coordinate is not in the topic."""
    spans = []
    for partition, offsets in sorted(chosen.items()):
        if not 0 <= partition < partitions:
            raise usage(f"--from-file: {topic} has no partition {partition}")
        low, high = kafka_io.watermarks(consumer, topic, partition)
        outside = sorted(o for o in offsets if not low <= o < high)
        if outside:
            raise usage(
                f"--from-file: {partition}:{outside[0]} is not in {topic} "
                f"(partition {partition} holds offsets {low} to {high - 1})"
            )
        spans.append(Span(partition, min(offsets), max(offsets) + 1))
    return spans


@dataclass(slots=True)
class RedriveCount:
    error_class: str | None
    records: int = 0
    written: int = 0

    def as_json(self, redrive_id: str | None, executed: bool) -> dict[str, Any]:
        """`redrive_id` is None in a dry run: nothing carries it."""
        return {
            "class": self.error_class,
            "records": self.records,
            "written": self.written,
            "executed": executed,
            "redrive_id": redrive_id,
        }


def redrive_headers(view: DeadLetterView, redrive_id: str) -> list[tuple[str, bytes | None]]:
    """The source record's own headers, then where it came from and which redrive wrote it."""
    headers = [
        (k, v)
        for k, v in view.original_headers()
        if k not in replay_headers.PROVENANCE and k != replay_headers.ATTEMPTS
    ]
    headers.extend(
        [
            (replay_headers.SOURCE_TOPIC, str(view.source_topic).encode()),
            (replay_headers.SOURCE_PARTITION, str(view.source_partition).encode()),
            (replay_headers.SOURCE_OFFSET, str(view.source_offset).encode()),
            (replay_headers.REDRIVE_ID, redrive_id.encode()),
            (replay_headers.ATTEMPTS, str(view.attempts or 0).encode()),
        ]
    )
    return headers


class Redrive:
    """Counts the selection by class and, when `producer` is given, writes it."""

    def __init__(
        self,
        replay_topic: str,
        replay_partitions: int,
        redrive_id: str,
        producer: Producer | None,
        pacer: Pacer,
    ) -> None:
        self._topic = replay_topic
        self._partitions = replay_partitions
        self.redrive_id = redrive_id
        self._producer = producer
        self._pacer = pacer
        self._tracker = DeliveryTracker()
        self.counts: dict[str | None, RedriveCount] = {}

    def take(self, view: DeadLetterView) -> None:
        try:
            self._take(view)
        except OperationError:
            if self._producer is not None:
                self._producer.flush(30)  # what was handed over is written, and counted
            raise

    def _take(self, view: DeadLetterView) -> None:
        if view.source_partition is None or view.source_offset is None or not view.source_topic:
            raise OperationError(
                f"dead letter {view.partition}:{view.offset} has no source coordinates "
                "(__connect.errors.* headers): it cannot be redriven"
            )
        if view.source_partition >= self._partitions:
            raise OperationError(
                f"dead letter {view.partition}:{view.offset} comes from partition "
                f"{view.source_partition}, but {self._topic} has {self._partitions} partitions"
            )
        count = self.counts.setdefault(view.error_class, RedriveCount(view.error_class))
        count.records += 1
        if self._producer is None:
            return
        self._pacer.wait()
        kafka_io.produce(
            self._producer,
            self._topic,
            view.source_partition,
            view.key,
            view.value,
            redrive_headers(view, self.redrive_id),
            functools.partial(self._delivered, view.error_class),
        )
        if self._tracker.failure is not None:
            kafka_io.flush(self._producer, self._tracker, self._topic)

    def finish(self) -> list[RedriveCount]:
        if self._producer is not None:
            kafka_io.flush(self._producer, self._tracker, self._topic)
        return sorted(self.counts.values(), key=lambda c: (-c.records, str(c.error_class)))

    def _delivered(self, error_class: str | None, error: Any, message: Any) -> None:
        self._tracker(error, message)
        if error is None:
            self.counts[error_class].written += 1


# ---- purge ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PurgeSpan:
    partition: int
    low: int  # first offset now
    before: int  # records below this offset go

    @property
    def records(self) -> int:
        return max(self.before - self.low, 0)

    def as_json(self, executed: bool) -> dict[str, Any]:
        return {
            "partition": self.partition,
            "first_offset": self.low,
            "delete_before_offset": self.before,
            "records": self.records,
            "executed": executed,
        }


def purge_before(consumer: Consumer, topic: str, partitions: int, millis: int) -> list[PurgeSpan]:
    cut = kafka_io.offsets_at(consumer, topic, list(range(partitions)), millis)
    spans = []
    for p in range(partitions):
        low, _high = kafka_io.watermarks(consumer, topic, p)
        spans.append(PurgeSpan(p, low, max(cut[p], low)))
    return spans


def purge_to(
    consumer: Consumer, topic: str, partitions: int, partition: int, offset: int
) -> list[PurgeSpan]:
    if not 0 <= partition < partitions:
        raise usage(
            f"--to-offset {partition}:{offset}: {topic} has partitions 0 to {partitions - 1}"
        )
    low, high = kafka_io.watermarks(consumer, topic, partition)
    if offset > high:
        raise usage(
            f"--to-offset {partition}:{offset}: beyond the end of {topic}[{partition}] ({high})"
        )
    return [PurgeSpan(partition, low, max(offset, low))]


def delete(admin: AdminClient, topic: str, spans: list[PurgeSpan]) -> dict[int, int]:
    """Kafka deleteRecords; returns each partition's new first offset."""
    wanted = [TopicPartition(topic, s.partition, s.before) for s in spans if s.records > 0]
    if not wanted:
        return {}
    try:
        futures = admin.delete_records(wanted, request_timeout=30, operation_timeout=30)
        return {tp.partition: int(f.result().low_watermark) for tp, f in futures.items()}
    except KafkaException as exc:
        raise OperationError(f"deleting records of {topic} failed: {exc.args[0]}") from None


def new_id() -> str:
    return str(uuid.uuid4())
