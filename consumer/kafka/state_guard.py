"""The stale-update guard's part in partition ownership, for the thread that owns the source
consumer (docs/DESIGN.md §11): restore on assignment, partitions paused until current, mark
writes acknowledged before a commit covers them, store handles dropped on revoke and loss.

    assigned(ps)       open each store and start its restore (the source pauses ps)
    restoring()        partitions to keep paused
    tick()             a slice of restore work; partitions that became current
    pending()          mark writes a revoke or shutdown waits for before committing
    released(ps)       after the commit (or at once, when lost): stop restores, close stores
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from consumer.kafka.changelog import ChangelogWriter
from consumer.kafka.restore import ChangelogRestorer
from consumer.observability.metric_names import ATTR_PARTITION
from consumer.observability.metrics import Metrics
from consumer.pipeline.state.store import StateStores

# Restore work per loop turn: the poll thread also serves the partitions already current.
RESTORE_SLICE_S: Final = 0.2


class StateGuard:
    def __init__(
        self,
        stores: StateStores,
        restorer: ChangelogRestorer,
        writer: ChangelogWriter,
        metrics: Metrics,
        restore_slice_s: float = RESTORE_SLICE_S,
    ) -> None:
        self.stores = stores
        self.writer = writer
        self._restorer = restorer
        self._metrics = metrics
        self._slice = restore_slice_s

    def assigned(self, partitions: Iterable[int]) -> None:
        for partition in partitions:
            self._restorer.start(partition)

    def restoring(self) -> set[int]:
        return self._restorer.restoring()

    def tick(self) -> list[int]:
        """Restore for a slice of time; the partitions whose stores became current (also those
        whose restore finished at once, when assigned)."""
        if self._restorer.restoring():
            self._restorer.advance(self._slice)
        return [result.partition for result in self._restorer.finished()]

    def poll(self) -> None:
        """Delivery reports of mark writes (they account for records); raises when one failed."""
        self.writer.poll()

    def pending(self) -> int:
        return self.writer.pending()

    def released(self, partitions: Iterable[int]) -> None:
        for partition in partitions:
            self._restorer.cancel(partition)
            store = self.stores.opened(partition)
            if store is not None:
                self._metrics.store_keys.set(0, {ATTR_PARTITION: partition})
            self.stores.close(partition)

    def close(self, timeout_s: float) -> None:
        try:
            self.writer.join(timeout_s)
        finally:
            self._restorer.close()
            self.stores.close_all()
