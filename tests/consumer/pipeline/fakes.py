"""Test doubles for the pipeline steps: collectors, a scripted inlet sender, fake codecs."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import orjson
from anyio.from_thread import BlockingPortal, start_blocking_portal

from consumer.aep.protocol import (
    Accepted,
    BatchResult,
    OutgoingRecord,
    Rejected,
    RetryMessage,
    RetryRequest,
    SendResult,
    SplitRequest,
)
from consumer.observability.metrics import Metrics
from consumer.pipeline.errors import DeadLetter
from consumer.pipeline.record import SourceRecord

TOPIC = "t"


@contextmanager
def http_portal() -> Iterator[BlockingPortal]:
    """The HTTP loop thread, as `run` starts it; tasks still running at the end are cancelled,
    not awaited (a record retried for ever)."""
    with start_blocking_portal(name="test-http") as portal:
        try:
            yield portal
        finally:
            portal.call(portal.stop, True)


def make_record(
    offset: int,
    *,
    partition: int = 0,
    customer: int | None = None,
    key: tuple[int, int] | None = None,
    entity: bytes | None = None,
    value: bytes | None = b"v",
    operation: str = "create",
) -> SourceRecord:
    """A record as the poll thread makes it; with `customer`, as validated (ready to batch)."""
    record = SourceRecord(TOPIC, partition, offset, b"k", value, [("h", b"1")], 1_000, 0.0)
    if customer is not None:
        record.customer_id = customer
        primary, secondary = key or (offset, offset)
        record.ordering_key = (primary, secondary, offset)
        record.record = {"_id": str(customer)}
        record.entity_json = entity or orjson.dumps({"c": customer, "o": offset})
        record.operation = "delete" if operation == "delete" else "create"
    return record


class Collector:
    """A terminal step that records what reached it."""

    def __init__(self) -> None:
        self.records: list[SourceRecord] = []

    def submit(self, record: SourceRecord) -> None:
        self.records.append(record)

    def poll(self) -> None:
        pass

    def join(self, timeout: float) -> bool:
        return True

    def close(self) -> None:
        pass

    @property
    def offsets(self) -> list[int]:
        return [r.offset for r in self.records]


class DeadLetters:
    def __init__(self) -> None:
        self.items: list[tuple[SourceRecord, DeadLetter]] = []

    def dead_letter(self, record: SourceRecord, reason: DeadLetter) -> None:
        # The sink's contract, so every step's (`DeadLetterSink.dead_letter`): never called
        # while an exception is being handled.
        assert sys.exc_info()[1] is None, (
            f"dead letter written while handling {sys.exc_info()[1]!r}"
        )
        self.items.append((record, reason))

    @property
    def offsets(self) -> list[int]:
        return [r.offset for r, _ in self.items]

    @property
    def classes(self) -> list[str]:
        return [reason.error_class for _, reason in self.items]


Script = Callable[[SourceRecord, int], Accepted | Rejected | RetryMessage | None]


@dataclass
class ScriptedSender:
    """An `InletSender` whose answer per record comes from `script(record, attempt)`
    (None: accepted). `whole` can answer a whole request instead (RetryRequest, SplitRequest).
    Body size: 13 + per record (len(entity) + 100 + 1) - 1, like the real envelope's shape."""

    script: Script | None = None
    whole: Callable[[Sequence[OutgoingRecord]], SendResult | None] | None = None
    latency_s: float = 0.0
    requests: list[list[SourceRecord]] = field(default_factory=list)
    accepted: list[SourceRecord] = field(default_factory=list)  # in the order AEP took them
    concurrent: int = 0
    max_concurrent: int = 0

    OVERHEAD = 100

    async def send(self, records: Sequence[OutgoingRecord]) -> SendResult:
        self.concurrent += 1
        self.max_concurrent = max(self.max_concurrent, self.concurrent)
        try:
            batch = [r.key for r in records]
            assert all(isinstance(r, SourceRecord) for r in batch)
            self.requests.append(batch)  # type: ignore[arg-type]
            if self.latency_s:
                await asyncio.sleep(self.latency_s)
            if self.whole is not None:
                answer = self.whole(records)
                if answer is not None:
                    return answer
            outcomes: list[Accepted | RetryMessage | Rejected] = []
            for r in records:
                record = r.key
                assert isinstance(record, SourceRecord)
                outcome = self.script(record, record.attempts) if self.script else None
                if outcome is None:
                    self.accepted.append(record)
                outcomes.append(outcome or Accepted(r.key, f"x-{record.offset}"))
            return BatchResult(outcomes)
        finally:
            self.concurrent -= 1

    def request_size(self, records: Sequence[OutgoingRecord]) -> int:
        return (
            13 + sum(len(r.entity_json) + self.OVERHEAD + 1 for r in records) - min(len(records), 1)
        )

    def envelope_overhead(self) -> int:
        return self.OVERHEAD


def reject(status: int = 400) -> Callable[[SourceRecord], Rejected]:
    return lambda record: Rejected(record, status, {"message": "refused", "xactionId": "x"})


def too_large_over(limit: int) -> Callable[[Sequence[OutgoingRecord]], SendResult | None]:
    def whole(records: Sequence[OutgoingRecord]) -> SendResult | None:
        size = sum(len(r.entity_json) for r in records)
        return SplitRequest() if size > limit else None

    return whole


def retry_first(n: int) -> Callable[[Sequence[OutgoingRecord]], SendResult | None]:
    calls = {"n": 0}

    def whole(records: Sequence[OutgoingRecord]) -> SendResult | None:
        calls["n"] += 1
        return RetryRequest("http_503", 503, 0.0) if calls["n"] <= n else None

    return whole


@dataclass
class FakeDecoded:
    record_type: str
    datum: dict[str, Any]


class FakeDecoder:
    """b"bad" -> DecodeError; b"transient" -> TransientDecodeError once; else JSON."""

    def __init__(self) -> None:
        self.transient_left = 1

    def decode(self, value: bytes | None) -> FakeDecoded:
        from schemas.avro.errors import DecodeError, TransientDecodeError

        if value == b"bad" or not value:
            raise DecodeError("decode.malformed_body", "the body is not valid Avro")
        if value == b"transient":
            if self.transient_left:
                self.transient_left -= 1
                raise TransientDecodeError("registry unavailable")
            return FakeDecoded("CustomerUpdated", {"id": 1})
        return FakeDecoded("CustomerUpdated", orjson.loads(value))


class CountedNotes(Metrics):
    """Real instruments, and the mapping notes counted, in order, where a test can read them."""

    def __init__(self) -> None:
        super().__init__()
        self.counted: list[str] = []

    def map_notes(self, notes: tuple[str, ...]) -> None:
        self.counted.extend(notes)
        super().map_notes(notes)
