"""Restore: bring a partition's store up to the end of its changelog partition (docs/DESIGN.md
§11, "Restore").

From the store's local checkpoint when the state directory survived, otherwise from the
beginning. The work is done a slice at a time (`advance`), so the poll thread that owns the
source consumer never blocks for long; the source keeps the partition paused until its restore
finished. One consumer, in no group and committing nothing, reads every partition being restored.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Final, Protocol

import structlog
from confluent_kafka import OFFSET_BEGINNING, KafkaError, TopicPartition

from consumer.config import exit_codes
from consumer.config.settings import KafkaSettings, variable
from consumer.kafka.properties import bounded_reader_config
from consumer.observability.metric_names import ATTR_PARTITION
from consumer.observability.metrics import Metrics
from consumer.pipeline.errors import StopConsumer
from consumer.pipeline.state.mark import MarkFormatError, decode_mark
from consumer.pipeline.state.store import StateStores, StoreOpenError

_log = structlog.get_logger(__name__)

WATERMARK_TIMEOUT_S: Final = 5.0
SLICE_RECORDS: Final = 5000


class StateRestoreFailed(StopConsumer):
    """The changelog cannot be read back into the store (unreadable record, broker error)."""


class RestoreConsumer(Protocol):
    """The part of `confluent_kafka.Consumer` used here."""

    def get_watermark_offsets(
        self, partition: TopicPartition, timeout: float = ..., cached: bool = ...
    ) -> tuple[int, int]: ...
    def incremental_assign(self, partitions: list[TopicPartition]) -> None: ...
    def incremental_unassign(self, partitions: list[TopicPartition]) -> None: ...
    def consume(self, num_messages: int = ..., timeout: float = ...) -> list[Any]: ...
    def close(self) -> None: ...


def restore_consumer_config(settings: KafkaSettings) -> dict[str, str]:
    return bounded_reader_config(settings, f"{settings.state_topic}.restore")


@dataclass(frozen=True, slots=True)
class RestoreResult:
    partition: int
    records: int
    seconds: float
    from_checkpoint: bool


@dataclass(slots=True)
class _Restoring:
    end: int  # the changelog's end when the restore began
    started: float
    from_checkpoint: bool
    records: int = 0


class ChangelogRestorer:
    def __init__(
        self,
        consumer: RestoreConsumer,
        topic: str,
        stores: StateStores,
        metrics: Metrics,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._consumer = consumer
        self._topic = topic
        self._stores = stores
        self._metrics = metrics
        self._clock = clock
        self._active: dict[int, _Restoring] = {}
        self._finished: list[RestoreResult] = []

    def start(self, partition: int) -> None:
        """Open the partition's store and begin bringing it up to the changelog's end."""
        started = self._clock()
        try:
            store = self._stores.open(partition)
        except StoreOpenError as exc:
            raise StateRestoreFailed(
                f"{exc}; each process needs a {variable('state_dir')} of its own",
                exit_codes.ERROR,
            ) from None
        try:
            low, high = self._consumer.get_watermark_offsets(
                TopicPartition(self._topic, partition), timeout=WATERMARK_TIMEOUT_S, cached=False
            )
        except Exception as exc:  # KafkaException: the broker did not answer in time
            raise StateRestoreFailed(
                f"cannot read the end of {self._topic}[{partition}] ({exc})", exit_codes.ERROR
            ) from None
        checkpoint = store.position
        if checkpoint is not None and checkpoint > high:
            # Past the end: the topic was recreated. The store describes another log.
            _log.warning("state_checkpoint_past_end", partition=partition, end=high)
            store = self._stores.discard(partition)
            checkpoint = None
        from_checkpoint = checkpoint is not None and checkpoint > low
        begin = checkpoint if from_checkpoint and checkpoint is not None else low
        restoring = _Restoring(high, started, from_checkpoint)
        if begin >= high:
            self._finish(partition, restoring)
            return
        self._active[partition] = restoring
        offset = begin if from_checkpoint else OFFSET_BEGINNING
        self._consumer.incremental_assign([TopicPartition(self._topic, partition, offset)])

    def cancel(self, partition: int) -> None:
        """The partition was revoked or lost mid-restore: stop reading it. What was applied is
        kept with its checkpoint, so its next owner on this host resumes from there."""
        if self._active.pop(partition, None) is not None:
            self._consumer.incremental_unassign([TopicPartition(self._topic, partition)])

    def restoring(self) -> set[int]:
        return set(self._active)

    def finished(self) -> list[RestoreResult]:
        """Restores completed since the last call."""
        done, self._finished = self._finished, []
        return done

    def advance(self, budget_s: float) -> None:
        """Read and apply changelog records for at most about `budget_s` seconds."""
        deadline = self._clock() + budget_s
        while self._active:
            messages = self._consumer.consume(SLICE_RECORDS, min(0.1, budget_s))
            self._apply(messages)
            if not messages or self._clock() >= deadline:
                return

    def restore(self, partitions: Iterable[int], timeout_s: float) -> list[RestoreResult]:
        """Start and finish restores in one call (start-up, tools, tests)."""
        for partition in partitions:
            self.start(partition)
        deadline = self._clock() + timeout_s
        while self._active:
            if self._clock() >= deadline:
                raise StateRestoreFailed(
                    f"restoring {self._topic} partitions {sorted(self._active)} took more than "
                    f"{timeout_s:.0f} s",
                    exit_codes.ERROR,
                )
            self.advance(0.5)
        return self.finished()

    def close(self) -> None:
        self._consumer.close()

    def _apply(self, messages: list[Any]) -> None:
        entries: dict[int, list[tuple[bytes, bytes]]] = {}
        positions: dict[int, int] = {}
        ended: set[int] = set()
        for msg in messages:
            partition = msg.partition()
            if partition not in self._active:
                continue  # cancelled after this was fetched
            error = msg.error()
            if error is not None:
                if error.code() == KafkaError._PARTITION_EOF:
                    positions[partition] = max(positions.get(partition, 0), msg.offset())
                    ended.add(partition)
                    continue
                raise StateRestoreFailed(
                    f"reading {self._topic}[{partition}] failed: {error}", exit_codes.ERROR
                )
            key, value = msg.key(), msg.value()
            if key is None or value is None:
                raise StateRestoreFailed(
                    f"{self._topic}[{partition}]@{msg.offset()} is not a mark (no key or value); "
                    "the state topic must hold only this service's marks",
                    exit_codes.ERROR,
                )
            try:
                decode_mark(value)
            except MarkFormatError as exc:
                raise StateRestoreFailed(
                    f"{self._topic}[{partition}]@{msg.offset()}: {exc}", exit_codes.ERROR
                ) from None
            entries.setdefault(partition, []).append((key, value))
            positions[partition] = msg.offset() + 1
        for partition, position in positions.items():
            store = self._stores.opened(partition)
            restoring = self._active[partition]
            if store is None:
                continue
            restoring.records += store.apply(entries.get(partition, ()), position)
            if position >= restoring.end or partition in ended:
                self.cancel(partition)
                self._finish(partition, restoring)

    def _finish(self, partition: int, restoring: _Restoring) -> None:
        seconds = self._clock() - restoring.started
        result = RestoreResult(partition, restoring.records, seconds, restoring.from_checkpoint)
        self._finished.append(result)
        attributes = {ATTR_PARTITION: partition}
        self._metrics.restore_records.add(restoring.records, attributes)
        self._metrics.restore_duration.record(seconds, attributes)
        self._stores.mark_ready(partition)
        store = self._stores.get(partition)
        if store is not None:
            self._metrics.store_keys.set(store.size(), attributes)
        _log.info(
            "state_restored",
            partition=partition,
            records=restoring.records,
            seconds=round(seconds, 3),
            from_checkpoint=restoring.from_checkpoint,
        )
