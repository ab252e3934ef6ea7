"""Kafka clients of the operator commands, and the bounded reads they share.

The reader never joins its group and never commits: it assigns partitions itself and reads up
to the end offsets taken when it starts, so it ends even while `run` keeps writing. The writer
is idempotent with `acks=all`, like every producer of the service.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Final

from confluent_kafka import (
    Consumer,
    KafkaError,
    KafkaException,
    Producer,
    TopicPartition,
)
from confluent_kafka.admin import AdminClient

from consumer.config.settings import KafkaSettings
from consumer.kafka.properties import admin_config, bounded_reader_config, producer_config
from consumer.operations.errors import OperationError, usage

METADATA_TIMEOUT_S: Final = 10.0
BATCH: Final = 500
# A reader that assigns only never joins this group; librdkafka just wants a name.
READER_GROUP: Final = "profile-sync-operations"
STALL_S: Final = 60.0
_UNRECOVERABLE: Final = frozenset(
    {
        KafkaError.UNKNOWN_TOPIC_OR_PART,
        KafkaError.TOPIC_AUTHORIZATION_FAILED,
        KafkaError.GROUP_AUTHORIZATION_FAILED,
        KafkaError._UNKNOWN_PARTITION,
        KafkaError._UNKNOWN_TOPIC,
    }
)


def reader(settings: KafkaSettings) -> Consumer:
    return Consumer(bounded_reader_config(settings, READER_GROUP))


def writer(settings: KafkaSettings) -> Producer:
    """Idempotent, `acks=all` (the service's owned producer properties)."""
    return Producer(producer_config(settings))


def admin(settings: KafkaSettings) -> AdminClient:
    return AdminClient(admin_config(settings))


def partition_count(client: Consumer | Producer, topic: str, setting: str) -> int:
    """The topic's partition count; exit 2 naming `setting` when it does not exist."""
    try:
        metadata = client.list_topics(timeout=METADATA_TIMEOUT_S)
    except KafkaException as exc:
        raise OperationError(f"cannot reach the Kafka cluster ({exc.args[0]})") from None
    found = metadata.topics.get(topic)
    if found is None or found.error is not None:
        raise usage(f"{setting}: topic {topic!r} does not exist")
    return len(found.partitions)


def watermarks(consumer: Consumer, topic: str, partition: int) -> tuple[int, int]:
    try:
        low, high = consumer.get_watermark_offsets(
            TopicPartition(topic, partition), timeout=METADATA_TIMEOUT_S
        )
    except KafkaException as exc:
        raise OperationError(f"cannot read the offsets of {topic}[{partition}]: {exc}") from None
    return int(low), int(high)


def offsets_at(
    consumer: Consumer, topic: str, partitions: list[int], millis: int
) -> dict[int, int]:
    """Per partition, the first offset whose timestamp is at or after `millis`; the end offset
    when there is none."""
    try:
        found = consumer.offsets_for_times(
            [TopicPartition(topic, p, millis) for p in partitions], timeout=METADATA_TIMEOUT_S
        )
    except KafkaException as exc:
        raise OperationError(f"cannot look up offsets by time in {topic}: {exc}") from None
    result: dict[int, int] = {}
    for tp in found:
        if tp.error is not None:
            raise OperationError(f"cannot look up offsets by time in {topic}: {tp.error}")
        offset = tp.offset
        if offset < 0:  # no record that late: the end
            offset = watermarks(consumer, topic, tp.partition)[1]
        result[tp.partition] = offset
    return result


@dataclass(frozen=True, slots=True)
class Span:
    """Offsets [start, end) of one partition."""

    partition: int
    start: int
    end: int

    @property
    def size(self) -> int:
        return max(self.end - self.start, 0)


def whole(consumer: Consumer, topic: str, partitions: int) -> list[Span]:
    """Every partition from its first offset to its end offset now."""
    return [Span(p, *watermarks(consumer, topic, p)) for p in range(partitions)]


def read(
    consumer: Consumer,
    topic: str,
    spans: list[Span],
    on_progress: Callable[[int], None] | None = None,
    stall_s: float = STALL_S,
) -> Iterator[list[Any]]:
    """The messages of `spans`, a batch at a time (at most :data:`BATCH` held). Passing errors
    are left to librdkafka's retries; a read that makes no progress for `stall_s` fails."""
    pending: dict[int, Span] = {s.partition: s for s in spans if s.size > 0}
    if not pending:
        return
    positions = {p: s.start for p, s in pending.items()}
    consumer.assign([TopicPartition(topic, p, s.start) for p, s in pending.items()])
    last_progress = time.monotonic()
    try:
        while pending:
            if time.monotonic() - last_progress > stall_s:
                raise OperationError(
                    f"reading {topic} made no progress for {stall_s:.0f} s "
                    f"(partitions {sorted(pending)} unfinished)"
                )
            # consume() waits until it has `num_messages` or the timeout passed: never ask for
            # more than are left, so that the last records do not wait out the timeout.
            left = sum(pending[p].end - positions[p] for p in pending)
            batch = consumer.consume(num_messages=max(1, min(BATCH, left)), timeout=0.5)
            kept: list[Any] = []
            for message in batch:
                partition = int(message.partition() or 0)
                span = pending.get(partition)
                error = message.error()
                if error is not None:
                    if error.code() == KafkaError._PARTITION_EOF:
                        last_progress = time.monotonic()
                        if span is not None:
                            _advance(on_progress, positions, partition, span.end)
                            _finish(consumer, topic, pending, partition)
                        continue
                    if error.fatal() or error.code() in _UNRECOVERABLE:
                        raise OperationError(f"reading {topic} failed: {error.str()}")
                    continue  # librdkafka retries (broker down for a moment, ...)
                last_progress = time.monotonic()
                if span is None:
                    continue
                offset = int(message.offset() or 0)
                if offset < span.end:
                    kept.append(message)
                _advance(on_progress, positions, partition, min(offset + 1, span.end))
                if offset + 1 >= span.end:
                    _finish(consumer, topic, pending, partition)
            if kept:
                yield kept
    finally:
        consumer.unassign()


def _advance(
    on_progress: Callable[[int], None] | None, positions: dict[int, int], partition: int, to: int
) -> None:
    step = to - positions[partition]
    if step > 0:
        positions[partition] = to
        if on_progress is not None:
            on_progress(step)


def _finish(consumer: Consumer, topic: str, pending: dict[int, Span], partition: int) -> None:
    pending.pop(partition, None)
    # Paused, not unassigned: the assignment stays one plain `assign` until the read ends.
    consumer.pause([TopicPartition(topic, partition)])


class DeliveryTracker:
    """Counts acknowledged writes; the first failure is kept and reported."""

    def __init__(self) -> None:
        self.acknowledged: dict[int, int] = {}
        self.failure: str | None = None

    def __call__(self, error: Any, message: Any) -> None:
        if error is not None:
            if self.failure is None:
                self.failure = str(error)
            return
        partition = message.partition()
        self.acknowledged[partition] = self.acknowledged.get(partition, 0) + 1

    @property
    def total(self) -> int:
        return sum(self.acknowledged.values())


def produce(
    producer: Producer,
    topic: str,
    partition: int,
    key: bytes | None,
    value: bytes | None,
    headers: Sequence[tuple[str, str | bytes | None]],
    on_delivery: Callable[[Any, Any], None],
) -> None:
    while True:
        try:
            producer.produce(
                topic,
                value=value,
                key=key,
                partition=partition,
                headers=list(headers),
                on_delivery=on_delivery,
            )
            break
        except BufferError:
            producer.poll(0.1)
    producer.poll(0)


def flush(producer: Producer, tracker: DeliveryTracker, topic: str, timeout_s: float = 60) -> None:
    left = producer.flush(timeout_s)
    if tracker.failure is not None:
        raise OperationError(f"writing to {topic} failed: {tracker.failure}")
    if left:
        raise OperationError(f"{left} writes to {topic} were not acknowledged in {timeout_s} s")
