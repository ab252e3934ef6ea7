"""`replay`: copy the source records of a time window into the replay topic.

The source topic is only read. Each record keeps its partition, key, value and headers and gets
the provenance headers (schemas/replay_headers.py), so that `run`, reading replay partition p
beside source partition p, orders it by its original offset: re-sending a window re-sends each
customer's newest version and never rolls a profile back. Running a replay twice (for instance
after it was interrupted) only sends versions AEP already has again, which the stale-update guard
skips.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from confluent_kafka import Consumer, Producer

from consumer.operations import kafka_io
from consumer.operations.errors import usage
from consumer.operations.kafka_io import DeliveryTracker, Span
from consumer.operations.pacing import Pacer
from consumer.operations.times import to_millis
from schemas import replay_headers


@dataclass(frozen=True, slots=True)
class Window:
    start: datetime
    end: datetime | None  # None: up to the end offsets when the command starts
    partitions: tuple[int, ...] = ()  # empty: all
    customers: frozenset[str] = frozenset()  # record keys; empty: all


@dataclass(slots=True)
class PartitionReport:
    partition: int
    start_offset: int
    end_offset: int
    records: int  # in the window (matching --customer when given)
    copied: int = 0

    def as_json(self, replay_id: str | None, executed: bool) -> dict[str, Any]:
        """`replay_id` is None in a dry run: nothing carries it."""
        return {
            "partition": self.partition,
            "start_offset": self.start_offset,
            "end_offset": self.end_offset,
            "records": self.records,
            "copied": self.copied,
            "executed": executed,
            "replay_id": replay_id,
        }


def resolve(consumer: Consumer, topic: str, partitions: int, window: Window) -> list[Span]:
    """The offsets [start, end) of the window in each selected partition."""
    unknown = sorted(p for p in window.partitions if not 0 <= p < partitions)
    if unknown:
        raise usage(f"--partition {unknown[0]}: {topic} has partitions 0 to {partitions - 1}")
    chosen = sorted(set(window.partitions)) or list(range(partitions))
    starts = kafka_io.offsets_at(consumer, topic, chosen, to_millis(window.start))
    if window.end is not None:
        ends = kafka_io.offsets_at(consumer, topic, chosen, to_millis(window.end))
    else:
        ends = {p: kafka_io.watermarks(consumer, topic, p)[1] for p in chosen}
    spans = []
    for p in chosen:
        low = kafka_io.watermarks(consumer, topic, p)[0]
        start = max(starts[p], low)
        spans.append(Span(p, start, max(ends[p], start)))
    return spans


def provenance(topic: str, partition: int, offset: int, replay_id: str) -> list[tuple[str, bytes]]:
    return [
        (replay_headers.REPLAY_ID, replay_id.encode()),
        (replay_headers.SOURCE_TOPIC, topic.encode()),
        (replay_headers.SOURCE_PARTITION, str(partition).encode()),
        (replay_headers.SOURCE_OFFSET, str(offset).encode()),
    ]


def _selected(message: Any, customers: frozenset[str]) -> bool:
    if not customers:
        return True
    key = message.key()
    return key is not None and key.decode("utf-8", "replace") in customers


def count(
    consumer: Consumer,
    topic: str,
    spans: list[Span],
    window: Window,
    on_progress: Callable[[int], None] | None = None,
) -> list[PartitionReport]:
    """The dry run: offsets and counts; reads the window only to count a --customer selection."""
    reports = {s.partition: PartitionReport(s.partition, s.start, s.end, s.size) for s in spans}
    if window.customers:
        for report in reports.values():
            report.records = 0
        for batch in kafka_io.read(consumer, topic, spans, on_progress):
            for message in batch:
                if _selected(message, window.customers):
                    reports[message.partition()].records += 1
    return list(reports.values())


@dataclass(frozen=True, slots=True)
class Copier:
    """Copies windows of `topic` into `replay_topic`, each record tagged with `replay_id`."""

    consumer: Consumer
    producer: Producer
    topic: str
    replay_topic: str
    replay_id: str
    pacer: Pacer

    def copy(
        self,
        spans: list[Span],
        window: Window,
        on_progress: Callable[[int], None] | None = None,
    ) -> list[PartitionReport]:
        """Returns once every write is acknowledged (exit 1 otherwise)."""
        reports = {s.partition: PartitionReport(s.partition, s.start, s.end, 0) for s in spans}
        tracker = DeliveryTracker()
        try:
            self._copy(spans, window, tracker, reports, on_progress)
        finally:
            # Also when the read failed: what was handed over is written (a re-run copies it
            # again, harmlessly).
            kafka_io.flush(self.producer, tracker, self.replay_topic)
        for partition, written in tracker.acknowledged.items():
            reports[partition].copied = written
        return list(reports.values())

    def _copy(
        self,
        spans: list[Span],
        window: Window,
        tracker: DeliveryTracker,
        reports: dict[int, PartitionReport],
        on_progress: Callable[[int], None] | None,
    ) -> None:
        for batch in kafka_io.read(self.consumer, self.topic, spans, on_progress):
            for message in batch:
                if not _selected(message, window.customers):
                    continue
                partition = message.partition()
                reports[partition].records += 1
                self.pacer.wait()
                headers = list(message.headers() or ())
                headers.extend(provenance(self.topic, partition, message.offset(), self.replay_id))
                kafka_io.produce(
                    self.producer,
                    self.replay_topic,
                    partition,
                    message.key(),
                    message.value(),
                    headers,
                    tracker,
                )
                if tracker.failure is not None:
                    return  # stop at the first failed write; the flush reports it


def new_id() -> str:
    return str(uuid.uuid4())
