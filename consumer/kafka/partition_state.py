"""The stale-update guard's part in partition ownership (docs/DESIGN.md §11), for the poll
thread: restore on assignment (the partition stays paused until its store is current), store
handles dropped on revoke and loss. Implements `consumer.pipeline.state.ports.PartitionState`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from consumer.kafka.restore import ChangelogRestorer
from consumer.observability.metric_names import ATTR_PARTITION
from consumer.observability.metrics import Metrics
from consumer.pipeline.state.store import StateStores

# Restore work per loop turn: the poll thread also serves the partitions already current.
RESTORE_SLICE_S: Final = 0.2


class KafkaPartitionState:
    def __init__(
        self,
        stores: StateStores,
        restorer: ChangelogRestorer,
        metrics: Metrics,
        restore_slice_s: float = RESTORE_SLICE_S,
    ) -> None:
        self.stores = stores
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

    def released(self, partitions: Iterable[int]) -> None:
        for partition in partitions:
            self._restorer.cancel(partition)
            store = self.stores.opened(partition)
            if store is not None:
                self._metrics.store_keys.set(0, {ATTR_PARTITION: partition})
            self.stores.close(partition)

    def close(self) -> None:
        try:
            self._restorer.close()
        finally:
            self.stores.close_all()
