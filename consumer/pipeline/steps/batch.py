"""Step 4: per-customer supersession and adaptive batches bounded by records and request bytes.

A batch holds at most one record per customer (its lane's newest) and only customers with
nothing in flight (`lanes`); its body never exceeds `max_request_bytes` (AEP's 1 MB, envelope
included, measured as the client will send it).

Batching adapts to the load (Nagle's rule turned around, as librdkafka's producer and Kafka
Connect's task loop do): when the connection is idle (no request in flight) the ready records go
at once, so a lone record never waits. They gather instead while requests are in flight, or
while records arrive so fast that a full batch builds up within one request round trip (a
backlog: sending a part now would only make more, smaller requests). A gathering batch goes when
the in-flight requests are answered, when it is full (`max_records` customers, or the byte
bound), when its oldest record has waited `linger_s` (an upper bound, not a fixed wait), or on
`join`. At a trickle every record travels at once; in a flood the batches fill up.
The buffer bound is not kept here: the source polls no more than the pipeline has room for.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Final, Protocol

from consumer.aep.envelope import DELETE_EXTRA_BYTES
from consumer.observability.metrics import Metrics
from consumer.pipeline.lanes import CustomerLanes
from consumer.pipeline.record import SourceRecord
from consumer.pipeline.step import Step

# How often the intake rate is re-estimated, and the weight of the newest estimate.
_RATE_WINDOW_S: Final = 0.1
_RATE_WEIGHT: Final = 0.5


class BatchSink(Protocol):
    """What the batch step hands batches to (`send_step.SendStep`)."""

    def can_send(self) -> bool: ...
    def requests_in_flight(self) -> int: ...
    def round_trip_s(self) -> float: ...
    def submit_batch(self, records: list[SourceRecord]) -> None: ...
    def poll(self) -> None: ...
    def join(self, timeout: float) -> bool: ...
    def close(self) -> None: ...


class BatchStep:
    def __init__(
        self,
        lanes: CustomerLanes,
        next_step: BatchSink,
        accounted: Step,
        metrics: Metrics,
        *,
        max_records: int,
        max_request_bytes: int,
        empty_request_bytes: int,
        message_overhead: int,
        linger_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._lanes = lanes
        self._next = next_step
        self._accounted = accounted
        self._metrics = metrics
        self._max_records = max_records
        # Room for messages: the limit less the batch's own framing; each message is charged a
        # separating comma, which the first one does not need (hence + 1).
        self._budget = max_request_bytes - empty_request_bytes + 1
        self._overhead = message_overhead + 1  # +1: the comma between messages
        self._linger = linger_s
        self._clock = clock
        self._flushing = False
        # Records taken into lanes per second, smoothed over windows of _RATE_WINDOW_S.
        self._intake = 0
        self._window_start = clock()
        self._rate = 0.0

    def submit(self, record: SourceRecord) -> None:
        if not self._lanes.add(record):
            # An accepted record of this customer is newer: superseded already.
            self._accounted.submit(record)
            self._metrics.tally(self._metrics.superseded)
            if record.replay is not None:
                self._metrics.replayed("superseded")
            return
        self._intake += 1
        if self._lanes.ready_count() >= self._max_records:
            self._cut()

    def poll(self) -> None:
        self._next.poll()
        now = self._clock()
        elapsed = now - self._window_start
        if elapsed >= _RATE_WINDOW_S:
            self._rate += (self._intake / elapsed - self._rate) * _RATE_WEIGHT
            self._intake = 0
            self._window_start = now
        self._cut()

    def join(self, timeout: float) -> bool:
        deadline = self._clock() + timeout
        self._flushing = True
        try:
            while True:
                self._next.poll()
                self._cut()
                if self._lanes.buffered() == 0 and self._lanes.in_flight() == 0:
                    return True
                remaining = deadline - self._clock()
                if remaining <= 0:
                    return False
                self._next.join(min(remaining, 0.05))
        finally:
            self._flushing = False

    def close(self) -> None:
        self._next.close()

    def _backlog(self) -> bool:
        """Records arrive fast enough to fill a batch within one round trip."""
        arriving = self._rate * self._next.round_trip_s()
        return self._lanes.ready_count() + arriving >= self._max_records

    def _size(self, record: SourceRecord) -> int:
        size = len(record.entity_json) + self._overhead
        # A delete's envelope also carries `"operations":{"data":"delete"}`.
        return size + DELETE_EXTRA_BYTES if record.operation == "delete" else size

    def _cut(self) -> None:
        lanes = self._lanes
        sink = self._next
        overflow = False  # the last batch was closed by the byte bound: the rest is a backlog too
        while lanes.ready_count() and sink.can_send():
            if (
                not self._flushing
                and not overflow
                and lanes.ready_count() < self._max_records
                and (sink.requests_in_flight() or self._backlog())
            ):
                since = lanes.oldest_ready_since()
                if since is None or self._clock() - since < self._linger:
                    return
            batch = lanes.take(self._max_records, self._budget, self._size)
            overflow = len(batch) < self._max_records and lanes.ready_count() > 0
            sink.submit_batch(batch)
