"""The poll thread's own rules, with a scripted consumer: idle exit, pause on backpressure
(also for partitions assigned while paused), and the synchronous commit on revoke."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable

from confluent_kafka import TopicPartition

from consumer.kafka.source import KafkaCommitter, KafkaSource
from consumer.observability.metrics import Metrics
from consumer.pipeline.errors import MessageRejected
from consumer.pipeline.offsets import OffsetTracker, TopicPartitionKey
from consumer.pipeline.record import SourceRecord


class FakeMessage:
    def __init__(self, partition: int, offset: int) -> None:
        self._partition, self._offset = partition, offset

    def error(self) -> None:
        return None

    def topic(self) -> str:
        return "t"

    def partition(self) -> int:
        return self._partition

    def offset(self) -> int:
        return self._offset

    def key(self) -> bytes:
        return b"1"

    def value(self) -> bytes:
        return b"v"

    def headers(self) -> None:
        return None

    def timestamp(self) -> tuple[int, int]:
        return (1, 1_000)


class FakeConsumer:
    """Assigns `partitions` on the first consume, then serves `batches` one per call."""

    def __init__(self, partitions: list[int], batches: list[list[FakeMessage]]) -> None:
        self.partitions = partitions
        self.batches = batches
        self.callbacks: dict[str, Callable[..., None]] = {}
        self.assigned: list[TopicPartition] = []
        self.paused: set[int] = set()
        self.stored: list[tuple[int, int]] = []
        self.committed: list[tuple[int, int]] = []
        self.closed = False
        self.consumes = 0
        self.fetch_delayed = False

    def subscribe(self, topics: list[str], **callbacks: Callable[..., None]) -> None:
        self.callbacks = callbacks

    def consume(self, num: int, timeout: float) -> list[FakeMessage]:
        self.consumes += 1
        if self.consumes == 1:
            self.callbacks["on_assign"](self, [TopicPartition("t", p) for p in self.partitions])
            return []
        if self.batches:
            return [m for m in self.batches.pop(0) if m.partition() not in self.paused]
        return []

    def incremental_assign(self, partitions: list[TopicPartition]) -> None:
        self.assigned.extend(partitions)

    def incremental_unassign(self, partitions: list[TopicPartition]) -> None:
        gone = {p.partition for p in partitions}
        self.assigned = [p for p in self.assigned if p.partition not in gone]

    def assignment(self) -> list[TopicPartition]:
        return list(self.assigned)

    def get_watermark_offsets(self, partition: TopicPartition, cached: bool) -> tuple[int, int]:
        assert cached  # the poll thread never waits for the broker here
        # Unknown (-1001) until the partition's first fetch answer, which comes with the second
        # consume after the assignment, or never while `fetch_delayed`.
        fetched = self.consumes >= 2 and not self.fetch_delayed
        return (0, 0) if fetched else (-1001, -1001)

    def pause(self, partitions: list[TopicPartition]) -> None:
        self.paused |= {p.partition for p in partitions}

    def resume(self, partitions: list[TopicPartition]) -> None:
        self.paused -= {p.partition for p in partitions}

    def store_offsets(self, offsets: list[TopicPartition]) -> None:
        self.stored.extend((o.partition, o.offset) for o in offsets)

    def commit(self, offsets: list[TopicPartition], asynchronous: bool) -> None:
        assert not asynchronous
        self.committed.extend((o.partition, o.offset) for o in offsets)

    def close(self) -> None:
        self.closed = True
        self.callbacks["on_revoke"](self, list(self.assigned))


class Pipeline:
    """A `PipelineInterface` that accounts for every record at once, or refuses while `full`.
    With `max_buffered`, what it refused counts as buffered; `partitions` are those it backs off
    for."""

    def __init__(self, max_buffered: int = 1_000_000) -> None:
        self.tracker = OffsetTracker()
        self.full = False
        self.seen: list[int] = []
        self.max_buffered = max_buffered
        self.partitions: frozenset[TopicPartitionKey] = frozenset()

    def track(self, tp: TopicPartitionKey, offset: int) -> bool:
        return self.tracker.track(tp, offset)

    def submit(self, record: SourceRecord) -> None:
        if self.full:
            raise MessageRejected("full")
        self.seen.append(record.offset)
        self.tracker.accounted((record.topic, record.partition), record.offset)

    def poll(self) -> None:
        pass

    def buffered_records(self) -> int:
        return 0

    def room(self) -> int:
        return self.max_buffered

    def busy(self) -> bool:
        return bool(self.tracker.total_pending())

    def backing_off(self) -> frozenset[TopicPartitionKey]:
        return self.partitions

    def owned(self) -> list[TopicPartitionKey]:
        return self.tracker.owned()

    def assign(self, partitions: list[TopicPartitionKey]) -> None:
        for tp in partitions:
            self.tracker.assign(tp)

    def revoke(self, partitions: list[TopicPartitionKey]) -> int:
        return 0

    def unsettled(self, partitions: list[TopicPartitionKey]) -> bool:
        return False

    def wait(self, timeout: float) -> None:
        pass

    def positions(self, partitions: Iterable[TopicPartitionKey]) -> dict[TopicPartitionKey, int]:
        return {tp: p for tp in partitions if (p := self.tracker.position(tp)) is not None}

    def forget(self, partitions: Iterable[TopicPartitionKey]) -> None:
        for tp in partitions:
            self.tracker.forget(tp)

    def close(self) -> None:
        pass


def source_for(
    consumer: FakeConsumer,
    pipeline: Pipeline | None = None,
    clock: Callable[[], float] | None = None,
) -> tuple[KafkaSource, Pipeline, OffsetTracker]:
    pipeline = pipeline or Pipeline()
    metrics = Metrics()
    source = KafkaSource(
        consumer,  # type: ignore[arg-type]
        "t",
        pipeline,
        committer=KafkaCommitter(consumer, metrics),  # type: ignore[arg-type]
        metrics=metrics,
        revoke_timeout_s=1.0,
        **({"clock": clock} if clock is not None else {}),
    )
    return source, pipeline, pipeline.tracker


def test_idle_exit_waits_for_assignment_then_commits_synchronously() -> None:
    consumer = FakeConsumer([0, 1], [[FakeMessage(0, 0), FakeMessage(0, 1), FakeMessage(1, 5)]])
    source, pipeline, _ = source_for(consumer)
    source.run(threading.Event(), exit_when_idle=0.3)
    assert pipeline.seen == [0, 1, 5]
    source.shutdown()
    assert sorted(consumer.committed) == [(0, 2), (1, 6)]
    assert consumer.closed
    # stored before the synchronous commit: librdkafka's close-time commit cannot go back
    assert (0, 2) in consumer.stored


def test_idle_exit_waits_for_every_partitions_first_fetch_answer() -> None:
    # Assigned, nothing polled, nothing buffered: but no fetch answer has come yet, so the
    # records the partitions may hold are still unknown.
    consumer = FakeConsumer([0, 1], [])
    consumer.fetch_delayed = True
    now = [0.0]

    def clock() -> float:
        now[0] += 0.1
        if now[0] >= 5.0:
            consumer.fetch_delayed = False
        return now[0]

    source, _, _ = source_for(consumer, clock=clock)
    source.run(threading.Event(), exit_when_idle=1.0)
    # It left only once the answers came at 5 s, and then after the whole idle wait.
    assert now[0] >= 6.0


def test_backpressure_pauses_every_partition_and_resumes_when_taken() -> None:
    consumer = FakeConsumer([0], [[FakeMessage(0, 0), FakeMessage(0, 1)], [], []])
    source, pipeline, tracker = source_for(consumer)
    consumer.subscribe(
        ["t"],
        on_assign=source._on_assign,
        on_revoke=source._on_revoke,
        on_lost=source._on_lost,
    )
    pipeline.full = True
    source._tick()  # assignment
    source._tick()  # two records, both refused
    source._tick()
    assert consumer.paused == {0}
    # a partition assigned while paused is paused too
    source._on_assign(consumer, [TopicPartition("t", 3)])  # type: ignore[arg-type]
    assert consumer.paused == {0, 3}
    pipeline.full = False
    source._offer_again_at = 0.0
    source._tick()
    assert pipeline.seen == [0, 1]
    assert consumer.paused == set()
    assert tracker.position(("t", 0)) == 2


def test_revoke_commits_the_partition_and_forgets_it() -> None:
    consumer = FakeConsumer([0, 1], [[FakeMessage(0, 0), FakeMessage(1, 0)]])
    source, _, tracker = source_for(consumer)
    consumer.subscribe(["t"], on_assign=source._on_assign, on_revoke=source._on_revoke)
    source._tick()
    source._tick()
    source._on_revoke(consumer, [TopicPartition("t", 1)])  # type: ignore[arg-type]
    assert consumer.committed == [(1, 1)]
    assert tracker.owned() == [("t", 0)]
    assert [p.partition for p in consumer.assigned] == [0]
