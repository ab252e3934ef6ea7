"""Step 5: send batches to the AEP inlet on the HTTP loop and account for every answer.

The poll thread calls `submit_batch` and never waits: the request, its retries and splits run as
one task on the HTTP loop (`http_loop`), so the records of a batch stay "in flight" (their lanes
closed) until each has a final outcome. `poll` (poll thread) drains finished tasks and applies
docs/DESIGN.md §6: accepted -> accounted for with the waiting records it superseded; refused ->
dead-lettered and the lane's newest waiting record becomes sendable; a fault -> stop.

Transient failures (docs/DESIGN.md §6, "Retries and guard") are retried on the loop: full-jitter
back-off with `Retry-After`, the process-wide retry rate limit, and the circuit breaker
(`circuit_breaker`) that lets one probe out per back-off interval while AEP fails. They delay
records, never drop or dead-letter them. While records wait, their partitions are reported by
`backing_off` and the poll thread pauses them; records of a revoked partition are let go at once.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import queue
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

import structlog

from consumer.aep.backoff import CAP_S, retry_delay
from consumer.aep.circuit_breaker import CircuitBreaker
from consumer.aep.http_loop import EventLoopThread
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
from consumer.aep.rate_limit import ProcessRateLimit, RetryRateLimit
from consumer.config import exit_codes
from consumer.observability.metrics import Metrics
from consumer.pipeline.errors import DeadLetter, MessageRejected, StopConsumer
from consumer.pipeline.lanes import CustomerLanes
from consumer.pipeline.offsets import TopicPartitionKey
from consumer.pipeline.record import SourceRecord
from consumer.pipeline.step import DeadLetterSink, Step

_log = structlog.get_logger(__name__)

AEP_REJECTED: Final = "deliver.aep_rejected"
REQUEST_TOO_LARGE: Final = "deliver.request_too_large"


@dataclass(frozen=True, slots=True)
class _TooLarge:
    status: int = 413


_Final = Accepted | Rejected | _TooLarge
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
        retries_per_s: float = 10.0,
        breaker_threshold: int = 5,
        backoff_cap_s: float = CAP_S,
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
        self._retries_per_s = retries_per_s
        self._retry_limit: RetryRateLimit | None = None  # made on the loop too
        self._delay = functools.partial(retry_delay, cap_s=backoff_cap_s)
        self.breaker = CircuitBreaker(  # HTTP loop only
            breaker_threshold, delay=self._delay, on_open=lambda: metrics.breaker_opened.add(1)
        )
        # Records per partition waiting for a retry or for the open circuit (HTTP loop), and the
        # partitions with any, published as one immutable set the poll thread pauses.
        self._holding: dict[TopicPartitionKey, int] = {}
        self._backing_off: frozenset[TopicPartitionKey] = frozenset()
        self._ready_at = ready_at
        self._done: queue.SimpleQueue[_Done] = queue.SimpleQueue()
        # Records of revoked partitions let go before their batch ended (HTTP loop -> poll
        # thread), and the ids of those the poll thread released (not released again).
        self._let_go: queue.SimpleQueue[SourceRecord] = queue.SimpleQueue()
        self._released_early: set[int] = set()
        self._requests = 0
        # Partitions revoked or lost: their records are not sent again (HTTP loop reads it).
        self._revoked: frozenset[TopicPartitionKey] = frozenset()
        self._wakeup: asyncio.Event | None = None

    # -- poll thread ----------------------------------------------------------------------
    def can_send(self) -> bool:
        return self._requests < self._max_in_flight

    def requests_in_flight(self) -> int:
        return self._requests

    def backing_off(self) -> frozenset[TopicPartitionKey]:
        """Partitions the sender is backing off for: paused while it does (docs/DESIGN.md §6)."""
        return self._backing_off

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
        while not self._let_go.empty():
            # Nothing to account: the partition's new owner sends it.
            record = self._let_go.get_nowait()
            self._lanes.released(record)
            self._released_early.add(id(record))
        while True:
            try:
                records, future = self._done.get_nowait()
            except queue.Empty:
                return
            self._requests -= 1
            self._metrics.requests_in_flight.add(-1)
            early = self._released_early
            let_go = set()
            if early:
                let_go = {id(r) for r in records} & early
                early -= let_go
            error = future.exception()
            if error is not None:
                # The process stops: the batch is unaccounted for and no longer awaited.
                for record in records:
                    if id(record) not in let_go:
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
        return 0

    # -- HTTP loop ------------------------------------------------------------------------
    def _wake(self) -> None:
        # Every sleeper holds the old event; a fresh one serves the next sleep.
        if self._wakeup is not None:
            self._wakeup.set()
            self._wakeup = None

    async def _pause(self, seconds: float, pending: list[SourceRecord]) -> None:
        """Sleep, but wake early when any of `pending` was revoked (it is let go)."""
        deadline = time.monotonic() + seconds
        while (remaining := deadline - time.monotonic()) > 0:
            if self._any_revoked(pending):
                return
            if self._wakeup is None:
                self._wakeup = asyncio.Event()
            try:
                await asyncio.wait_for(self._wakeup.wait(), remaining)
            except TimeoutError:
                return

    async def _deliver(self, records: list[SourceRecord]) -> list[tuple[SourceRecord, _Final]]:
        results: list[tuple[SourceRecord, _Final]] = []
        await self._send_until_final(records, results)
        return results

    async def _send_until_final(
        self, records: list[SourceRecord], results: list[tuple[SourceRecord, _Final]]
    ) -> None:
        pending = records
        retries = 0
        retry_after: float | None = None
        breaker = self.breaker
        while pending:
            pending = self._without_revoked(pending)
            if not pending:
                return
            await self._wait_until_ready()
            if self._limit is None:
                self._limit = ProcessRateLimit(*self._rates)
                self._retry_limit = RetryRateLimit(self._retries_per_s)
            probe = False
            if retries or breaker.is_open:
                probe, pending = await self._back_off(pending, retries, retry_after)
                if not pending:
                    return
            await self._limit.acquire(len(pending))
            outgoing = [OutgoingRecord(r, r.entity_json, r.operation) for r in pending]
            for record in pending:
                record.attempts += 1
            started = time.monotonic()
            try:
                answer = await self._sender.send(outgoing)
            except BaseException:
                breaker.abandon(probe)
                raise
            self._metrics.request_duration.record(time.monotonic() - started)
            self._metrics.batch_records.record(len(outgoing))
            self._metrics.batch_bytes.record(self._sender.request_size(outgoing))
            retry_after = None
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
                if again and len(again) == len(pending):
                    breaker.failed(probe, retry_after)  # nothing got through
                else:
                    breaker.succeeded(probe)
                pending = again
            elif isinstance(answer, RetryRequest):
                retry_after = answer.retry_after_s
                breaker.failed(probe, retry_after)
                _log.info("aep_request_retry", reason=answer.reason, status=answer.status)
            else:  # SplitRequest (413): AEP answered, so it is up
                breaker.succeeded(probe)
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

    async def _back_off(
        self, pending: list[SourceRecord], retries: int, retry_after: float | None
    ) -> tuple[bool, list[SourceRecord]]:
        """Wait before sending `pending` (again): the batch's own back-off, the open circuit, the
        retry rate limit; their partitions count as backing off meanwhile. Records of partitions
        revoked meanwhile are let go at once, so a revoke never waits for this. Returns whether
        the request goes as the breaker's probe, and the records still to send."""
        until = time.monotonic() + (self._delay(retries, retry_after) if retries else 0.0)
        held = [(r.topic, r.partition) for r in pending]
        self._hold(held, 1)
        try:
            while True:
                await self._pause(until - time.monotonic(), pending)
                pending = self._without_revoked(pending)
                if not pending:
                    return False, pending
                if time.monotonic() < until:
                    continue  # woken by a revoke of other partitions: sleep on
                probe = await self.breaker.admit(functools.partial(self._any_revoked, pending))
                if probe is None:
                    continue  # some were revoked: let them go, wait on for the rest
                pending = self._without_revoked(pending)
                if not pending:
                    self.breaker.abandon(probe)
                    return False, pending
                if retries:
                    assert self._retry_limit is not None
                    await self._retry_limit.acquire()
                return probe, pending
        finally:
            self._hold(held, -1)

    def _hold(self, partitions: list[TopicPartitionKey], step: int) -> None:
        holding = self._holding
        changed = False
        for tp in partitions:
            count = holding.get(tp, 0) + step
            if count:
                holding[tp] = count
                changed = changed or (step > 0 and count == 1)  # newly backing off
            else:
                del holding[tp]
                changed = True
        if changed:
            self._backing_off = frozenset(holding)

    def _any_revoked(self, pending: list[SourceRecord]) -> bool:
        revoked = self._revoked
        return bool(revoked) and any((r.topic, r.partition) in revoked for r in pending)

    def _without_revoked(self, pending: list[SourceRecord]) -> list[SourceRecord]:
        """Records of revoked partitions are not sent again: handed back to the poll thread at
        once (`_let_go`), not with the batch, so that the revoke does not wait for the rest."""
        revoked = self._revoked
        if not revoked:
            return pending
        keep = []
        for record in pending:
            if (record.topic, record.partition) in revoked:
                self._let_go.put(record)
            else:
                keep.append(record)
        return keep

    async def _wait_until_ready(self) -> None:
        """A new dataflow loses what it receives before `ready_at` (docs/DESIGN.md §4)."""
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
