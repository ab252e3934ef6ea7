"""The bounded read's ending rules, with a stand-in consumer (the real broker is exercised by
tests/integration/test_dlq_command.py and test_replay_command.py)."""

from __future__ import annotations

from typing import Any

import pytest
from confluent_kafka import KafkaError

from consumer.operations.errors import OperationError
from consumer.operations.kafka_io import Span, read


class Msg:
    def __init__(self, partition: int, offset: int, error: KafkaError | None = None) -> None:
        self._partition, self._offset, self._error = partition, offset, error

    def partition(self) -> int:
        return self._partition

    def offset(self) -> int:
        return self._offset

    def error(self) -> KafkaError | None:
        return self._error


class FakeConsumer:
    def __init__(self, batches: list[list[Msg]]) -> None:
        self.batches = batches
        self.asked: list[int] = []
        self.paused: list[int] = []
        self.unassigned = False

    def assign(self, partitions: list[Any]) -> None:
        self.assigned = [tp.partition for tp in partitions]

    def consume(self, num_messages: int, timeout: float) -> list[Msg]:
        self.asked.append(num_messages)
        return self.batches.pop(0) if self.batches else []

    def pause(self, partitions: list[Any]) -> None:
        self.paused.extend(tp.partition for tp in partitions)

    def unassign(self) -> None:
        self.unassigned = True


def test_reads_up_to_the_end_offsets_and_stops() -> None:
    consumer = FakeConsumer(
        [[Msg(0, 3), Msg(1, 0), Msg(0, 4)], [Msg(0, 5), Msg(1, 1)], [Msg(1, 2)]]
    )
    progress: list[int] = []
    batches = list(read(consumer, "t", [Span(0, 3, 5), Span(1, 0, 2)], progress.append))
    got = [(m.partition(), m.offset()) for batch in batches for m in batch]
    assert got == [(0, 3), (1, 0), (0, 4), (1, 1)]  # 0:5 and 1:2 are past the end
    assert sum(progress) == 4
    assert consumer.asked[0] == 4  # never more than are left, so no batch waits out its timeout
    assert sorted(consumer.paused) == [0, 1]
    assert consumer.unassigned


def test_end_of_partition_finishes_a_partition_whose_last_offsets_are_gone() -> None:
    eof = KafkaError(KafkaError._PARTITION_EOF)
    consumer = FakeConsumer([[Msg(0, 1), Msg(0, 9, eof)]])
    batches = list(read(consumer, "t", [Span(0, 0, 9)]))
    assert [m.offset() for m in batches[0]] == [1]


def test_a_passing_error_is_retried_and_a_fatal_one_stops() -> None:
    transport = KafkaError(KafkaError._TRANSPORT)
    consumer = FakeConsumer([[Msg(0, 0, transport)], [Msg(0, 0)]])
    assert len(list(read(consumer, "t", [Span(0, 0, 1)]))) == 1
    unknown = KafkaError(KafkaError.UNKNOWN_TOPIC_OR_PART)
    consumer = FakeConsumer([[Msg(0, 0, unknown)]])
    with pytest.raises(OperationError, match="reading t failed"):
        list(read(consumer, "t", [Span(0, 0, 1)]))


def test_a_read_without_progress_fails_instead_of_hanging() -> None:
    consumer = FakeConsumer([])
    with pytest.raises(OperationError, match=r"no progress for 0 s \(partitions \[0\]"):
        list(read(consumer, "t", [Span(0, 0, 5)], stall_s=0.05))
    assert consumer.unassigned
