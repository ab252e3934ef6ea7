"""Batch and send steps wired to a scripted sender on a real HTTP loop thread."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from consumer.observability.metrics import Metrics
from consumer.pipeline.lanes import CustomerLanes
from consumer.pipeline.steps.batch import BatchStep
from consumer.pipeline.steps.send import SendStep
from tests.consumer.pipeline.fakes import Collector, DeadLetters, ScriptedSender, http_portal


@dataclass
class Delivery:
    batch: BatchStep
    send: SendStep
    lanes: CustomerLanes
    accounted: Collector
    dead: DeadLetters
    sender: ScriptedSender

    def drain(self, timeout: float = 5.0) -> None:
        assert self.batch.join(timeout), "delivery did not finish"

    def settle(self, timeout: float = 5.0) -> None:
        """Poll (as the poll thread does) until nothing is in flight or buffered."""
        deadline = time.monotonic() + timeout
        while self.lanes.in_flight() or self.lanes.buffered():
            assert time.monotonic() < deadline, "delivery did not settle"
            self.batch.poll()
            time.sleep(0.005)


@contextmanager
def delivery(
    sender: ScriptedSender,
    *,
    max_records: int = 500,
    max_request_bytes: int = 1_048_576,
    linger_s: float = 0.0,
    max_in_flight: int = 4,
    metrics: Metrics | None = None,
    ready_at: datetime | None = None,
    backoff_cap_s: float = 60.0,
    breaker_threshold: int = 5,
    clock: Callable[[], float] = time.monotonic,
) -> Iterator[Delivery]:
    with http_portal() as portal:
        lanes = CustomerLanes(clock=clock)
        accounted = Collector()
        dead = DeadLetters()
        metrics = metrics or Metrics()
        send = SendStep(
            sender,
            portal,
            lanes,
            accounted,
            dead,
            metrics,
            max_in_flight=max_in_flight,
            requests_per_s=100_000,
            records_per_s=10_000_000,
            ready_at=ready_at,
            retries_per_s=1000,
            breaker_threshold=breaker_threshold,
            backoff_cap_s=backoff_cap_s,
        )
        batch = BatchStep(
            lanes,
            send,
            accounted,
            metrics,
            max_records=max_records,
            max_request_bytes=max_request_bytes,
            empty_request_bytes=sender.request_size([]),
            message_overhead=sender.envelope_overhead(),
            linger_s=linger_s,
            clock=clock,
        )
        yield Delivery(batch, send, lanes, accounted, dead, sender)
