"""The delivery pipeline, composed by constructor: decode -> map -> validate -> batch -> send,
with the commit step accounting for every record and the dead-letter sink beside them.

    [NativeCoreStep -->] DecodeStep(MapStep(ValidateStep(StaleGuardStep(BatchStep(SendStep)))))
    NativeCoreStep --what the native core read--> StaleGuardStep
        SendStep --accepted--> mark writer --mark acknowledged--> CommitStep
        SendStep --superseded--> CommitStep;  StaleGuardStep --stale--> CommitStep
    each step --refused--> dead-letter sink --write acknowledged--> CommitStep

Records of the replay topic (docs/DESIGN.md §12) go through the same steps, lanes and store as
the source partition of the same number; they are tracked and committed under their own topic.

With `state` (the stale-update guard, docs/DESIGN.md §11) a partition's records wait, paused,
until its store is restored: the partition is reported as backing off meanwhile. Without it
(unit tests of the other steps) the lanes remember recently accepted keys in memory instead.

`Pipeline` is all the Kafka source sees (`PipelineInterface`): records in, partitions assigned and
revoked, one `poll` per loop turn, and one figure for backpressure (`room`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Protocol

from anyio.from_thread import BlockingPortal

from consumer.aep.protocol import InletSender
from consumer.config.settings import DeliverySettings
from consumer.observability.metrics import Metrics
from consumer.pipeline.guard import CountingStep, DeadLetterGuard
from consumer.pipeline.lanes import CustomerLanes
from consumer.pipeline.offsets import OffsetTracker, TopicPartitionKey
from consumer.pipeline.record import SourceRecord
from consumer.pipeline.state.ports import MarkSink, MarkSinkFactory, PartitionState
from consumer.pipeline.state.stale import StaleGuardStep
from consumer.pipeline.step import DeadLetterOutlet, Step
from consumer.pipeline.steps.batch import BatchStep
from consumer.pipeline.steps.commit import CommitStep, Committer
from consumer.pipeline.steps.decode import Decoder, DecodeStep
from consumer.pipeline.steps.map import MapStep
from consumer.pipeline.steps.native_core import NativeCoreStep, Transformer
from consumer.pipeline.steps.send import SendStep
from consumer.pipeline.steps.validate import RecordValidator, ValidateStep
from mappers.mapper import Mapper
from schemas.limits import RECORD_LIMIT, REQUEST_LIMIT

# Builds the dead-letter sink, given the step that accounts for a record once its write is
# acknowledged (the commit step, which the pipeline makes).
DeadLetterFactory = Callable[[Step], DeadLetterOutlet]


# One home for the limits' defaults: the settings (PipelineLimits() is what `run` gets with no
# PROFILE_SYNC_* limit set).
_DEFAULTS: Final[dict[str, Any]] = {
    name: field.default for name, field in DeliverySettings.model_fields.items()
}


@dataclass(frozen=True, slots=True)
class PipelineLimits:
    max_records: int = _DEFAULTS["batch_max_records"]
    linger_s: float = _DEFAULTS["batch_linger_ms"] / 1000
    max_in_flight: int = _DEFAULTS["max_in_flight_requests"]
    max_buffered: int = _DEFAULTS["max_buffered_records"]
    requests_per_s: float = _DEFAULTS["aep_max_requests_per_s"]
    records_per_s: float = _DEFAULTS["aep_max_records_per_s"]
    max_request_bytes: int = REQUEST_LIMIT
    record_limit: int = RECORD_LIMIT
    retries_per_s: float = _DEFAULTS["aep_max_retries_per_s"]
    breaker_threshold: int = _DEFAULTS["aep_breaker_failures"]
    backoff_cap_s: float = _DEFAULTS["aep_retry_backoff_cap_s"]


class PipelineInterface(Protocol):
    """What the Kafka source asks of the pipeline; nothing else of it is visible there."""

    def track(self, tp: TopicPartitionKey, offset: int) -> bool:
        """A record was polled (before `submit`). False: its partition is no longer owned."""

    def submit(self, record: SourceRecord) -> None:
        """Take a tracked record; may raise `MessageRejected` (offer the same record later)."""

    def poll(self) -> None:
        """All periodic work of every step, the dead-letter sink and the commit step."""

    def room(self) -> int:
        """How many more records may be polled (`max_buffered` less every record in the pipeline,
        including those waiting for a dead-letter acknowledgement); <= 0: full."""

    def buffered_records(self) -> int:
        """Records in the pipeline: in lanes, in flight, or waiting for a dead-letter or mark
        acknowledgement (what `max_buffered` bounds)."""

    def busy(self) -> bool:
        """Anything polled and not yet accounted for."""

    def backing_off(self) -> frozenset[TopicPartitionKey]:
        """Partitions the sender is backing off for (paused meanwhile)."""

    def owned(self) -> list[TopicPartitionKey]: ...

    def assign(self, partitions: list[TopicPartitionKey]) -> None: ...

    def revoke(self, partitions: list[TopicPartitionKey]) -> int:
        """Stop sending records of these partitions; returns how many unsent ones were dropped."""

    def unsettled(self, partitions: list[TopicPartitionKey]) -> bool:
        """Records of these partitions sent and unanswered, or dead-letter writes unacknowledged
        (a revoke waits, bounded, for them)."""

    def wait(self, timeout: float) -> None:
        """Block at most `timeout` s for progress on what `unsettled` reports."""

    def positions(self, partitions: Iterable[TopicPartitionKey]) -> dict[TopicPartitionKey, int]:
        """Committable positions (W+1) of these partitions, where known."""

    def forget(self, partitions: Iterable[TopicPartitionKey]) -> None: ...

    def close(self) -> None: ...


class Pipeline:
    """The composed steps behind `PipelineInterface`. Poll thread only."""

    def __init__(
        self,
        *,
        decoder: Decoder,
        mapper: Mapper,
        validator: RecordValidator,
        sender: InletSender,
        portal: BlockingPortal,
        dead_letters: DeadLetterFactory,
        committer: Committer,
        limits: PipelineLimits,
        metrics: Metrics,
        ready_at: datetime | None = None,
        guard: DeadLetterGuard | None = None,
        state: PartitionState | None = None,
        marks: MarkSinkFactory | None = None,
        replay_topic: str | None = None,
        core: Transformer | None = None,
    ) -> None:
        if (state is None) != (marks is None):
            raise ValueError("the stale-update guard needs both its state and its mark writer")
        self._max_buffered = limits.max_buffered
        # Replay partition p shares source partition p's store (its customers are the same):
        # only source partitions open and release stores.
        self._replay_topic = replay_topic
        self._tracker = tracker = OffsetTracker()
        self._commit = commit = CommitStep(tracker, committer)
        self._dead_letters = sink = dead_letters(commit)
        # Accepted and superseded records also count as processed for the guard.
        accounted: Step = commit if guard is None else CountingStep(guard, commit)
        self._state = state
        self._marks: MarkSink | None = None if marks is None else marks(accounted)
        self._lanes = lanes = CustomerLanes() if state is None else CustomerLanes(accepted_memory=0)
        self._send = send = SendStep(
            sender,
            portal,
            lanes,
            accounted,
            sink,
            metrics,
            max_in_flight=limits.max_in_flight,
            requests_per_s=limits.requests_per_s,
            records_per_s=limits.records_per_s,
            ready_at=ready_at,
            retries_per_s=limits.retries_per_s,
            breaker_threshold=limits.breaker_threshold,
            backoff_cap_s=limits.backoff_cap_s,
            accepted=self._marks,
        )
        batch = BatchStep(
            lanes,
            send,
            accounted,
            metrics,
            max_records=limits.max_records,
            max_request_bytes=limits.max_request_bytes,
            empty_request_bytes=sender.request_size([]),
            message_overhead=sender.envelope_overhead(),
            linger_s=limits.linger_s,
        )
        guarded: Step = (
            batch if state is None else StaleGuardStep(state.stores, batch, accounted, metrics)
        )
        validate = ValidateStep(validator, limits.record_limit, guarded, sink)
        mapped = MapStep(mapper, validate, sink, metrics)
        decode = DecodeStep(decoder, mapped, sink)
        self._head: Step = (
            decode
            if core is None
            else NativeCoreStep(core, decode, guarded, limits.record_limit, metrics)
        )

    # -- records --------------------------------------------------------------------------
    def track(self, tp: TopicPartitionKey, offset: int) -> bool:
        return self._tracker.track(tp, offset)

    def submit(self, record: SourceRecord) -> None:
        self._head.submit(record)

    def poll(self) -> None:
        self._head.poll()
        self._dead_letters.poll()
        if self._marks is not None:
            self._marks.poll()
        if self._state is not None:
            self._state.tick()  # restores of newly assigned partitions, a slice at a time
        self._commit.poll()

    def buffered_records(self) -> int:
        lanes = self._lanes
        count = lanes.buffered() + lanes.in_flight() + self._dead_letters.pending()
        return count if self._marks is None else count + self._marks.pending()

    def room(self) -> int:
        return self._max_buffered - self.buffered_records()

    def busy(self) -> bool:
        restoring = self._state is not None and bool(self._state.restoring())
        return bool(self.buffered_records() or self._tracker.total_pending() or restoring)

    def backing_off(self) -> frozenset[TopicPartitionKey]:
        """Partitions to keep paused: those the sender backs off for, and those whose state
        is being restored (nothing of them is sent before their marks are known)."""
        backing_off = self._send.backing_off()
        if self._state is None:
            return backing_off
        restoring = self._state.restoring()
        if not restoring:
            return backing_off
        return backing_off | {tp for tp in self._tracker.owned() if tp[1] in restoring}

    # -- partitions -----------------------------------------------------------------------
    def owned(self) -> list[TopicPartitionKey]:
        return self._tracker.owned()

    def assign(self, partitions: list[TopicPartitionKey]) -> None:
        for tp in partitions:
            self._tracker.assign(tp)
        self._send.assign(partitions)
        if self._state is not None:
            self._state.assigned(p for t, p in partitions if t != self._replay_topic)

    def revoke(self, partitions: list[TopicPartitionKey]) -> int:
        self._send.revoke(partitions)
        return self._lanes.drop_partitions(partitions)

    def unsettled(self, partitions: list[TopicPartitionKey]) -> bool:
        marks = 0 if self._marks is None else self._marks.pending()
        return bool(self._lanes.in_flight_in(partitions) or self._dead_letters.pending() or marks)

    def wait(self, timeout: float) -> None:
        if self._dead_letters.pending():
            self._dead_letters.join(timeout)
        elif self._marks is not None and self._marks.pending():
            self._marks.join(timeout)
        else:
            time.sleep(timeout)

    def positions(self, partitions: Iterable[TopicPartitionKey]) -> dict[TopicPartitionKey, int]:
        tracker = self._tracker
        return {tp: pos for tp in partitions if (pos := tracker.position(tp)) is not None}

    def oldest_unaccounted(self) -> dict[TopicPartitionKey, int | None]:
        """The lag gauges' view: per owned partition, its oldest offset not accounted for."""
        return self._tracker.oldest()

    def forget(self, partitions: Iterable[TopicPartitionKey]) -> None:
        partitions = list(partitions)
        for tp in partitions:
            self._tracker.forget(tp)
        if self._state is not None:
            # After the revoke's commit (or at once, when lost): the next owner restores.
            self._state.released(p for t, p in partitions if t != self._replay_topic)

    # -- end ------------------------------------------------------------------------------
    def join(self, timeout: float) -> bool:
        done = self._head.join(timeout) and self._dead_letters.join(timeout)
        if self._marks is not None:
            done = self._marks.join(timeout) and done
        self._commit.join(0)
        return done

    def close(self) -> None:
        self._head.close()
        self._dead_letters.close()
        if self._marks is not None:
            self._marks.close()
        if self._state is not None:
            self._state.close()
