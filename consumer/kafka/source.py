"""The one thread that owns the Kafka consumer (docs/DESIGN.md §6, "Threads").

It polls, feeds the pipeline, pauses and resumes, stores and commits offsets and runs the
rebalance callbacks. Nothing here blocks for more than a fraction of a second, except the bounded
revoke wait that docs/DESIGN.md §6 prescribes (`PROFILE_SYNC_REVOKE_TIMEOUT_S` <
`max.poll.interval.ms`). HTTP and retries run on the HTTP loop (`send_step`).

The source sees the pipeline only through `PipelineInterface`: one `poll` per loop turn, one
backpressure figure (`room`), and the partition calls of a rebalance.

A partition is paused exactly while the sender backs off for it, and every partition while the
pipeline has no room or refuses a record; this is reconciled on every loop turn and on every
assignment. Polls never take more records than the pipeline has room for.

The replay topic (docs/DESIGN.md §12) is read by a second consumer that joins no group: it is
assigned replay partition p exactly while the group gives this process source partition p, and
commits under the group `{group_id}.replay`. The same thread polls both, into the same pipeline
and the same room. The handoff on revoke: stop feeding source p and replay p, wait (bounded) for
their records in flight, commit both, close p's store, unassign replay p, and only then let the
group's revoke of source p complete; the next owner is given source p (and so assigns replay p)
only after that.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Protocol

import structlog
from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition

from consumer.kafka.replayed import read_provenance
from consumer.observability.metric_names import ATTR_KIND
from consumer.observability.metrics import Metrics
from consumer.pipeline.compose import PipelineInterface
from consumer.pipeline.errors import MessageRejected, StopConsumer
from consumer.pipeline.offsets import TopicPartitionKey
from consumer.pipeline.record import SourceRecord

_log = structlog.get_logger(__name__)

MAX_POLL_RECORDS: Final = 500
BUSY_POLL_S: Final = 0.02
IDLE_POLL_S: Final = 0.2
CARRY_RETRY_S: Final = 0.2


class KafkaCommitter:
    """Stores positions for librdkafka's auto-commit; commits synchronously when asked."""

    def __init__(
        self,
        consumer: Consumer,
        metrics: Metrics,
        auto_commit: bool = True,
        cap: Callable[[dict[TopicPartitionKey, int]], dict[TopicPartitionKey, int]] | None = None,
    ) -> None:
        self._consumer = consumer
        self._metrics = metrics
        self._auto_commit = auto_commit
        # The dead-letter guard's limit on positions (`DeadLetterGuard.cap`).
        self._cap = cap

    def store(self, positions: dict[TopicPartitionKey, int]) -> bool:
        """False when the positions were not stored (they are offered again next time)."""
        if self._cap is not None:
            positions = self._cap(positions)
        offsets = _topic_partitions(positions)
        try:
            # An explicit TopicPartition offset is stored as given: it already is W+1.
            self._consumer.store_offsets(offsets=offsets)
            if not self._auto_commit:
                self._consumer.commit(offsets=offsets, asynchronous=True)
        except KafkaException as exc:
            _log.warning("offset_store_failed", kafka_error=str(exc.args[0]))
            return False
        self._metrics.commits.add(1, {"kind": "store"})
        return True

    def commit_sync(self, positions: dict[TopicPartitionKey, int]) -> bool:
        if self._cap is not None:
            positions = self._cap(positions)
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


class SourceCommitter(Protocol):
    def store(self, positions: dict[TopicPartitionKey, int]) -> bool: ...
    def commit_sync(self, positions: dict[TopicPartitionKey, int]) -> bool: ...


class TopicCommitters:
    """Each topic's positions stored and committed by the consumer that reads it: the source's
    under the service's group, the replay topic's under `{group_id}.replay`."""

    def __init__(self, committers: Mapping[str, SourceCommitter]) -> None:
        self._committers = dict(committers)

    def store(self, positions: dict[TopicPartitionKey, int]) -> bool:
        done = True
        for topic, part in _by_topic(positions).items():
            done = self._committers[topic].store(part) and done
        return done

    def commit_sync(self, positions: dict[TopicPartitionKey, int]) -> bool:
        done = True
        for topic, part in _by_topic(positions).items():
            done = self._committers[topic].commit_sync(part) and done
        return done


def _by_topic(
    positions: dict[TopicPartitionKey, int],
) -> dict[str, dict[TopicPartitionKey, int]]:
    split: dict[str, dict[TopicPartitionKey, int]] = {}
    for tp, position in positions.items():
        split.setdefault(tp[0], {})[tp] = position
    return split


@dataclass(frozen=True, slots=True)
class ReplayFeed:
    """The replay topic and the consumer (no group membership: assign only) that reads it."""

    consumer: Consumer
    topic: str


def _topic_partitions(positions: dict[TopicPartitionKey, int]) -> list[TopicPartition]:
    return [TopicPartition(t, p, o) for (t, p), o in positions.items()]


def _partitions(keys: Iterable[TopicPartitionKey]) -> list[TopicPartition]:
    return [TopicPartition(t, p) for t, p in keys]


class KafkaSource:
    def __init__(
        self,
        consumer: Consumer,
        topic: str,
        pipeline: PipelineInterface,
        *,
        committer: SourceCommitter,
        metrics: Metrics,
        revoke_timeout_s: float,
        clock: Callable[[], float] = time.monotonic,
        on_tick: Callable[[float], None] | None = None,
        replay: ReplayFeed | None = None,
    ) -> None:
        self._consumer = consumer
        self._topic = topic
        self._replay = replay
        # Replay partitions assigned (mirroring the source partitions the group gave us).
        self._replaying: set[int] = set()
        self._pipeline = pipeline
        self._committer = committer
        self._metrics = metrics
        self._revoke_timeout = revoke_timeout_s
        # Room left for records this turn: the pipeline's, less those offered again.
        self._room = 1
        self._clock = clock
        # Health and lag sampling (`run`): called with the time at the start of every loop turn.
        self._on_tick = on_tick
        # Records the pipeline refused (backpressure), offered again before anything new.
        self._carry: deque[SourceRecord] = deque()
        self._paused: set[TopicPartitionKey] = set()
        self._offer_again_at = 0.0
        self._fatal: BaseException | None = None
        # Set by `shutdown`: assignments that still arrive (inside `close`) are not taken.
        self._leaving = False
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
        try:
            while not stop.is_set():
                got = self._tick()
                if exit_when_idle is not None and self._idle_for(got) >= exit_when_idle:
                    _log.info("idle_exit", idle_s=exit_when_idle)
                    return
        finally:
            self._metrics.flush()

    def _tick(self) -> int:
        if self._on_tick is not None:
            self._on_tick(self._clock())
        pipeline = self._pipeline
        pipeline.poll()
        while self._carry and self._clock() >= self._offer_again_at:
            try:
                pipeline.submit(self._carry[0])
            except MessageRejected:
                # Not before a pause: a refusal can mean a registry that is down.
                self._offer_again_at = self._clock() + CARRY_RETRY_S
                break
            self._carry.popleft()
        carried = len(self._carry)
        buffered = carried + pipeline.buffered_records()
        self._metrics.buffered.record(buffered)
        self._room = pipeline.room() - carried
        self._reconcile_pause()
        # Full: every partition is paused (above); 1 because consume() needs a positive count.
        room = max(1, min(MAX_POLL_RECORDS, self._room))
        replayed: list[Any] = []
        if self._replay is not None and self._replaying:
            # At most half the room, so that a long replay never starves live records; without
            # waiting: the source's poll below is the one that waits.
            replayed = self._replay.consumer.consume(max(1, room // 2), 0)
            if replayed:
                self._take(replayed)
        left = max(1, room - len(replayed))
        # A batch consume waits out its whole timeout unless `left` records arrive: wait for
        # the first record only, then take what else is already fetched without waiting.
        messages = self._consumer.consume(1, BUSY_POLL_S if buffered or replayed else IDLE_POLL_S)
        if messages and left > 1:
            messages += self._consumer.consume(left - 1, 0)
        if self._fatal is not None:
            raise self._fatal
        if messages:
            self._take(messages)
        self._metrics.flush()
        return len(messages) + len(replayed)

    def _take(self, messages: list[Any]) -> None:
        now = self._clock()
        taken = 0
        replayed = 0
        pipeline = self._pipeline
        replay_topic = None if self._replay is None else self._replay.topic
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
            if not pipeline.track((topic, partition), offset):
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
            if topic == replay_topic:
                record.replay, record.headers = read_provenance(record.headers)
                replayed += 1
            taken += 1
            if self._carry:
                self._carry.append(record)
                continue
            try:
                pipeline.submit(record)
            except MessageRejected:
                self._carry.append(record)
                self._offer_again_at = now + CARRY_RETRY_S
        self.polled += taken
        self._metrics.records_in.add(taken)
        if replayed:
            self._metrics.replay_in.add(replayed)

    def _wanted_paused(self) -> set[TopicPartitionKey]:
        """All partitions while records are offered again (the pipeline is full); otherwise
        exactly those the sender is backing off for (docs/DESIGN.md §6)."""
        owned = self._pipeline.owned()
        if self._carry or self._room <= 0:
            return set(owned)
        backing_off = self._pipeline.backing_off()
        if not backing_off:
            return set()
        return {tp for tp in owned if tp in backing_off}

    def _reconcile_pause(self) -> None:
        want = self._wanted_paused()
        if want == self._paused:
            return
        pause = want - self._paused
        resume = self._paused - want
        if pause:
            self._each_consumer(pause, lambda c, ps: c.pause(ps))
        if resume:
            self._each_consumer(resume, lambda c, ps: c.resume(ps))
        self._metrics.partitions_paused.add(len(pause) - len(resume))
        _log.debug("partitions_paused", paused=sorted(p for _, p in want))
        self._paused = want

    def _each_consumer(
        self,
        tps: Iterable[TopicPartitionKey],
        action: Callable[[Consumer, list[TopicPartition]], None],
    ) -> None:
        """`action` on the consumer that reads each partition (the source's or the replay's)."""
        replay = self._replay
        source = [tp for tp in tps if replay is None or tp[0] != replay.topic]
        if source:
            action(self._consumer, _partitions(source))
        if replay is not None:
            mirrored = [tp for tp in tps if tp[0] == replay.topic]
            if mirrored:
                action(replay.consumer, _partitions(mirrored))

    def _mirrored(self, partitions: Sequence[TopicPartition]) -> list[TopicPartition]:
        """The replay partitions of these source partitions (none without a replay topic)."""
        if self._replay is None:
            return []
        return [TopicPartition(self._replay.topic, p.partition) for p in partitions]

    def _idle_for(self, polled: int) -> float:
        busy = (
            polled
            or self._carry
            or not self._pipeline.owned()
            or self._pipeline.busy()
            or not self._fetched_everywhere()
        )
        now = self._clock()
        if busy:
            self._idle_since = None
            return 0.0
        if self._idle_since is None:
            self._idle_since = now
        return now - self._idle_since

    def _fetched_everywhere(self) -> bool:
        """Every owned partition has had a fetch answer (librdkafka then knows its high
        watermark). Before that its reader has not looked yet, which is not idle: the first
        fetch after an assignment can take longer than the idle wait (offset look-ups, a
        coordinator still loading). Only the first answer counts, not reaching the watermark:
        control records and compaction leave positions short of it for good."""
        replay = self._replay
        for topic, partition in self._pipeline.owned():
            reader = (
                replay.consumer if replay is not None and topic == replay.topic else self._consumer
            )
            try:
                _, high = reader.get_watermark_offsets(
                    TopicPartition(topic, partition), cached=True
                )
            except KafkaException:
                continue  # not the client's partition any more: nothing to wait for
            if high < 0:
                return False
        return True

    # -- rebalance ------------------------------------------------------------------------
    def _on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        if self._leaving:
            # A cooperative rebalance can finish inside `close()`, after the replay consumer
            # closed: the client takes the partitions only to give them back as it leaves the
            # group. Nothing is read from them, so nothing is committed for them either.
            self._guarded(lambda: consumer.incremental_assign(partitions))
            _log.info(
                "partitions_assigned_while_leaving", partitions=[p.partition for p in partitions]
            )
            return
        self._guarded(lambda: self._assign(consumer, partitions))

    def _assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        mirrored = self._mirrored(partitions)
        tps = [(p.topic, p.partition) for p in partitions]
        replay_tps = [(p.topic, p.partition) for p in mirrored]
        self._pipeline.assign(tps + replay_tps)
        consumer.incremental_assign(partitions)
        _reading(tps, True)
        if self._replay is not None and mirrored:
            # After the source partition: ours now, so no other member reads its replay.
            # Without an offset: from the `{group_id}.replay` group's commit, else the earliest.
            self._replay.consumer.incremental_assign(mirrored)
            self._replaying.update(p.partition for p in mirrored)
            _reading(replay_tps, True)
        self._metrics.rebalances.add(1, {ATTR_KIND: "assigned"})
        # Reconciled on every assignment: a newcomer starts paused exactly when it should be,
        # whatever pause state the client kept for it from an earlier assignment.
        newcomers = set(tps) | set(replay_tps)
        unpaused = newcomers - self._wanted_paused()
        if unpaused:
            self._each_consumer(unpaused, lambda c, ps: c.resume(ps))
        stale = self._paused & newcomers
        if stale:
            self._metrics.partitions_paused.add(-len(stale))
            self._paused -= stale
        self._reconcile_pause()
        _log.info("partitions_assigned", partitions=[p for _, p in tps])

    def _on_revoke(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        self._metrics.rebalances.add(1, {ATTR_KIND: "revoked"})
        self._guarded(lambda: self._give_up(consumer, partitions, True))

    def _on_lost(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        self._metrics.rebalances.add(1, {ATTR_KIND: "lost"})
        self._guarded(lambda: self._give_up(consumer, partitions, False))

    def _give_up(self, consumer: Consumer, partitions: list[TopicPartition], commit: bool) -> None:
        """The handoff: source and replay partitions released together (settled and committed
        when revoked), the replay partitions unassigned, and only then the source ones; the
        group hands the source partitions on once this callback returns."""
        mirrored = self._mirrored(partitions)
        tps = [(p.topic, p.partition) for p in partitions + mirrored]
        self._guarded(lambda: self.release(tps, commit))
        self._unassign_replay(mirrored)
        consumer.incremental_unassign(partitions)
        _reading([(p.topic, p.partition) for p in partitions], False)
        self._forget_paused(partitions + mirrored)

    def _unassign_replay(self, mirrored: list[TopicPartition]) -> None:
        # Only those still assigned: after `shutdown` closed the replay consumer, the group's
        # final revoke (in the source consumer's close) finds none.
        mirrored = [p for p in mirrored if p.partition in self._replaying]
        if self._replay is None or not mirrored:
            return
        self._replay.consumer.incremental_unassign(mirrored)
        self._replaying.difference_update(p.partition for p in mirrored)
        _reading([(p.topic, p.partition) for p in mirrored], False)

    def _forget_paused(self, partitions: list[TopicPartition]) -> None:
        gone = self._paused & {(p.topic, p.partition) for p in partitions}
        if gone:
            self._paused -= gone
            self._metrics.partitions_paused.add(-len(gone))

    def _guarded(self, action: Callable[[], None]) -> None:
        # An exception must not escape a librdkafka callback (confluent-kafka can turn one
        # raised inside `close()` into a SystemError); it is raised after consume() or close().
        try:
            action()
        except BaseException as exc:
            if self._fatal is None:
                self._fatal = exc

    def release(self, partitions: Sequence[TopicPartitionKey], commit: bool) -> None:
        """Revoke (commit=True) or lose (commit=False) partitions: stop feeding them, drop their
        unsent records, wait (bounded) for their unanswered requests and dead-letter writes,
        commit."""
        pipeline = self._pipeline
        mine = set(pipeline.owned())
        owned = [tp for tp in partitions if tp in mine]
        gone = set(partitions)
        dropped = pipeline.revoke(list(partitions))
        self._carry = deque(r for r in self._carry if (r.topic, r.partition) not in gone)
        if commit and owned:
            deadline = self._clock() + self._revoke_timeout
            while True:
                try:
                    pipeline.poll()
                except StopConsumer as exc:
                    # Stopping anyway: commit what is accounted for, wait for nothing more.
                    if self._fatal is None:
                        self._fatal = exc
                    break
                if not pipeline.unsettled(owned):
                    break
                if self._clock() >= deadline:
                    _log.warning("revoke_wait_timed_out", partitions=[p for _, p in owned])
                    break
                pipeline.wait(0.01)
            self._committer.commit_sync(pipeline.positions(owned))
        pipeline.forget(partitions)
        replay_topic = None if self._replay is None else self._replay.topic
        _log.info(
            "partitions_released" if commit else "partitions_lost",
            partitions=[p for t, p in partitions if t != replay_topic],
            replay_partitions=[p for t, p in partitions if t == replay_topic],
            dropped=dropped,
        )

    def shutdown(self) -> None:
        """SIGTERM and clean stops: a revoke of every partition, then leave the group (the
        replay consumer is closed first: it reads only what the group gave us)."""
        owned = self._pipeline.owned()
        self._leaving = True
        fatal = self._fatal
        try:
            self.release(owned, True)
        finally:
            try:
                if self._replay is not None:
                    self._replay.consumer.close()
                    self._replaying.clear()
                    _reading([tp for tp in owned if tp[0] == self._replay.topic], False)
            finally:
                self._consumer.close()
                _reading([tp for tp in owned if tp[0] == self._topic], False)
                self._metrics.flush()  # what the drain above settled
        if self._fatal is not fatal and self._fatal is not None:
            # A fault of the last drain above, or of the group's last revoke inside `close()`.
            raise self._fatal


def _reading(tps: Iterable[TopicPartitionKey], started: bool) -> None:
    """Debug lines with wall-clock times: when this process began and stopped reading which
    partitions of which topic (what a test of several members reads to check that no partition
    is read by two at once)."""
    if not _log.is_enabled_for(logging.DEBUG):
        return
    by_topic: dict[str, list[int]] = {}
    for t, p in tps:
        by_topic.setdefault(t, []).append(p)
    for t, ps in by_topic.items():
        _log.debug(
            "reading_started" if started else "reading_stopped",
            topic=t,
            partitions=sorted(ps),
            at=time.time(),
        )
