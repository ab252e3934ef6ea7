"""A partition is paused exactly while the sender backs off for it (or while the pipeline is
full), and the paused state is reconciled on every assignment (docs/DESIGN.md §6)."""

from __future__ import annotations

from confluent_kafka import TopicPartition

from consumer.kafka.source import KafkaSource
from tests.consumer.kafka.test_source import FakeConsumer, FakeMessage, Pipeline, source_for


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _source(
    consumer: FakeConsumer, max_buffered: int | None = None, clock: Clock | None = None
) -> tuple[KafkaSource, Pipeline, Pipeline]:
    pipeline = Pipeline(max_buffered if max_buffered is not None else 1_000_000)
    source, _, _ = source_for(consumer, pipeline, clock or Clock())
    consumer.callbacks = {
        "on_assign": source._on_assign,
        "on_revoke": source._on_revoke,
        "on_lost": source._on_lost,
    }
    return source, pipeline, pipeline


def test_paused_exactly_while_the_sender_backs_off_for_the_partition() -> None:
    consumer = FakeConsumer([0, 1, 2], [[FakeMessage(p, 0) for p in (0, 1, 2)]])
    source, send, _ = _source(consumer)
    source._tick()  # assigned
    assert consumer.paused == set()
    send.partitions = frozenset({("t", 1)})
    source._tick()
    assert consumer.paused == {1}
    send.partitions = frozenset({("t", 1), ("t", 2)})
    source._tick()
    assert consumer.paused == {1, 2}
    send.partitions = frozenset()
    source._tick()
    assert consumer.paused == set()


def test_a_partition_assigned_while_the_sender_backs_off_for_it_starts_paused() -> None:
    consumer = FakeConsumer([0], [])
    source, send, _ = _source(consumer)
    source._tick()
    send.partitions = frozenset({("t", 3)})  # left over from before a revoke
    source._on_assign(consumer, [TopicPartition("t", 3)])  # type: ignore[arg-type]
    assert consumer.paused == {3}


def test_a_partition_paused_when_revoked_is_resumed_when_assigned_again() -> None:
    consumer = FakeConsumer([0, 1], [])
    source, send, _ = _source(consumer)
    source._tick()
    send.partitions = frozenset({("t", 1)})
    source._tick()
    assert consumer.paused == {1}
    source._on_revoke(consumer, [TopicPartition("t", 1)])  # type: ignore[arg-type]
    send.partitions = frozenset()
    source._on_assign(consumer, [TopicPartition("t", 1)])  # type: ignore[arg-type]
    assert consumer.paused == set()
    source._tick()
    assert consumer.paused == set()


def test_a_full_pipeline_pauses_every_partition_newcomers_included() -> None:
    consumer = FakeConsumer([0, 1], [[FakeMessage(0, 0), FakeMessage(1, 0)]])
    clock = Clock()
    source, _send, pipeline = _source(consumer, clock=clock)
    source._tick()  # assigned
    pipeline.full = True
    source._tick()  # both refused: offered again later
    source._tick()
    assert consumer.paused == {0, 1}
    source._on_assign(consumer, [TopicPartition("t", 2)])  # type: ignore[arg-type]
    assert consumer.paused == {0, 1, 2}
    pipeline.full = False
    clock.now += 1  # past the wait before offering again
    source._tick()
    source._tick()
    assert pipeline.seen == [0, 0]
    assert consumer.paused == set()


def test_polls_never_take_more_than_the_buffer_has_room_for() -> None:
    batches = [[FakeMessage(0, o) for o in range(10)]]
    consumer = FakeConsumer([0], batches)
    asked: list[int] = []
    consume = consumer.consume

    def counting(num: int, timeout: float) -> list[FakeMessage]:
        asked.append(num)
        return consume(num, timeout)[:num]

    consumer.consume = counting  # type: ignore[method-assign]
    source, _send, pipeline = _source(consumer, max_buffered=4)
    pipeline.full = True  # what is polled stays held (offered again later)
    per_tick: list[int] = []
    for _ in range(3):
        asked.clear()
        source._tick()
        per_tick.append(sum(asked))
    # Assigned, nothing fetched (one wait for a first record); then room for 4: the first
    # record, then up to 3 more, all held; then full: every partition paused, 1 because
    # consume() needs a positive count.
    assert per_tick == [1, 4, 1]
    assert consumer.paused == {0}
