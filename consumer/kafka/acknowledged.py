"""The base of the service's own Kafka writers (dead letters, changelog marks): a write counts
only once the broker acknowledged it. Poll thread only: delivery reports arrive in `poll`.

A subclass implements `_write` (hand one write to the producer) and its delivery callback. The
order, per write:

1. `_offer` hands the write to the producer through `_write`, unless earlier writes wait: then,
   or when the producer's queue is full (`_write` returns False), it waits in the backlog and
   keeps its place;
2. `poll` serves the producer's delivery reports, then hands the backlog over in order;
3. the delivery callback accounts for the record (acknowledged) or records the failure;
4. a failure is raised from the next `poll`, and nothing after it is accounted for: the consumer
   stops without committing past it.
"""

from __future__ import annotations

from collections import deque
from typing import Generic, Protocol, TypeVar

from consumer.pipeline.errors import StopConsumer


class PollingProducer(Protocol):
    """The part of `confluent_kafka.Producer` the base uses."""

    def poll(self, timeout: float) -> int: ...
    def flush(self, timeout: float) -> int: ...


W = TypeVar("W")  # what one write carries
P = TypeVar("P", bound=PollingProducer)  # the producer, as much of it as the subclass uses


class AcknowledgedWriter(Generic[W, P]):
    def __init__(self, producer: P) -> None:
        self._producer = producer
        self._backlog: deque[W] = deque()
        self._unacknowledged = 0
        self._failure: StopConsumer | None = None

    def _write(self, write: W) -> bool:
        """Hand `write` to the producer (counting it in `_unacknowledged`); False when the
        producer's queue is full (it is offered again from `poll`)."""
        raise NotImplementedError

    def _offer(self, write: W) -> None:
        if self._backlog or not self._write(write):
            self._backlog.append(write)

    def _after_poll(self) -> None:
        """What a writer does on every poll turn once the backlog is handed over."""

    def pending(self) -> int:
        """Writes not yet acknowledged (or not yet handed to the producer)."""
        return self._unacknowledged + len(self._backlog)

    def poll(self) -> None:
        self._producer.poll(0)
        while self._backlog and self._write(self._backlog[0]):
            self._backlog.popleft()
        self._after_poll()
        self.raise_failure()

    def raise_failure(self) -> None:
        if self._failure is not None:
            raise self._failure

    def join(self, timeout: float) -> bool:
        self.poll()
        if self._unacknowledged:
            self._producer.flush(timeout)
        self.poll()
        return self.pending() == 0

    def close(self) -> None:
        self._producer.flush(0)
