"""Per-partition accounting and the committable watermark (docs/DESIGN.md §6, "Offsets").

A partition's committable position is W+1, where W is the highest offset such that every record
polled at or below W is accounted for. Offsets are tracked in poll order (increasing); gaps
(compaction, transaction markers) are never polled and so never wait.

An offset polled at or below one already tracked in the same assignment (the client's position
was reset, for example after log truncation) starts the partition's accounting over from there.
Records still in the pipeline from before are "stale": the first report of each such offset is
swallowed, so that a record polled again at the same offset is not taken as accounted for by
its predecessor's outcome (the watermark passes it only when both have ended).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import structlog

_log = structlog.get_logger(__name__)

TopicPartitionKey = tuple[str, int]


@dataclass(slots=True)
class _Partition:
    # Offsets polled and not yet passed by the watermark, in poll order.
    outstanding: deque[int] = field(default_factory=deque)
    done: set[int] = field(default_factory=set)
    # Position W+1 to commit; None until something was accounted for.
    position: int | None = None
    committed: int | None = None
    # Offsets outstanding when the accounting was reset: their first report is not counted.
    stale: set[int] = field(default_factory=set)


class OffsetTracker:
    """Accounting for the partitions this process owns. Poll thread only."""

    def __init__(self) -> None:
        self._partitions: dict[TopicPartitionKey, _Partition] = {}

    def assign(self, tp: TopicPartitionKey) -> None:
        self._partitions.setdefault(tp, _Partition())

    def forget(self, tp: TopicPartitionKey) -> None:
        self._partitions.pop(tp, None)

    def owned(self) -> list[TopicPartitionKey]:
        return list(self._partitions)

    def track(self, tp: TopicPartitionKey, offset: int) -> bool:
        """A record was polled. False when the partition is not owned (stale after a revoke)."""
        part = self._partitions.get(tp)
        if part is None:
            return False
        if part.outstanding and offset <= part.outstanding[-1]:
            part = self._reset(tp, part, offset)
        part.outstanding.append(offset)
        return True

    def _reset(self, tp: TopicPartitionKey, old: _Partition, offset: int) -> _Partition:
        _log.warning("offset_went_back", partition=tp[1], offset=offset, last=old.outstanding[-1])
        stale = old.stale | (set(old.outstanding) - old.done)
        part = self._partitions[tp] = _Partition(committed=old.committed, stale=stale)
        return part

    def accounted(self, tp: TopicPartitionKey, offset: int) -> None:
        """The record is accounted for; advances the watermark when it closes a gap."""
        part = self._partitions.get(tp)
        if part is None:
            return  # the partition was revoked or lost meanwhile: its new owner redoes it
        if part.stale and offset in part.stale:
            part.stale.discard(offset)
            return  # polled before the reset: its successor at this offset is reported apart
        outstanding = part.outstanding
        if not outstanding or offset < outstanding[0]:
            return  # already passed (a duplicate report)
        if offset != outstanding[0]:
            part.done.add(offset)
            return
        outstanding.popleft()
        last = offset
        done = part.done
        while outstanding and outstanding[0] in done:
            last = outstanding.popleft()
            done.discard(last)
        part.position = last + 1

    def pending(self, tp: TopicPartitionKey) -> int:
        """Records polled and not yet accounted for."""
        part = self._partitions.get(tp)
        return 0 if part is None else len(part.outstanding) - len(part.done)

    def total_pending(self) -> int:
        return sum(len(p.outstanding) - len(p.done) for p in self._partitions.values())

    def oldest(self) -> dict[TopicPartitionKey, int | None]:
        """Per owned partition, the offset of its oldest record not accounted for (None: all
        are)."""
        return {
            tp: p.outstanding[0] if p.outstanding else None for tp, p in self._partitions.items()
        }

    def position(self, tp: TopicPartitionKey) -> int | None:
        part = self._partitions.get(tp)
        return None if part is None else part.position

    def uncommitted(self) -> dict[TopicPartitionKey, int]:
        """Positions that moved since the last `mark_committed`."""
        return {
            tp: p.position
            for tp, p in self._partitions.items()
            if p.position is not None and p.position != p.committed
        }

    def mark_committed(self, positions: dict[TopicPartitionKey, int]) -> None:
        for tp, position in positions.items():
            part = self._partitions.get(tp)
            if part is not None:
                part.committed = position
