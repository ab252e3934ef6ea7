"""What the pipeline asks of the guard's Kafka side (implemented in `consumer.kafka`): the
partitions' stores and their restores, and the writer of marks to the changelog."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Protocol

from consumer.pipeline.state.store import StateStores
from consumer.pipeline.step import Step


class PartitionState(Protocol):
    """The stores of the partitions owned, restored from the changelog on assignment."""

    stores: StateStores

    def assigned(self, partitions: Iterable[int]) -> None:
        """Open the stores and begin their restores."""

    def restoring(self) -> set[int]:
        """Partitions whose stores are not current yet (kept paused)."""

    def tick(self) -> list[int]:
        """A slice of restore work; returns the partitions that became current."""

    def released(self, partitions: Iterable[int]) -> None:
        """Stop restores and close the stores (after the revoke's commit, or when lost)."""

    def close(self) -> None: ...


class MarkSink(Step, Protocol):
    """Accepted records go in; each comes out (to the step it was built with) once its mark is
    acknowledged by the changelog."""

    def pending(self) -> int:
        """Mark writes not acknowledged yet."""


# Builds the mark writer, given the step that accounts for a record (made by the pipeline).
MarkSinkFactory = Callable[[Step], MarkSink]
