"""The real `Pipeline` behind the real `KafkaSource`, with fakes only at the edges: a scripted
Kafka consumer, a dead-letter producer that acknowledges on demand, and a scripted AEP sender
(`tests.consumer.pipeline.fakes.ScriptedSender`) on a real HTTP loop thread.

A record's value is JSON `{"c": customer, "k": ordering key}`; `b"bad"` fails to decode and
`{"mapfail": true}` fails to map, so a test can make dead letters without Avro.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from confluent_kafka import TopicPartition

from consumer.kafka.dead_letters import DeadLetterProducer
from consumer.kafka.source import KafkaCommitter, KafkaSource
from consumer.observability.metrics import Metrics
from consumer.pipeline.compose import Pipeline, PipelineLimits
from consumer.pipeline.guard import DeadLetterGuard
from consumer.pipeline.step import Step
from consumer.pipeline.steps.native_core import Transformed, Transformer
from mappers.results import Delete, MapFailure, Upsert
from schemas.avro.errors import DecodeError
from tests.consumer.pipeline.fakes import TOPIC, FakeDecoded, ScriptedSender, http_portal


class Message:
    def __init__(self, partition: int, offset: int, value: bytes | None) -> None:
        self._partition, self._offset, self._value = partition, offset, value

    def error(self) -> None:
        return None

    def topic(self) -> str:
        return TOPIC

    def partition(self) -> int:
        return self._partition

    def offset(self) -> int:
        return self._offset

    def key(self) -> bytes:
        return b"k"

    def value(self) -> bytes | None:
        return self._value

    def headers(self) -> None:
        return None

    def timestamp(self) -> tuple[int, int]:
        return (1, 1_000)


def value(customer: int, key: int, **extra: Any) -> bytes:
    return orjson.dumps({"c": customer, "k": key, **extra})


Turn = list[Message] | Callable[["ScriptedConsumer"], list[Message] | None]


class ScriptedConsumer:
    """Each `consume` serves the next turn of `script`: messages, or a callable (which may
    assign or revoke). Messages of paused partitions wait until their partition is resumed, and
    those over the asked count are served next, as the broker would."""

    def __init__(self) -> None:
        self.script: list[Turn] = []
        self.callbacks: dict[str, Callable[..., None]] = {}
        self.assigned: set[int] = set()
        self.paused: set[int] = set()
        self.stored: list[tuple[int, int]] = []
        self.committed: list[tuple[int, int]] = []
        self.closed = False
        # Messages of paused partitions, served (in order) once their partition is resumed.
        self._waiting: list[Message] = []

    def subscribe(self, topics: list[str], **callbacks: Callable[..., None]) -> None:
        self.callbacks = callbacks

    def assign(self, *partitions: int) -> None:
        self.callbacks["on_assign"](self, [TopicPartition(TOPIC, p) for p in partitions])

    def revoke(self, *partitions: int) -> None:
        self.callbacks["on_revoke"](self, [TopicPartition(TOPIC, p) for p in partitions])

    def consume(self, num: int, timeout: float) -> list[Message]:
        messages = [m for m in self._waiting if m.partition() not in self.paused]
        self._waiting = [m for m in self._waiting if m.partition() in self.paused]
        if self.script:
            turn = self.script.pop(0)
            messages += (turn(self) or []) if callable(turn) else turn
        elif not messages:
            time.sleep(min(timeout, 0.005))
            return []
        ready = [m for m in messages if m.partition() not in self.paused]
        self._waiting += [m for m in messages if m.partition() in self.paused]
        if ready[num:]:
            self.script.insert(0, ready[num:])
        return ready[:num]

    def incremental_assign(self, partitions: list[TopicPartition]) -> None:
        self.assigned |= {p.partition for p in partitions}

    def incremental_unassign(self, partitions: list[TopicPartition]) -> None:
        self.assigned -= {p.partition for p in partitions}

    def pause(self, partitions: list[TopicPartition]) -> None:
        self.paused |= {p.partition for p in partitions}

    def resume(self, partitions: list[TopicPartition]) -> None:
        self.paused -= {p.partition for p in partitions}

    def store_offsets(self, offsets: list[TopicPartition]) -> None:
        self.stored.extend((o.partition, o.offset) for o in offsets)

    def commit(self, offsets: list[TopicPartition], asynchronous: bool) -> None:
        self.committed.extend((o.partition, o.offset) for o in offsets)

    def close(self) -> None:
        self.closed = True

    def last_position(self, partition: int) -> int | None:
        """The highest position stored or committed for the partition."""
        found = [o for p, o in self.stored + self.committed if p == partition]
        return max(found, default=None)


class DeadLetterBroker:
    """A dead-letter producer: acknowledges every write on the next poll while `acknowledging`,
    never otherwise (a dead-letter topic that stopped answering)."""

    def __init__(self, acknowledging: bool = True) -> None:
        self.acknowledging = acknowledging
        self.written: list[bytes | None] = []
        self._waiting: list[Callable[[Any, Any], None]] = []

    def produce(
        self,
        topic: str,
        value: bytes | None = None,
        key: bytes | None = None,
        *,
        on_delivery: Callable[[Any, Any], None] | None = None,
        headers: Any = None,
    ) -> None:
        assert on_delivery is not None
        self.written.append(value)
        self._waiting.append(on_delivery)

    def poll(self, timeout: float) -> int:
        if not self.acknowledging:
            return 0
        done, self._waiting = self._waiting, []
        for callback in done:
            callback(None, None)
        return len(done)

    def flush(self, timeout: float) -> int:
        self.poll(0)
        return len(self._waiting)

    @property
    def unacknowledged(self) -> int:
        return len(self._waiting)


class JsonDecoder:
    def decode(self, raw: bytes | None) -> FakeDecoded:
        if not raw or raw.startswith(b"bad"):
            raise DecodeError("decode.malformed_body", "the body is not valid Avro")
        return FakeDecoded("CustomerUpdated", orjson.loads(raw))


class KeyMapper:
    """Customer `c`, ordering key `(k, k)`; `mapfail` refuses, `delete` deletes."""

    def map_decoded(self, record_type: str, event: dict[str, Any]) -> Upsert | Delete | MapFailure:
        customer, key = int(event["c"]), int(event["k"])
        if event.get("mapfail"):
            return MapFailure("map.invalid_email", "invalid e-mail", ("customer.email",), customer)
        if event.get("delete"):
            return Delete(customer, {"_id": str(customer)}, (key, key))
        return Upsert(customer, {"_id": str(customer)}, (key, key))


class JsonCore:
    """A native core for `value()`'s JSON: it reads what has `"core": true`, with the notes
    under `"notes"`, and leaves the rest to the Python steps."""

    def transform(self, raw: bytes) -> Transformed | None:
        event = orjson.loads(raw) if raw.startswith(b"{") else {}
        if not event.get("core"):
            return None
        customer, key = int(event["c"]), int(event["k"])
        entity = orjson.dumps({"_id": str(customer)})
        return ("CustomerUpdated", customer, False, key, key, entity, tuple(event["notes"]))


class NoViolations:
    def validate(self, record: object) -> list[Any]:
        return []


@dataclass
class Stack:
    source: KafkaSource
    consumer: ScriptedConsumer
    pipeline: Pipeline
    dead_letter_broker: DeadLetterBroker
    sender: ScriptedSender
    metrics: Metrics

    def ticks(self, seconds: float, until: Callable[[], bool] | None = None) -> None:
        """Run the poll thread's loop for `seconds`, or until `until()` holds."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.source._tick()
            if until is not None and until():
                return


FAST = PipelineLimits(linger_s=0.02, backoff_cap_s=0.5, retries_per_s=1000)


@contextmanager
def scripted_stack(
    sender: ScriptedSender,
    *,
    limits: PipelineLimits = FAST,
    dead_letter_broker: DeadLetterBroker | None = None,
    guard: DeadLetterGuard | None = None,
    revoke_timeout_s: float = 3.0,
    ready_at: datetime | None = None,
    consumer: ScriptedConsumer | None = None,
    core: Transformer | None = None,
    metrics: Metrics | None = None,
) -> Iterator[Stack]:
    with http_portal() as portal:
        consumer = consumer or ScriptedConsumer()
        metrics = metrics or Metrics()
        broker = dead_letter_broker or DeadLetterBroker()
        committer = KafkaCommitter(
            consumer,  # type: ignore[arg-type]
            metrics,
            True,
            guard.cap if guard is not None else None,
        )

        def dead_letters(accounted: Step) -> DeadLetterProducer:
            return DeadLetterProducer(broker, "dlq", accounted, metrics, guard=guard)

        pipeline = Pipeline(
            decoder=JsonDecoder(),
            mapper=KeyMapper(),  # type: ignore[arg-type]
            validator=NoViolations(),
            sender=sender,
            portal=portal,
            dead_letters=dead_letters,
            committer=committer,
            limits=limits,
            metrics=metrics,
            ready_at=ready_at,
            guard=guard,
            core=core,
        )
        source = KafkaSource(
            consumer,  # type: ignore[arg-type]
            TOPIC,
            pipeline,
            committer=committer,
            metrics=metrics,
            revoke_timeout_s=revoke_timeout_s,
        )
        consumer.subscribe(
            [TOPIC],
            on_assign=source._on_assign,
            on_revoke=source._on_revoke,
            on_lost=source._on_lost,
        )
        yield Stack(source, consumer, pipeline, broker, sender, metrics)
