"""The acknowledged-writer base: writes keep their order through a full producer queue, count as
pending until acknowledged, and a failure stops every later poll."""

from __future__ import annotations

import pytest

from consumer.kafka.acknowledged import AcknowledgedWriter
from consumer.pipeline.errors import StopConsumer


class QueueProducer:
    """Takes at most `room` writes until `poll` (unless `slow`) or `flush` acknowledges them."""

    def __init__(self, room: int) -> None:
        self.room = room
        self.slow = False
        self.queued: list[str] = []
        self.acknowledge: list[str] = []
        self.flushes: list[float] = []

    def poll(self, timeout: float) -> int:
        if not self.slow:
            self._acknowledge()
        return 0

    def flush(self, timeout: float) -> int:
        self.flushes.append(timeout)
        self._acknowledge()
        return 0

    def _acknowledge(self) -> None:
        self.acknowledge.extend(self.queued)
        self.queued.clear()


class Writer(AcknowledgedWriter[str, QueueProducer]):
    def __init__(self, producer: QueueProducer) -> None:
        super().__init__(producer)
        self.written: list[str] = []
        self.polled_turns = 0

    def submit(self, value: str) -> None:
        self._offer(value)

    def _write(self, write: str) -> bool:
        if len(self._producer.queued) >= self._producer.room:
            return False
        self._producer.queued.append(write)
        self.written.append(write)
        self._unacknowledged += 1
        return True

    def _after_poll(self) -> None:
        self.polled_turns += 1
        # Delivery reports of what `poll` acknowledged.
        self._unacknowledged -= len(self._producer.acknowledge)
        if "bad" in self._producer.acknowledge and self._failure is None:
            self._failure = StopConsumer("write of 'bad' failed", 1)
        self._producer.acknowledge.clear()


def test_writes_wait_in_order_while_the_queue_is_full() -> None:
    writer = Writer(QueueProducer(room=2))
    for value in "abcde":
        writer.submit(value)
    assert writer.written == ["a", "b"]
    assert writer.pending() == 5
    writer.poll()  # a and b acknowledged; c and d handed over
    assert writer.written == ["a", "b", "c", "d"]
    assert writer.pending() == 3
    assert writer.join(1.0)
    assert writer.written == list("abcde")
    assert writer.pending() == 0


def test_a_later_write_never_overtakes_a_waiting_one() -> None:
    writer = Writer(QueueProducer(room=1))
    writer.submit("a")
    writer.submit("b")  # waits: the queue is full
    writer._producer.room = 5
    writer.submit("c")  # room now, but b waits first
    assert writer.written == ["a"]
    writer.poll()
    assert writer.written == ["a", "b", "c"]


def test_a_failure_is_raised_from_every_later_poll() -> None:
    writer = Writer(QueueProducer(room=5))
    writer.submit("bad")
    writer.submit("ok")
    with pytest.raises(StopConsumer):
        writer.poll()
    with pytest.raises(StopConsumer):
        writer.poll()


def test_join_flushes_only_while_writes_are_unacknowledged() -> None:
    producer = QueueProducer(room=5)
    writer = Writer(producer)
    assert writer.join(1.0)
    assert producer.flushes == []
    producer.slow = True
    writer.submit("a")
    assert writer.join(2.0)
    assert producer.flushes == [2.0]
    assert writer.pending() == 0
