"""Per-customer lanes: supersession and "never two records of one customer in flight".

docs/DESIGN.md §6: within a batch only a customer's newest record is sent; a record is accounted
for as superseded only when a record of the same customer with a greater ordering key was
*accepted*; if the newest record is dead-lettered instead, the newest one it would have
superseded is sent next. So older records wait in their lane until a newer one is accepted.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Final

from consumer.pipeline.offsets import TopicPartitionKey
from consumer.pipeline.record import OrderingKey, SourceRecord

ACCEPTED_MEMORY: Final = 16_384


@dataclass(slots=True)
class _Lane:
    waiting: list[SourceRecord] = field(default_factory=list)
    in_flight: SourceRecord | None = None
    # Records of a revoked partition older than the in-flight record: never sent again, but
    # accounted for as superseded if the in-flight record is accepted before the revoke commits.
    behind: list[SourceRecord] = field(default_factory=list)


class CustomerLanes:
    """Poll thread only. `accepted_memory` bounds how many customers' newest accepted keys are
        remembered (least recently accepted forgotten first), so that an older version polled after
        a newer one was accepted is superseded instead of rolling the profile back. Such a late
        older version comes from a rebalance or a restart, so recent customers matter most: about
        380 bytes each, 16,384 of them cost about 6 MB. With the stale-update guard's durable marks
    (docs/DESIGN.md §11) in front of the lanes the map is not needed: `accepted_memory=0`."""

    def __init__(
        self, accepted_memory: int = ACCEPTED_MEMORY, clock: Callable[[], float] = time.monotonic
    ):
        self._lanes: dict[int, _Lane] = {}
        # customer -> since when sendable, oldest first. An OrderedDict: taking from the front
        # of a plain dict again and again walks over its deleted slots (quadratic).
        self._ready: OrderedDict[int, float] = OrderedDict()
        self._accepted: OrderedDict[int, OrderingKey] = OrderedDict()
        self._memory = accepted_memory
        self._clock = clock
        self._buffered = 0
        self._in_flight = 0

    # -- intake ---------------------------------------------------------------------------
    def add(self, record: SourceRecord) -> bool:
        """Queue a validated record. False: it is already superseded (accounted for now)."""
        customer = record.customer_id
        assert customer is not None
        newest = self._accepted.get(customer)
        if newest is not None and record.ordering_key < newest:
            return False
        lane = self._lanes.get(customer)
        if lane is None:
            lane = self._lanes[customer] = _Lane()
        lane.waiting.append(record)
        self._buffered += 1
        if lane.in_flight is None and customer not in self._ready:
            self._ready[customer] = self._clock()
        return True

    # -- batching -------------------------------------------------------------------------
    def ready_count(self) -> int:
        return len(self._ready)

    def oldest_ready_since(self) -> float | None:
        for since in self._ready.values():
            return since
        return None

    def take(
        self, max_records: int, max_bytes: int, size: Callable[[SourceRecord], int]
    ) -> list[SourceRecord]:
        """The newest record of up to `max_records` ready lanes, oldest lanes first, whose
        sizes add up to at most `max_bytes` (a single record is always taken). Marks them in
        flight."""
        batch: list[SourceRecord] = []
        used = 0
        while self._ready and len(batch) < max_records:
            customer = next(iter(self._ready))
            lane = self._lanes[customer]
            newest = max(lane.waiting, key=_ordering)
            cost = size(newest)
            if batch and used + cost > max_bytes:
                break
            del self._ready[customer]
            lane.waiting.remove(newest)
            lane.in_flight = newest
            self._buffered -= 1
            self._in_flight += 1
            used += cost
            batch.append(newest)
        return batch

    # -- outcomes -------------------------------------------------------------------------
    def accepted(self, record: SourceRecord) -> list[SourceRecord]:
        """The in-flight record was accepted; returns the waiting records it superseded."""
        customer = record.customer_id
        assert customer is not None
        lane = self._finish(record)
        key = record.ordering_key
        if self._memory:
            previous = self._accepted.get(customer)
            if previous is None or previous < key:
                self._accepted[customer] = key
            self._accepted.move_to_end(customer)
            if len(self._accepted) > self._memory:
                self._accepted.popitem(last=False)
        superseded = [r for r in lane.waiting if r.ordering_key < key]
        if superseded:
            lane.waiting = [r for r in lane.waiting if r.ordering_key >= key]
            self._buffered -= len(superseded)
        if lane.behind:
            superseded.extend(lane.behind)
            lane.behind = []
        self._settle(customer, lane)
        return superseded

    def released(self, record: SourceRecord) -> None:
        """The in-flight record ended without acceptance (dead-lettered or dropped); the lane's
        newest waiting record becomes sendable."""
        customer = record.customer_id
        assert customer is not None
        lane = self._finish(record)
        lane.behind = []  # not accepted: they stay unaccounted (the partition's new owner has them)
        self._settle(customer, lane)

    def retry(self, record: SourceRecord) -> None:
        """The in-flight record must be sent again: back into its lane."""
        customer = record.customer_id
        assert customer is not None
        lane = self._finish(record)
        lane.behind = []
        lane.waiting.append(record)
        self._buffered += 1
        self._settle(customer, lane)

    def drop_partitions(self, partitions: Iterable[TopicPartitionKey]) -> int:
        """Stop sending waiting records of revoked partitions. Those older than their lane's
        in-flight record wait behind it: accepted, it supersedes them before the revoke commits."""
        gone = set(partitions)
        dropped = 0
        for customer, lane in list(self._lanes.items()):
            keep = [r for r in lane.waiting if (r.topic, r.partition) not in gone]
            dropped += len(lane.waiting) - len(keep)
            flying = lane.in_flight
            if flying is not None and len(keep) < len(lane.waiting):
                lane.behind.extend(
                    r
                    for r in lane.waiting
                    if (r.topic, r.partition) in gone and r.ordering_key < flying.ordering_key
                )
            lane.waiting = keep
            if not keep:
                self._ready.pop(customer, None)
                if lane.in_flight is None:
                    del self._lanes[customer]
        self._buffered -= dropped
        return dropped

    # -- gauges ---------------------------------------------------------------------------
    def buffered(self) -> int:
        """Records waiting in lanes (not in flight)."""
        return self._buffered

    def in_flight(self) -> int:
        return self._in_flight

    def in_flight_in(self, partitions: Iterable[TopicPartitionKey]) -> int:
        """Records of these partitions in flight (a revoke waits for them)."""
        wanted = set(partitions)
        return sum(
            1
            for lane in self._lanes.values()
            if lane.in_flight is not None
            and (lane.in_flight.topic, lane.in_flight.partition) in wanted
        )

    # -- internals ------------------------------------------------------------------------
    def _finish(self, record: SourceRecord) -> _Lane:
        lane = self._lanes.get(record.customer_id)  # type: ignore[arg-type]
        if lane is None or lane.in_flight is not record:
            raise RuntimeError(f"{record!r} is not in flight")
        lane.in_flight = None
        self._in_flight -= 1
        return lane

    def _settle(self, customer: int, lane: _Lane) -> None:
        if lane.waiting:
            self._ready.setdefault(customer, self._clock())
        elif lane.in_flight is None:
            del self._lanes[customer]


def _ordering(record: SourceRecord) -> OrderingKey:
    return record.ordering_key
