"""Step 6: account for records and store the committable positions (docs/DESIGN.md §6).

Commit order, for every record of a partition:

1. The poll thread polls the record and registers its offset (`OffsetTracker.track`) before
   any step sees it; from then on the partition's position cannot pass it.
2. The record ends in exactly one way: AEP accepts it (`send_step`); a newer record of the same
   customer is accepted (`lanes`: superseded); or its dead-letter write is acknowledged by the
   broker (`dead_letter`, `acks=all`, idempotent). Only then does it reach this step.
3. `OffsetTracker.accounted` moves the position to W+1, W the highest offset with every offset
   at or below it accounted for.
4. At most every `interval_s` the moved positions are stored (`store_offsets` with explicit
   offsets); librdkafka's auto-commit commits stored offsets, never anything else.
5. On revoke and shutdown (`kafka_source.release`): unsent records of the partitions are
   dropped, requests already sent are awaited (bounded), then the positions are stored and
   committed synchronously. A lost partition commits nothing.
6. Once the dead-letter guard trips (`dead_letter_guard`), no position past the first record of
   its window is stored or committed (`KafkaCommitter` applies `DeadLetterGuard.cap`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol

from consumer.pipeline.offsets import OffsetTracker, TopicPartitionKey
from consumer.pipeline.record import SourceRecord


class Committer(Protocol):
    def store(self, positions: dict[TopicPartitionKey, int]) -> None: ...


class CommitStep:
    def __init__(
        self,
        tracker: OffsetTracker,
        committer: Committer,
        interval_s: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._tracker = tracker
        self._committer = committer
        self._interval = interval_s
        self._clock = clock
        self._last = clock()

    def submit(self, record: SourceRecord) -> None:
        self._tracker.accounted((record.topic, record.partition), record.offset)

    def poll(self) -> None:
        now = self._clock()
        if now - self._last >= self._interval:
            self._last = now
            self.store()

    def store(self) -> None:
        positions = self._tracker.uncommitted()
        if positions:
            self._committer.store(positions)
            self._tracker.mark_committed(positions)

    def join(self, timeout: float) -> bool:
        self.store()
        return True

    def close(self) -> None:
        pass
