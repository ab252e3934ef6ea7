"""The dead-letter guard (docs/DESIGN.md §6, "Retries and guard"; exit 4).

Over the last `window_s` seconds it counts the records processed (accepted, superseded or sent to
be dead-lettered) and those dead-lettered. When at least `min_records` were processed and more
than `max_share` of them would be dead-lettered, it trips: that dead-letter write and every later
one are refused, the consumer stops with exit 4, and no commit goes past the window's first
record (`cap`), so that a restart after the fix processes the window again.

Poll thread only. Counts are kept per second, so the window slides in one-second steps.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from consumer.config import exit_codes
from consumer.pipeline.errors import StopConsumer
from consumer.pipeline.offsets import TopicPartitionKey
from consumer.pipeline.record import SourceRecord
from consumer.pipeline.step import Forwarding, Step


class GuardTripped(StopConsumer):
    """Too large a share of recent records was dead-lettered."""


@dataclass(slots=True)
class _Second:
    at: int
    processed: int = 0
    dead: int = 0
    # The lowest offset processed in this second, per partition.
    first: dict[TopicPartitionKey, int] = field(default_factory=dict)


class DeadLetterGuard:
    def __init__(
        self,
        window_s: float,
        min_records: int,
        max_share: float,
        clock: Callable[[], float] = time.monotonic,
        on_trip: Callable[[], None] = lambda: None,
    ) -> None:
        self._on_trip = on_trip
        self._window = window_s
        self._min = min_records
        self._share = max_share
        self._clock = clock
        self._seconds: deque[_Second] = deque()
        self._processed = 0
        self._dead = 0
        self._cap: dict[TopicPartitionKey, int] | None = None

    @property
    def tripped(self) -> bool:
        return self._cap is not None

    def processed(self, record: SourceRecord) -> None:
        """A record ended without a dead letter (accepted or superseded)."""
        self._count(record).processed += 1
        self._processed += 1

    def dead_letter(self, record: SourceRecord) -> None:
        """A record is about to be dead-lettered. Raises `GuardTripped` (and keeps refusing)
        when this write would take the share over the limit."""
        if self._cap is not None:
            raise self._error()
        second = self._count(record)
        processed, dead = self._processed + 1, self._dead + 1
        if processed >= self._min and dead > self._share * processed:
            self._cap = self._window_firsts()
            self._on_trip()
            raise self._error(dead, processed)
        second.processed += 1
        second.dead += 1
        self._processed, self._dead = processed, dead

    def cap(self, positions: dict[TopicPartitionKey, int]) -> dict[TopicPartitionKey, int]:
        """Positions to commit: unchanged until the guard trips; then none past the window's
        first record of each partition (lower ones than those already stored, if need be)."""
        cap = self._cap
        if cap is None:
            return positions
        return {
            tp: min(position, cap[tp]) if tp in cap else position
            for tp, position in positions.items()
        }

    def _error(self, dead: int | None = None, processed: int | None = None) -> GuardTripped:
        counts = f" ({dead} of {processed} records)" if dead is not None else ""
        return GuardTripped(
            f"dead-letter guard tripped: more than {self._share:.0%} of the records of the last "
            f"{self._window:g} s would be dead-lettered{counts}; nothing past the window's first "
            "record is committed (PROFILE_SYNC_DLQ_GUARD_MAX_SHARE)",
            exit_codes.DLQ_GUARD_TRIPPED,
        )

    def _count(self, record: SourceRecord) -> _Second:
        now = self._clock()
        at = math.floor(now)
        seconds = self._seconds
        oldest = now - self._window
        while seconds and seconds[0].at + 1 <= oldest:
            gone = seconds.popleft()
            self._processed -= gone.processed
            self._dead -= gone.dead
        if not seconds or seconds[-1].at != at:
            seconds.append(_Second(at))
        second = seconds[-1]
        tp = (record.topic, record.partition)
        first = second.first.get(tp)
        if first is None or record.offset < first:
            second.first[tp] = record.offset
        return second

    def _window_firsts(self) -> dict[TopicPartitionKey, int]:
        firsts: dict[TopicPartitionKey, int] = {}
        for second in self._seconds:
            for tp, offset in second.first.items():
                if tp not in firsts or offset < firsts[tp]:
                    firsts[tp] = offset
        return firsts


class CountingStep(Forwarding):
    """Passes accounted-for records on and tells the guard they were processed."""

    def __init__(self, guard: DeadLetterGuard, next_step: Step) -> None:
        self._guard = guard
        self._next = next_step

    def submit(self, record: SourceRecord) -> None:
        self._guard.processed(record)
        self._next.submit(record)
