"""Mark writes to the compacted changelog topic (docs/DESIGN.md §11, "Write order").

When AEP accepts a record, the customer's mark is raised in the partition's store and produced to
changelog partition p, p being the source record's partition (an explicit partition: the
Commerce producer's partitioner is unknown, so the key's hash could name another one). The record
is accounted for only once that write is acknowledged (`acks=all`, idempotent producer), so no
commit covers a mark the changelog does not hold. A write that still fails after the producer's
retries stops the consumer: nothing past it is committed.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any, Protocol

import structlog
from opentelemetry.trace import SpanKind

from consumer.config import exit_codes
from consumer.kafka.acknowledged import AcknowledgedWriter
from consumer.observability import tracing
from consumer.observability.metrics import Metrics
from consumer.pipeline.errors import StopConsumer
from consumer.pipeline.record import SourceRecord
from consumer.pipeline.state.mark import customer_key, encode_mark
from consumer.pipeline.state.store import PartitionStore, StateStores
from consumer.pipeline.step import Step

_log = structlog.get_logger(__name__)


class ChangelogWriteFailed(StopConsumer):
    """A mark write failed after the producer's retries: stop, commit nothing past it."""


class PartitionedProducer(Protocol):
    """The part of `confluent_kafka.Producer` used here."""

    def produce(
        self,
        topic: str,
        value: bytes | None = ...,
        key: bytes | None = ...,
        partition: int = ...,
        *,
        on_delivery: Callable[[Any, Any], None] | None = ...,
    ) -> None: ...
    def poll(self, timeout: float) -> int: ...
    def flush(self, timeout: float) -> int: ...


_MarkWrite = tuple[SourceRecord, PartitionStore, bytes, bytes]


class ChangelogWriter(AcknowledgedWriter[_MarkWrite, PartitionedProducer]):
    """The step accepted records pass through on their way to the commit step. Poll thread only
    (delivery reports arrive in `poll`; the write order is `AcknowledgedWriter`'s)."""

    def __init__(
        self,
        producer: PartitionedProducer,
        topic: str,
        stores: StateStores,
        accounted: Step,
        metrics: Metrics,
    ) -> None:
        super().__init__(producer)
        self._topic = topic
        self._stores = stores
        self._accounted = accounted
        self._metrics = metrics
        # Writes handed to the producer since the last poll, and when the first was (tracing on):
        # one span per poll turn, not one per record.
        self._traced = 0
        self._traced_since = 0

    def submit(self, record: SourceRecord) -> None:
        """`record` was accepted by AEP: raise its customer's mark, then account for it once
        the changelog holds the mark."""
        customer = record.customer_id
        assert customer is not None, "only mapped records reach AEP"
        store = self._stores.get(record.partition)
        if store is None or not store.put(customer, record.ordering_key):
            # No store: the partition was revoked or lost meanwhile and its new owner sends the
            # record again. Not raised: the mark already is this new or newer, so a write of
            # this version or a later one is in the changelog or on its way.
            self._accounted.submit(record)
            return
        self._offer((record, store, customer_key(customer), encode_mark(record.ordering_key)))

    def _after_poll(self) -> None:
        if self._traced:
            self._trace_writes()
        self._stores.save_positions()

    def _write(self, write: _MarkWrite) -> bool:
        record, store, key, value = write
        try:
            self._producer.produce(
                self._topic,
                value=value,
                key=key,
                partition=record.partition,
                on_delivery=functools.partial(self._delivered, record, store),
            )
        except BufferError:
            return False  # the producer's queue is full: retried from poll()
        self._unacknowledged += 1
        if tracing.enabled():
            if not self._traced:
                self._traced_since = time.time_ns()
            self._traced += 1
        return True

    def _trace_writes(self) -> None:
        span = tracing.TRACER.start_span(
            f"send {self._topic}",
            kind=SpanKind.PRODUCER,
            start_time=self._traced_since,
            attributes=tracing.kafka_producer_attributes(self._topic, self._traced),
        )
        span.end()
        self._traced = 0

    def _delivered(self, record: SourceRecord, store: PartitionStore, error: Any, msg: Any) -> None:
        self._unacknowledged -= 1
        if error is not None:
            _log.error(
                "changelog_write_failed",
                partition=record.partition,
                offset=record.offset,
                kafka_error=str(error),
            )
            if self._failure is None:
                self._failure = ChangelogWriteFailed(
                    f"mark write to {self._topic} failed after the producer's retries "
                    f"({error}); stopping without committing past "
                    f"{record.topic}[{record.partition}]@{record.offset}",
                    exit_codes.ERROR,
                )
            return
        if self._failure is not None:
            return  # stopping: nothing past the failed write may be accounted for
        store.acknowledged(msg.offset())
        self._metrics.tally(self._metrics.mark_writes)
        self._accounted.submit(record)
