"""Step 5: send batches to the AEP inlet on the HTTP loop and account for every answer.

The poll thread calls `submit_batch` and never waits: the request, its retries and splits run as
one task on the HTTP loop (the event loop thread of an anyio blocking portal). Every record's
final outcome is handed back the moment AEP answers for it, through one ordered channel
(`_events`), so only records still waiting for an answer are "in flight" (their lanes closed): a
batch-mate retried for minutes holds back nobody else. `poll` (poll thread) applies
docs/DESIGN.md §6 to each outcome: accepted -> accounted for with the waiting records it
superseded; refused -> dead-lettered and the lane's newest waiting record becomes sendable; let
go (its partition was revoked) -> nothing to account; a fault -> stop, after settling everything
already answered.

Transient failures (docs/DESIGN.md §6, "Retries and guard") are retried on the loop: full-jitter
back-off with `Retry-After`, the process-wide retry rate limit, and the circuit breaker
(`circuit_breaker`) that lets one probe out per back-off interval while AEP fails. They delay
records, never drop or dead-letter them. While records wait, their partitions are reported by
`backing_off` and the poll thread pauses them; records of a revoked partition are let go at once,
also while they wait for the dataflow's `ready_at`.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import logging
import queue
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

import structlog
from anyio.from_thread import BlockingPortal

from consumer.aep.backoff import CAP_S, retry_delay
from consumer.aep.circuit_breaker import CircuitBreaker
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
from consumer.observability import tracing
from consumer.observability.metrics import Metrics
from consumer.pipeline.errors import DeadLetter, MessageRejected, StopConsumer
from consumer.pipeline.lanes import CustomerLanes
from consumer.pipeline.offsets import TopicPartitionKey
from consumer.pipeline.record import SourceRecord
from consumer.pipeline.step import DeadLetterSink, Step

_log = structlog.get_logger(__name__)
_request_ids = itertools.count(1)

AEP_REJECTED: Final = "deliver.aep_rejected"
REQUEST_TOO_LARGE: Final = "deliver.request_too_large"
_ROUND_TRIP_WEIGHT: Final = 0.2


@dataclass(frozen=True, slots=True)
class _TooLarge:
    status: int = 413


_Final = Accepted | Rejected | _TooLarge
# The one channel from the HTTP loop to the poll thread, in the order things happened:
#   (record, outcome)  the record's final outcome;
#   (record, None)     the record was let go (its partition was revoked): nothing to account;
#   (None, None)       a request task ended;
#   (None, error)      a request task failed: the process stops.
_Event = tuple[SourceRecord | None, "_Final | BaseException | None"]


class _Request:
    """One request task's records that have no outcome yet (HTTP loop only), so that a failed
    task lets go exactly those."""

    __slots__ = ("_events", "_open")

    def __init__(self, events: queue.SimpleQueue[_Event], records: list[SourceRecord]) -> None:
        self._events = events
        self._open = {id(r): r for r in records}

    def final(self, record: SourceRecord, outcome: _Final) -> None:
        del self._open[id(record)]
        self._events.put((record, outcome))

    def let_go(self, record: SourceRecord) -> None:
        del self._open[id(record)]
        self._events.put((record, None))

    def ended(self, error: BaseException | None) -> None:
        for record in self._open.values():
            self._events.put((record, None))
        self._open.clear()
        self._events.put((None, error))


class SendStep:
    def __init__(
        self,
        sender: InletSender,
        portal: BlockingPortal,
        lanes: CustomerLanes,
        accounted: Step,
        dead_letters: DeadLetterSink,
        metrics: Metrics,
        *,
        max_in_flight: int,
        requests_per_s: float,
        records_per_s: float,
        ready_at: datetime | None = None,
        retries_per_s: float,
        breaker_threshold: int,
        backoff_cap_s: float = CAP_S,
        accepted: Step | None = None,
    ) -> None:
        self._sender = sender
        self._portal = portal
        self._lanes = lanes
        self._accounted = accounted
        # Where a record AEP accepted goes: the mark writer (accounted for once the changelog
        # acknowledged its mark, docs/DESIGN.md §11), or straight to `accounted`.
        self._accepted = accepted or accounted
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
        self._waits_per_partition: dict[TopicPartitionKey, int] = {}
        self._backing_off: frozenset[TopicPartitionKey] = frozenset()
        self._ready_at = ready_at
        self._events: queue.SimpleQueue[_Event] = queue.SimpleQueue()
        self._requests = 0
        # Partitions revoked or lost: their records are not sent again (HTTP loop reads it).
        self._revoked: frozenset[TopicPartitionKey] = frozenset()
        self._wakeup: asyncio.Event | None = None
        # Recent request round trips (s), smoothed: written on the HTTP loop, read by the
        # batch step (a float assignment is atomic).
        self._round_trip = 0.0

    # -- poll thread ----------------------------------------------------------------------
    def can_send(self) -> bool:
        return self._requests < self._max_in_flight

    def requests_in_flight(self) -> int:
        return self._requests

    def round_trip_s(self) -> float:
        """How long recent requests took, smoothed (0 before the first answer)."""
        return self._round_trip

    def backing_off(self) -> frozenset[TopicPartitionKey]:
        """Partitions the sender is backing off for: paused while it does (docs/DESIGN.md §6)."""
        return self._backing_off

    def submit_batch(self, records: list[SourceRecord]) -> None:
        if not self.can_send():
            raise MessageRejected("too many AEP requests in flight")
        self._requests += 1
        self._metrics.requests_in_flight.add(1)
        self._portal.start_task_soon(self._deliver, records)

    def revoke(self, partitions: Sequence[TopicPartitionKey]) -> None:
        self._revoked = self._revoked | frozenset(partitions)
        self._portal.start_task_soon(self._wake)

    def assign(self, partitions: Sequence[TopicPartitionKey]) -> None:
        self._revoked = self._revoked - frozenset(partitions)

    def poll(self) -> None:
        """Apply everything the HTTP loop handed back. A stop (a request's fault, or the guard
        refusing a dead letter) is raised only after every outcome already in the channel is
        applied, so that nothing answered stays in flight behind it."""
        events = self._events
        stop: BaseException | None = None
        accepted = 0
        now_ms = time.time() * 1000
        while True:
            try:
                record, outcome = events.get_nowait()
            except queue.Empty:
                break
            if record is None:
                self._requests -= 1
                self._metrics.requests_in_flight.add(-1)
                if isinstance(outcome, BaseException) and stop is None:
                    stop = _stop_for(outcome)
            elif outcome is None:
                self._lanes.released(record)  # nothing to account: the new owner sends it
            else:
                assert not isinstance(outcome, BaseException)
                try:
                    accepted += self._settle(record, outcome, now_ms)
                except StopConsumer as exc:
                    stop = stop or exc
        if accepted:
            self._metrics.delivered.add(accepted)
        if stop is not None:
            raise stop

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
            self._accepted.submit(record)
            if record.timestamp_ms is not None:
                self._metrics.end_to_end_latency.record(
                    max(now_ms - record.timestamp_ms, 0.0) / 1000
                )
            if record.replay is not None:
                self._metrics.replayed("sent")
            for older in superseded:
                self._accounted.submit(older)
                if older.replay is not None:
                    self._metrics.replayed("superseded")
            if superseded:
                self._metrics.tally(self._metrics.superseded, len(superseded))
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
                    "AEP refused a request waits only this record as too large (413)",
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

    async def _deliver(self, records: list[SourceRecord]) -> None:
        if not tracing.enabled():
            await self._deliver_records(records)
            return
        # One span per batch, over its attempts, back-offs and splits (each HTTP attempt is a
        # client span inside it); linked to the trace contexts the records came with.
        with tracing.TRACER.start_as_current_span(
            "profile_sync deliver",
            links=tracing.links(r.headers for r in records),
            attributes={"profile_sync.batch.records": len(records)},
        ) as span:
            context = span.get_span_context()
            for record in records:
                record.trace_context = context
            await self._deliver_records(records)

    async def _deliver_records(self, records: list[SourceRecord]) -> None:
        request = _Request(self._events, records)
        try:
            await self._send_until_final(records, request)
        except asyncio.CancelledError as exc:
            request.ended(exc)
            raise
        except Exception as exc:
            request.ended(exc)
        else:
            request.ended(None)

    async def _send_until_final(self, records: list[SourceRecord], request: _Request) -> None:
        pending = records
        retries = 0
        retry_after: float | None = None
        breaker = self.breaker
        while pending:
            pending = self._without_revoked(pending, request)
            if not pending:
                return
            if not await self._until_ready(pending):
                continue  # some were revoked while waiting: let them go, wait on for the rest
            if self._limit is None:
                self._limit = ProcessRateLimit(*self._rates)
                self._retry_limit = RetryRateLimit(self._retries_per_s)
            probe = False
            if retries or breaker.is_open:
                probe, pending = await self._back_off(pending, retries, retry_after, request)
                if not pending:
                    return
            await self._limit.acquire(len(pending))
            pending = self._without_revoked(pending, request)  # revoked while rate-limited
            if not pending:
                breaker.abandon(probe)
                return
            outgoing = [OutgoingRecord(r, r.entity_json, r.operation) for r in pending]
            for record in pending:
                record.attempts += 1
            started = time.monotonic()
            traced = _log.is_enabled_for(logging.DEBUG)
            if traced:
                # Which customers are inside AEP requests, when (customer ids are not personal
                # data): what a test of several members reads to check one record per customer.
                request_id = next(_request_ids)
                _log.debug(
                    "aep_request_sent",
                    request=request_id,
                    at=time.time(),
                    customers=[r.customer_id for r in pending],
                )
            tracing.RESEND_COUNT.set(retries)
            try:
                answer = await self._sender.send(outgoing)
            except BaseException:
                breaker.abandon(probe)
                raise
            finally:
                if traced:
                    _log.debug("aep_request_answered", request=request_id, at=time.time())
            elapsed = time.monotonic() - started
            self._metrics.request_duration.record(elapsed)
            self._round_trip += (elapsed - self._round_trip) * _ROUND_TRIP_WEIGHT
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
                        request.final(record, outcome)
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
                    request.final(pending[0], _TooLarge())
                    return
                half = len(pending) // 2
                await self._send_until_final(pending[:half], request)
                await self._send_until_final(pending[half:], request)
                return
            if pending:
                retries += 1
                self._metrics.request_retries.add(1)

    async def _back_off(
        self,
        pending: list[SourceRecord],
        retries: int,
        retry_after: float | None,
        request: _Request,
    ) -> tuple[bool, list[SourceRecord]]:
        """Wait before sending `pending` (again): the batch's own back-off, the open circuit, the
        retry rate limit; their partitions count as backing off meanwhile. Records of partitions
        revoked meanwhile are let go at once, so a revoke never waits for this. Returns whether
        the request goes as the breaker's probe, and the records still to send."""
        until = time.monotonic() + (self._delay(retries, retry_after) if retries else 0.0)
        waiting = [(r.topic, r.partition) for r in pending]
        self._count_waits(waiting, 1)
        try:
            while True:
                await self._pause(until - time.monotonic(), pending)
                pending = self._without_revoked(pending, request)
                if not pending:
                    return False, pending
                if time.monotonic() < until:
                    continue  # woken by a revoke of other partitions: sleep on
                probe = await self.breaker.admit(functools.partial(self._any_revoked, pending))
                if probe is None:
                    continue  # some were revoked: let them go, wait on for the rest
                pending = self._without_revoked(pending, request)
                if not pending:
                    self.breaker.abandon(probe)
                    return False, pending
                if retries:
                    assert self._retry_limit is not None
                    await self._retry_limit.acquire()
                return probe, pending
        finally:
            self._count_waits(waiting, -1)

    def _count_waits(self, partitions: list[TopicPartitionKey], step: int) -> None:
        waits = self._waits_per_partition
        changed = False
        for tp in partitions:
            count = waits.get(tp, 0) + step
            if count:
                waits[tp] = count
                changed = changed or (step > 0 and count == 1)  # newly backing off
            else:
                del waits[tp]
                changed = True
        if changed:
            self._backing_off = frozenset(waits)

    def _any_revoked(self, pending: list[SourceRecord]) -> bool:
        revoked = self._revoked
        return bool(revoked) and any((r.topic, r.partition) in revoked for r in pending)

    def _without_revoked(
        self, pending: list[SourceRecord], request: _Request
    ) -> list[SourceRecord]:
        """Records of revoked partitions are not sent again: let go at once, so that the revoke
        does not wait for the rest of their request."""
        revoked = self._revoked
        if not revoked:
            return pending
        keep = []
        for record in pending:
            if (record.topic, record.partition) in revoked:
                request.let_go(record)
            else:
                keep.append(record)
        return keep

    async def _until_ready(self, pending: list[SourceRecord]) -> bool:
        """A new dataflow loses what it receives before `ready_at` (docs/DESIGN.md §4): wait for
        it. False when some of `pending` were revoked meanwhile (they are let go first). Every
        waiting task reads the shared deadline once: the first to pass it clears it."""
        ready_at = self._ready_at
        if ready_at is None:
            return True
        while (wait := (ready_at - datetime.now(UTC)).total_seconds()) > 0:
            await self._pause(min(wait, 1.0), pending)
            if self._any_revoked(pending):
                return False
        self._ready_at = None
        return True


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
