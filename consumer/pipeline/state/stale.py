"""The stale-update decision as a step, after validate and before batch (docs/DESIGN.md §11).

A record older than its customer's mark is *skipped as stale*: accounted for (case (d) of
docs/DESIGN.md §6), counted, never sent. Every other record goes on. The partition's store must
be current: the source keeps a partition paused until its restore finished, and a record that
arrives before is refused (`MessageRejected`) and offered again.
"""

from __future__ import annotations

from consumer.observability.metrics import Metrics
from consumer.pipeline.errors import MessageRejected
from consumer.pipeline.record import SourceRecord
from consumer.pipeline.state.mark import is_stale
from consumer.pipeline.state.store import StateStores
from consumer.pipeline.step import Forwarding, Step


class StaleGuardStep(Forwarding):
    def __init__(self, stores: StateStores, next_step: Step, accounted: Step, metrics: Metrics):
        self._stores = stores
        self._next = next_step
        self._accounted = accounted
        self._metrics = metrics

    def submit(self, record: SourceRecord) -> None:
        store = self._stores.get(record.partition)
        if store is None:
            # Restoring (the source keeps the partition paused, so this is a record fetched
            # just before the pause): offered again once the store is current.
            raise MessageRejected(f"the state of {record!r} is being restored")
        customer = record.customer_id
        assert customer is not None, "the guard runs after map, which sets the customer"
        if is_stale(record.ordering_key, store.get(customer)):
            self._metrics.tally(self._metrics.stale)
            if record.replay is not None:
                self._metrics.replayed("stale")
            self._accounted.submit(record)
            return
        self._next.submit(record)
