"""The one thread that owns the Kafka consumer (design section 6, "Threads").

It polls, feeds the pipeline, pauses and resumes, stores and commits offsets and runs the
rebalance callbacks. Nothing here blocks for more than a fraction of a second, except the bounded
revoke wait that design section 6 prescribes (`PROFILE_SYNC_REVOKE_TIMEOUT_S` <
`max.poll.interval.ms`). HTTP and retries run on the HTTP loop (`send_step`).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any, Final

import structlog
from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition

from consumer.dead_letter import DeadLetterProducer
from consumer.lanes import CustomerLanes
from consumer.metrics import Metrics
from consumer.offsets import OffsetTracker, TopicPartitionKey
from consumer.record import SourceRecord
from consumer.send_step import SendStep
from consumer.signals import MessageRejected, StopConsumer
from consumer.step import Step

_log = structlog.get_logger(__name__)

MAX_POLL_RECORDS: Final = 500
BUSY_POLL_S: Final = 0.02
IDLE_POLL_S: Final = 0.2
CARRY_RETRY_S: Final = 0.2


class KafkaCommitter:
    """Stores positions for librdkafka's auto-commit; commits synchronously when asked."""

    def __init__(self, consumer: Consumer, metrics: Metrics, auto_commit: bool = True) -> None:
        self._consumer = consumer
        self._metrics = metrics
        self._auto_commit = auto_commit

    def store(self, positions: dict[TopicPartitionKey, int]) -> None:
        offsets = _topic_partitions(positions)
        try:
            # An explicit TopicPartition offset is stored as given: it already is W+1.
            self._consumer.store_offsets(offsets=offsets)
            if not self._auto_commit:
                self._consumer.commit(offsets=offsets, asynchronous=True)
        except KafkaException as exc:
            _log.warning("offset_store_failed", kafka_error=str(exc.args[0]))
            return
        self._metrics.commits.add(1, {"kind": "store"})

    def commit_sync(self, positions: dict[TopicPartitionKey, int]) -> bool:
        if not positions:
            return True
        offsets = _topic_partitions(positions)
        try:
            # Stored too: librdkafka's own commit on unassign and close commits the stored
            # offsets, which must not take the group back to an older stored position.
            self._consumer.store_offsets(offsets=offsets)
        except KafkaException as exc:
            _log.warning("offset_store_failed", kafka_error=str(exc.args[0]))
        try:
            self._consumer.commit(offsets=offsets, asynchronous=False)
        except KafkaException as exc:
            error = exc.args[0]
            if getattr(error, "code", lambda: None)() == KafkaError._NO_OFFSET:
                return True
            _log.warning("offset_commit_failed", kafka_error=str(error))
            return False
        self._metrics.commits.add(1, {"kind": "sync"})
        _log.info(
            "offsets_committed", positions={f"{t}[{p}]": o for (t, p), o in positions.items()}
        )
        return True


def _topic_partitions(positions: dict[TopicPartitionKey, int]) -> list[TopicPartition]:
    return [TopicPartition(t, p, o) for (t, p), o in positions.items()]


class KafkaSource:
    def __init__(
        self,
        consumer: Consumer,
        topic: str,
        pipeline: Step,
        *,
        tracker: OffsetTracker,
        lanes: CustomerLanes,
        send: SendStep,
        dead_letters: DeadLetterProducer,
        committer: KafkaCommitter,
        metrics: Metrics,
        revoke_timeout_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._consumer = consumer
        self._topic = topic
        self._pipeline = pipeline
        self._tracker = tracker
        self._lanes = lanes
        self._send = send
        self._dead_letters = dead_letters
        self._committer = committer
        self._metrics = metrics
        self._revoke_timeout = revoke_timeout_s
        self._clock = clock
        # Records the pipeline refused (backpressure), offered again before anything new.
        self._carry: deque[SourceRecord] = deque()
        self._paused = False
        self._offer_again_at = 0.0
        self._fatal: BaseException | None = None
        self._idle_since: float | None = None
        self.polled = 0

    # -- main loop ------------------------------------------------------------------------
    def run(self, stop: threading.Event, exit_when_idle: float | None = None) -> None:
        """Consume until `stop` is set or, with `exit_when_idle`, until idle that long."""
        self._consumer.subscribe(
            [self._topic],
            on_assign=self._on_assign,
            on_revoke=self._on_revoke,
            on_lost=self._on_lost,
        )
        while not stop.is_set():
            got = self._tick()
            if exit_when_idle is not None and self._idle_for(got) >= exit_when_idle:
                _log.info("idle_exit", idle_s=exit_when_idle)
                return

    def _tick(self) -> int:
        self._pipeline.poll()
        self._dead_letters.poll()
        while self._carry and self._clock() >= self._offer_again_at:
            try:
                self._pipeline.submit(self._carry[0])
            except MessageRejected:
                # Not before a pause: a refusal can mean a registry that is down.
                self._offer_again_at = self._clock() + CARRY_RETRY_S
                break
            self._carry.popleft()
        self._reconcile_pause()
        busy = self._carry or self._lanes.buffered() or self._lanes.in_flight()
        messages = self._consumer.consume(
            MAX_POLL_RECORDS, BUSY_POLL_S if busy or self._dead_letters.pending() else IDLE_POLL_S
        )
        if self._fatal is not None:
            raise self._fatal
        if messages:
            self._take(messages)
        return len(messages)

    def _take(self, messages: list[Any]) -> None:
        now = self._clock()
        taken = 0
        tracker = self._tracker
        for msg in messages:
            error = msg.error()
            if error is not None:
                if error.code() == KafkaError._PARTITION_EOF:
                    continue
                if error.fatal():
                    raise StopConsumer(f"fatal Kafka consumer error: {error}", 1)
                _log.warning("kafka_consumer_error", kafka_error=str(error))
                continue
            topic, partition, offset = msg.topic(), msg.partition(), msg.offset()
            if not tracker.track((topic, partition), offset):
                continue  # fetched before its partition was revoked
            kind, timestamp = msg.timestamp()
            record = SourceRecord(
                topic,
                partition,
                offset,
                msg.key(),
                msg.value(),
                msg.headers(),
                timestamp if kind else None,
                now,
            )
            taken += 1
            if self._carry:
                self._carry.append(record)
                continue
            try:
                self._pipeline.submit(record)
            except MessageRejected:
                self._carry.append(record)
                self._offer_again_at = now + CARRY_RETRY_S
        self.polled += taken
        self._metrics.records_in.add(taken)

    def _reconcile_pause(self) -> None:
        want = bool(self._carry)
        if want == self._paused:
            return
        assignment = self._consumer.assignment()
        if want:
            self._consumer.pause(assignment)
            _log.info("partitions_paused", partitions=len(assignment))
        else:
            self._consumer.resume(assignment)
            _log.info("partitions_resumed", partitions=len(assignment))
        self._paused = want

    def _idle_for(self, polled: int) -> float:
        busy = (
            polled
            or not self._tracker.owned()
            or self._carry
            or self._lanes.buffered()
            or self._lanes.in_flight()
            or self._dead_letters.pending()
            or self._tracker.total_pending()
        )
        now = self._clock()
        if busy:
            self._idle_since = None
            return 0.0
        if self._idle_since is None:
            self._idle_since = now
        return now - self._idle_since

    # -- rebalance ------------------------------------------------------------------------
    def _on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        tps = [(p.topic, p.partition) for p in partitions]
        for tp in tps:
            self._tracker.assign(tp)
        self._send.assign(tps)
        consumer.incremental_assign(partitions)
        if self._paused:
            consumer.pause(partitions)  # paused state follows the pipeline, also for newcomers
        _log.info("partitions_assigned", partitions=[p for _, p in tps])

    def _on_revoke(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        self._guarded(lambda: self.release([(p.topic, p.partition) for p in partitions], True))
        consumer.incremental_unassign(partitions)

    def _on_lost(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        self._guarded(lambda: self.release([(p.topic, p.partition) for p in partitions], False))
        consumer.incremental_unassign(partitions)

    def _guarded(self, action: Callable[[], None]) -> None:
        # An exception must not escape a librdkafka callback; it is raised after consume().
        try:
            action()
        except BaseException as exc:
            if self._fatal is None:
                self._fatal = exc

    def release(self, partitions: Sequence[TopicPartitionKey], commit: bool) -> None:
        """Revoke (commit=True) or lose (commit=False) partitions: stop feeding them, drop their
        unsent records, wait (bounded) for their requests and dead-letter writes, commit."""
        mine = set(self._tracker.owned())
        owned = [tp for tp in partitions if tp in mine]
        gone = set(partitions)
        self._send.revoke(list(partitions))
        dropped = self._lanes.drop_partitions(gone)
        self._carry = deque(r for r in self._carry if (r.topic, r.partition) not in gone)
        if commit and owned:
            deadline = self._clock() + self._revoke_timeout
            while self._lanes.in_flight_in(owned) or self._dead_letters.pending():
                if self._clock() >= deadline:
                    _log.warning("revoke_wait_timed_out", partitions=[p for _, p in owned])
                    break
                try:
                    self._pipeline.poll()
                    self._dead_letters.poll()
                except StopConsumer as exc:
                    # Stopping anyway: commit what is accounted for, wait for nothing more.
                    if self._fatal is None:
                        self._fatal = exc
                    break
                if self._dead_letters.pending():
                    self._dead_letters.join(0.05)
                else:
                    time.sleep(0.01)
            positions = {tp: pos for tp in owned if (pos := self._tracker.position(tp)) is not None}
            self._committer.commit_sync(positions)
        for tp in partitions:
            self._tracker.forget(tp)
        _log.info(
            "partitions_released" if commit else "partitions_lost",
            partitions=[p for _, p in partitions],
            dropped=dropped,
        )

    def shutdown(self) -> None:
        """SIGTERM and clean stops: a revoke of every partition, then leave the group."""
        try:
            self.release(self._tracker.owned(), True)
        finally:
            self._consumer.close()
