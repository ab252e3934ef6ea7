"""The dead-letter guard: window, minimum, share; refusing writes and capping commits once
tripped."""

from __future__ import annotations

from typing import Any

import pytest

from consumer.config import exit_codes
from consumer.kafka.dead_letters import DeadLetterProducer
from consumer.kafka.source import KafkaCommitter
from consumer.observability.metrics import Metrics
from consumer.pipeline.errors import DeadLetter
from consumer.pipeline.guard import CountingStep, DeadLetterGuard, GuardTripped
from tests.consumer.kafka.test_source import FakeConsumer
from tests.consumer.pipeline.fakes import TOPIC, Collector, make_record


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_trips_when_more_than_the_share_of_at_least_the_minimum_is_dead_lettered() -> None:
    guard = DeadLetterGuard(60, min_records=10, max_share=0.5, clock=Clock())
    for offset in range(5):
        guard.processed(make_record(offset))
    for offset in range(5, 9):
        guard.dead_letter(make_record(offset))  # 4 of 9: below the minimum anyway
    guard.dead_letter(make_record(9))  # 5 of 10: not more than half
    assert not guard.tripped
    with pytest.raises(GuardTripped) as raised:
        guard.dead_letter(make_record(10))  # 6 of 11
    assert raised.value.exit_code == exit_codes.DLQ_GUARD_TRIPPED
    assert guard.tripped
    with pytest.raises(GuardTripped):  # and it keeps refusing
        guard.dead_letter(make_record(11))


def test_below_the_minimum_even_all_dead_letters_do_not_trip() -> None:
    guard = DeadLetterGuard(60, min_records=200, max_share=0.5, clock=Clock())
    for offset in range(199):
        guard.dead_letter(make_record(offset))
    assert not guard.tripped


def test_the_window_slides_so_old_dead_letters_stop_counting() -> None:
    clock = Clock()
    guard = DeadLetterGuard(10, min_records=10, max_share=0.5, clock=clock)
    for offset in range(5):
        guard.dead_letter(make_record(offset))
    clock.now += 11  # those left the window
    for offset in range(5, 10):
        guard.processed(make_record(offset))
    for offset in range(10, 15):
        guard.dead_letter(make_record(offset))  # 5 of 10 in the window: not more than half
    assert not guard.tripped


def test_once_tripped_no_position_goes_past_the_window_first_record() -> None:
    clock = Clock()
    guard = DeadLetterGuard(10, min_records=4, max_share=0.5, clock=clock)
    guard.processed(make_record(3, partition=0))  # leaves the window below
    clock.now += 20
    guard.processed(make_record(40, partition=0))
    guard.processed(make_record(7, partition=1))
    clock.now += 1
    guard.dead_letter(make_record(41, partition=0))
    guard.dead_letter(make_record(42, partition=0))  # 2 of 4: not more than half
    positions = {(TOPIC, 0): 45, (TOPIC, 1): 9, (TOPIC, 2): 100}
    assert guard.cap(positions) == positions  # not tripped: unchanged
    with pytest.raises(GuardTripped):
        guard.dead_letter(make_record(43, partition=0))  # 3 of 5
    # Partition 0's window starts at 40, partition 1's at 7; partition 2 had nothing in it.
    assert guard.cap(positions) == {(TOPIC, 0): 40, (TOPIC, 1): 7, (TOPIC, 2): 100}
    assert guard.cap({(TOPIC, 0): 30}) == {(TOPIC, 0): 30}  # never raises a position


def test_counting_step_counts_accounted_records_as_processed() -> None:
    guard = DeadLetterGuard(60, min_records=3, max_share=0.5, clock=Clock())
    collector = Collector()
    counting = CountingStep(guard, collector)
    counting.submit(make_record(1))
    counting.submit(make_record(2))
    assert collector.offsets == [1, 2]
    guard.dead_letter(make_record(3))  # 1 of 3
    assert not guard.tripped


class FakeProducer:
    def __init__(self) -> None:
        self.produced: list[Any] = []

    def produce(self, topic: str, value: Any = None, key: Any = None, **kwargs: Any) -> None:
        self.produced.append((topic, key, value))

    def poll(self, timeout: float) -> int:
        return 0

    def flush(self, timeout: float) -> int:
        return 0


def test_the_dead_letter_producer_writes_nothing_once_the_guard_trips() -> None:
    guard = DeadLetterGuard(60, min_records=2, max_share=0.5, clock=Clock())
    producer = FakeProducer()
    sink = DeadLetterProducer(producer, "dlq", Collector(), Metrics(), guard=guard)
    reason = DeadLetter("decode.malformed_body", "not Avro", "decode")
    guard.processed(make_record(0))
    sink.dead_letter(make_record(1), reason)  # 1 of 2
    assert len(producer.produced) == 1
    with pytest.raises(GuardTripped):
        sink.dead_letter(make_record(2), reason)  # 2 of 3
    assert len(producer.produced) == 1


def test_the_committer_stores_and_commits_capped_positions_once_tripped() -> None:
    guard = DeadLetterGuard(60, min_records=2, max_share=0.5, clock=Clock())
    consumer = FakeConsumer([0], [])
    committer = KafkaCommitter(consumer, Metrics(), cap=guard.cap)  # type: ignore[arg-type]
    guard.processed(make_record(40))
    committer.commit_sync({(TOPIC, 0): 45})
    assert consumer.committed == [(0, 45)]
    guard.dead_letter(make_record(41))  # 1 of 2: not more than half
    with pytest.raises(GuardTripped):
        guard.dead_letter(make_record(42))  # 2 of 3
    committer.commit_sync({(TOPIC, 0): 50})
    assert consumer.committed[-1] == (0, 40)  # taken back to the window's first record
    assert consumer.stored[-1] == (0, 40)
