"""Step 5: send batches to the AEP inlet on the HTTP loop and account for every answer.

The poll thread calls `submit_batch` and never waits: the request, its retries and splits run as
one task on the HTTP loop (`http_loop`), so the records of a batch stay "in flight" (their lanes
closed) until each has a final outcome. `poll` (poll thread) drains finished tasks and applies
design section 6: accepted -> accounted for with the waiting records it superseded; refused ->
dead-lettered and the lane's newest waiting record becomes sendable; a fault -> stop.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import queue
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

import structlog

from consumer import exit_codes
from consumer.aep.protocol import (
    Accepted,
    AepConfigurationFault,
    AepProtocolError,
    BatchResult,
    InletSender,
    OutgoingRecord,
    Rejected,
    RetryMessage,
    RetryRequest,
)
from consumer.backoff import retry_delay
from consumer.http_loop import EventLoopThread
from consumer.lanes import CustomerLanes
from consumer.metrics import Metrics
from consumer.offsets import TopicPartitionKey
from consumer.rate_limit import ProcessRateLimit
from consumer.record import SourceRecord
from consumer.signals import DeadLetter, MessageRejected, StopConsumer
from consumer.step import DeadLetterSink, Step

_log = structlog.get_logger(__name__)

AEP_REJECTED: Final = "deliver.aep_rejected"
REQUEST_TOO_LARGE: Final = "deliver.request_too_large"


@dataclass(frozen=True, slots=True)
class _TooLarge:
    status: int = 413


@dataclass(frozen=True, slots=True)
class _Dropped:
    """Not sent again: its partition was revoked while it waited for a retry."""


_Final = Accepted | Rejected | _TooLarge | _Dropped
_Done = tuple[list[SourceRecord], "concurrent.futures.Future[list[tuple[SourceRecord, _Final]]]"]


class SendStep:
    def __init__(
        self,
        sender: InletSender,
        loop: EventLoopThread,
        lanes: CustomerLanes,
        accounted: Step,
        dead_letters: DeadLetterSink,
        metrics: Metrics,
        *,
        max_in_flight: int,
        requests_per_s: float,
        records_per_s: float,
        ready_at: datetime | None = None,
    ) -> None:
        self._sender = sender
        self._loop = loop
        self._lanes = lanes
        self._accounted = accounted
        self._dead_letters = dead_letters
        self._metrics = metrics
        self._max_in_flight = max_in_flight
        self._rates = (requests_per_s, records_per_s)
        self._limit: ProcessRateLimit | None = None  # made on the loop, where it is used
        self._ready_at = ready_at
        self._done: queue.SimpleQueue[_Done] = queue.SimpleQueue()
        self._requests = 0
        # Partitions revoked or lost: their records are not sent again (HTTP loop reads it).
        self._revoked: frozenset[TopicPartitionKey] = frozenset()
        self._wakeup: asyncio.Event | None = None

    # -- poll thread ----------------------------------------------------------------------
    def can_send(self) -> bool:
        return self._requests < self._max_in_flight

    def requests_in_flight(self) -> int:
        return self._requests

    def submit_batch(self, records: list[SourceRecord]) -> None:
        if not self.can_send():
            raise MessageRejected("too many AEP requests in flight")
        self._requests += 1
        self._metrics.requests_in_flight.add(1)
        future = self._loop.submit(self._deliver(records))
        future.add_done_callback(lambda f: self._done.put((records, f)))

    def revoke(self, partitions: Sequence[TopicPartitionKey]) -> None:
        self._revoked = self._revoked | frozenset(partitions)
        self._loop.call_soon(self._wake)

    def assign(self, partitions: Sequence[TopicPartitionKey]) -> None:
        self._revoked = self._revoked - frozenset(partitions)

    def poll(self) -> None:
        while True:
            try:
                records, future = self._done.get_nowait()
            except queue.Empty:
                return
            self._requests -= 1
            self._metrics.requests_in_flight.add(-1)
            error = future.exception()
            if error is not None:
                # The process stops: the batch is unaccounted for and no longer awaited.
                for record in records:
                    self._lanes.released(record)
                raise _stop_for(error)
            now_ms = time.time() * 1000
            accepted = 0
            for record, outcome in future.result():
                accepted += self._settle(record, outcome, now_ms)
            if accepted:
                self._metrics.delivered.add(accepted)

    def join(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while True:
            self.poll()
            if self._requests == 0:
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.01)

    def close(self) -> None:
        pass

    # -- outcomes (poll thread) -------------------------------------------------------------
    def _settle(self, record: SourceRecord, outcome: _Final, now_ms: float) -> int:
        """Apply one final outcome; 1 when AEP accepted the record."""
        if isinstance(outcome, Accepted):
            superseded = self._lanes.accepted(record)
            self._accounted.submit(record)
            if record.timestamp_ms is not None:
                self._metrics.end_to_end_latency.record(
                    max(now_ms - record.timestamp_ms, 0.0) / 1000
                )
            for older in superseded:
                self._accounted.submit(older)
            if superseded:
                self._metrics.superseded.add(len(superseded))
            return 1
        self._lanes.released(record)
        if isinstance(outcome, Rejected):
            self._dead_letters.dead_letter(
                record,
                DeadLetter(
                    AEP_REJECTED,
                    f"AEP refused the record with status {outcome.status}",
                    "deliver",
                    {"status": outcome.status, **outcome.detail},
                ),
            )
        elif isinstance(outcome, _TooLarge):
            self._dead_letters.dead_letter(
                record,
                DeadLetter(
                    REQUEST_TOO_LARGE,
                    "AEP refused a request holding only this record as too large (413)",
                    "deliver",
                    {"status": outcome.status, "size": len(record.entity_json)},
                ),
            )
        # _Dropped: nothing to account; the partition's new owner sends it.
        return 0

    # -- HTTP loop ------------------------------------------------------------------------
    def _wake(self) -> None:
        if self._wakeup is not None:
            self._wakeup.set()

    async def _pause(self, seconds: float) -> None:
        """Sleep, but wake early when partitions are revoked (their retries are dropped)."""
        if self._wakeup is None:
            self._wakeup = asyncio.Event()
        try:
            await asyncio.wait_for(self._wakeup.wait(), seconds)
        except TimeoutError:
            return
        self._wakeup.clear()

    async def _deliver(self, records: list[SourceRecord]) -> list[tuple[SourceRecord, _Final]]:
        results: list[tuple[SourceRecord, _Final]] = []
        await self._send_until_final(records, results)
        return results

    async def _send_until_final(
        self, records: list[SourceRecord], results: list[tuple[SourceRecord, _Final]]
    ) -> None:
        pending = records
        retries = 0
        while pending:
            revoked = self._revoked
            if revoked:
                keep = []
                for record in pending:
                    if (record.topic, record.partition) in revoked:
                        results.append((record, _Dropped()))
                    else:
                        keep.append(record)
                pending = keep
                if not pending:
                    return
            await self._wait_until_ready()
            if self._limit is None:
                self._limit = ProcessRateLimit(*self._rates)
            await self._limit.acquire(len(pending))
            outgoing = [OutgoingRecord(r, r.entity_json, r.operation) for r in pending]
            for record in pending:
                record.attempts += 1
            started = time.monotonic()
            answer = await self._sender.send(outgoing)
            self._metrics.request_duration.record(time.monotonic() - started)
            self._metrics.batch_records.record(len(outgoing))
            self._metrics.batch_bytes.record(self._sender.request_size(outgoing))
            retry_after: float | None = None
            if isinstance(answer, BatchResult):
                again: list[SourceRecord] = []
                for outcome in answer.outcomes:
                    record = _record_of(outcome.key)
                    if isinstance(outcome, RetryMessage):
                        again.append(record)
                        if outcome.retry_after_s is not None:
                            retry_after = max(retry_after or 0.0, outcome.retry_after_s)
                    else:
                        results.append((record, outcome))
                pending = again
            elif isinstance(answer, RetryRequest):
                retry_after = answer.retry_after_s
                _log.info("aep_request_retry", reason=answer.reason, status=answer.status)
            else:  # SplitRequest (413)
                if len(pending) == 1:
                    results.append((pending[0], _TooLarge()))
                    return
                half = len(pending) // 2
                await self._send_until_final(pending[:half], results)
                await self._send_until_final(pending[half:], results)
                return
            if pending:
                retries += 1
                self._metrics.request_retries.add(1)
                await self._pause(retry_delay(retries, retry_after))

    async def _wait_until_ready(self) -> None:
        """A new dataflow loses what it receives before `ready_at` (design section 4)."""
        if self._ready_at is None:
            return
        while (wait := (self._ready_at - datetime.now(UTC)).total_seconds()) > 0:
            await asyncio.sleep(min(wait, 1.0))
        self._ready_at = None


def _record_of(key: object) -> SourceRecord:
    assert isinstance(key, SourceRecord)
    return key


def _stop_for(error: BaseException) -> BaseException:
    if isinstance(error, AepConfigurationFault):
        return StopConsumer(f"AEP configuration fault: {error}", exit_codes.AEP_CONFIG_FAULT)
    if isinstance(error, AepProtocolError):
        return StopConsumer(f"AEP answered in a way this client does not expect: {error}", 1)
    return error


__all__ = ["AEP_REJECTED", "REQUEST_TOO_LARGE", "SendStep"]
