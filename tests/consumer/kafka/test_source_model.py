"""A model check of the source and the real pipeline, driven by Hypothesis.

Three partitions; customers keyed to partitions; some versions out of order, some undecodable,
some refused by the mapper, some deletes. AEP answers each record at random (accept, refuse,
retry) and whole requests too (503, 413), after a random latency; dead-letter acknowledgements
arrive late; partitions are revoked, lost and given back at random, resuming from the last
stored or committed position (auto-commit may commit any stored position). Checked:

- no position is stored or committed past a record not accounted for at that moment (accepted,
  its dead letter acknowledged, or superseded by an accepted newer version of its customer);
- never two records of one customer inside AEP requests at once;
- AEP never accepts an older version of a customer after a newer one;
- once the noise stops, everything is committed (nothing stuck).
"""

from __future__ import annotations

import asyncio
import random
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka import TopicPartition
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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
from consumer.pipeline.compose import PipelineLimits
from consumer.pipeline.errors import StopConsumer
from consumer.pipeline.record import OrderingKey, SourceRecord
from tests.consumer.pipeline.fakes import TOPIC, ScriptedSender
from tests.consumer.scripted_kafka import (
    DeadLetterBroker,
    Message,
    ScriptedConsumer,
    scripted_stack,
    value,
)

PARTITIONS = 3
NOISY_TICKS = 400


@dataclass(frozen=True)
class Event:
    customer: int
    key: OrderingKey
    kind: str  # upsert, delete, bad, mapfail


@dataclass
class World:
    """What happened, as AEP and the dead-letter topic saw it."""

    log: dict[int, list[Message]]
    events: dict[tuple[int, int], Event]
    lock: threading.Lock = field(default_factory=threading.Lock)
    accepted: set[tuple[int, int]] = field(default_factory=set)
    accepted_keys: dict[int, list[OrderingKey]] = field(default_factory=lambda: defaultdict(list))
    in_aep: Counter[int] = field(default_factory=Counter)
    dead_lettered: set[tuple[int, int]] = field(default_factory=set)
    violations: list[str] = field(default_factory=list)
    noisy: bool = True

    def accounted(self, partition: int, offset: int) -> bool:
        if (partition, offset) in self.accepted or (partition, offset) in self.dead_lettered:
            return True
        event = self.events[(partition, offset)]
        if event.kind in ("bad", "mapfail"):
            return False
        with self.lock:
            return any(key > event.key for key in self.accepted_keys.get(event.customer, ()))


def make_world(rng: random.Random, per_partition: int) -> World:
    log: dict[int, list[Message]] = {p: [] for p in range(PARTITIONS)}
    events: dict[tuple[int, int], Event] = {}
    clock = 1000
    for _ in range(PARTITIONS * per_partition):
        customer = rng.randrange(1, 30)
        partition = customer % PARTITIONS
        offset = len(log[partition])
        clock += rng.randrange(1, 20)
        key = clock - (rng.randrange(0, 60) if rng.random() < 0.2 else 0)  # some out of order
        roll = rng.random()
        kind = (
            "bad"
            if roll < 0.05
            else "mapfail"
            if roll < 0.08
            else "delete"
            if roll < 0.13
            else "upsert"
        )
        raw = (
            b"bad"
            if kind == "bad"
            else value(customer, key, mapfail=kind == "mapfail", delete=kind == "delete")
        )
        log[partition].append(Message(partition, offset, raw))
        events[(partition, offset)] = Event(customer, (key, key, offset), kind)
    return World(log, events)


class ModelAep(ScriptedSender):
    def __init__(self, world: World, rng: random.Random) -> None:
        super().__init__()
        self.world = world
        self.rng = rng

    async def send(self, records: Sequence[OutgoingRecord]) -> SendResult:
        world, rng = self.world, self.rng
        batch = [r.key for r in records]
        assert all(isinstance(r, SourceRecord) for r in batch)
        with world.lock:
            for r in batch:
                world.in_aep[r.customer_id] += 1  # type: ignore[union-attr]
                if world.in_aep[r.customer_id] > 1:  # type: ignore[union-attr]
                    world.violations.append(f"customer {r.customer_id} twice in flight")  # type: ignore[union-attr]
        try:
            await asyncio.sleep(rng.random() * 0.005)
            if world.noisy:
                roll = rng.random()
                if roll < 0.05:
                    return RetryRequest("http_503", 503, None)
                if roll < 0.08 and len(batch) > 1:
                    return SplitRequest()
            outcomes: list[Accepted | Rejected | RetryMessage] = []
            with world.lock:
                for record in batch:
                    assert isinstance(record, SourceRecord)
                    assert record.customer_id is not None
                    roll = rng.random() if world.noisy else 1.0
                    if roll < 0.08:
                        outcomes.append(Rejected(record, 400, {"message": "refused"}))
                    elif roll < 0.2:
                        outcomes.append(RetryMessage(record, 503, None))
                    else:
                        outcomes.append(Accepted(record, "x"))
                        keys = world.accepted_keys[record.customer_id]
                        if keys and record.ordering_key < max(keys):
                            world.violations.append(
                                f"customer {record.customer_id}: {record.ordering_key} accepted "
                                f"after {max(keys)}"
                            )
                        keys.append(record.ordering_key)
                        world.accepted.add((record.partition, record.offset))
            return BatchResult(outcomes)
        finally:
            with world.lock:
                for r in batch:
                    world.in_aep[r.customer_id] -= 1  # type: ignore[union-attr]


class LateDeadLetters(DeadLetterBroker):
    """Acknowledges each waiting write with some chance per poll; all of them on flush."""

    def __init__(self, world: World, rng: random.Random) -> None:
        super().__init__()
        self.world = world
        self.rng = rng
        self._writes: list[tuple[Callable[[Any, Any], None], tuple[int, int]]] = []

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
        # The source coordinates, from the dead-letter header contract.
        named = {name: raw for name, raw in headers if raw is not None}
        coordinates = (
            int(named["__connect.errors.partition"]),
            int(named["__connect.errors.offset"]),
        )
        self._writes.append((on_delivery, coordinates))

    def poll(self, timeout: float) -> int:
        keep, done = [], 0
        for callback, record in self._writes:
            if self.rng.random() < 0.3:
                self._ack(callback, record)
                done += 1
            else:
                keep.append((callback, record))
        self._writes = keep
        return done

    def flush(self, timeout: float) -> int:
        for callback, record in self._writes:
            self._ack(callback, record)
        self._writes = []
        return 0

    def _ack(self, callback: Callable[[Any, Any], None], coordinates: tuple[int, int]) -> None:
        self.world.dead_lettered.add(coordinates)
        callback(None, None)

    @property
    def unacknowledged(self) -> int:
        return len(self._writes)


class GroupOfOne(ScriptedConsumer):
    """Serves the log from each partition's position; revokes, loses and gives back partitions
    at random while the world is noisy; checks every stored and committed position."""

    def __init__(self, world: World, rng: random.Random) -> None:
        super().__init__()
        self.world = world
        self.rng = rng
        self.position: dict[int, int] = {}
        self.committed_position: dict[int, int] = {}
        self.away: dict[int, int] = {}  # partition -> turns until it is given back
        self.turns = 0

    def consume(self, num: int, timeout: float) -> list[Message]:  # type: ignore[override]
        rng, world = self.rng, self.world
        self.turns += 1
        if self.turns == 1:
            self.assign(*range(PARTITIONS))
        for partition, left in list(self.away.items()):
            if left <= 0:
                del self.away[partition]
                self.assign(partition)
            else:
                self.away[partition] = left - 1
        if world.noisy and self.assigned and rng.random() < 0.02:
            partition = rng.choice(sorted(self.assigned))
            gone = [TopicPartition(TOPIC, partition)]
            if rng.random() < 0.8:
                self.callbacks["on_revoke"](self, gone)
            else:
                self.callbacks["on_lost"](self, gone)
            self.away[partition] = rng.randrange(0, 30)
        out: list[Message] = []
        for partition in sorted(self.assigned - self.paused):
            log = world.log[partition]
            while len(out) < num and self.position[partition] < len(log) and rng.random() < 0.9:
                out.append(log[self.position[partition]])
                self.position[partition] += 1
        if not out:
            time.sleep(0.001)
        return out

    def incremental_assign(self, partitions: list[TopicPartition]) -> None:
        super().incremental_assign(partitions)
        for tp in partitions:
            self.position[tp.partition] = self.committed_position.get(tp.partition, 0)
            self.paused.discard(tp.partition)

    def store_offsets(self, offsets: list[TopicPartition]) -> None:
        self._check(offsets, "stored")

    def commit(self, offsets: list[TopicPartition], asynchronous: bool) -> None:
        self._check(offsets, "committed")

    def _check(self, offsets: list[TopicPartition], how: str) -> None:
        for tp in offsets:
            for offset in range(tp.offset):
                if not self.world.accounted(tp.partition, offset):
                    event = self.world.events[(tp.partition, offset)]
                    self.world.violations.append(
                        f"{how} t[{tp.partition}]={tp.offset} past unaccounted offset {offset} "
                        f"({event.kind})"
                    )
                    break
            self.committed_position[tp.partition] = tp.offset

    def done(self) -> bool:
        return not self.away and all(
            self.position.get(p, 0) == len(self.world.log[p]) for p in range(PARTITIONS)
        )


LIMITS = PipelineLimits(
    linger_s=0.005,
    max_records=7,
    max_in_flight=3,
    max_buffered=60,
    backoff_cap_s=0.05,
    retries_per_s=10_000,
    breaker_threshold=4,
)


# The scripts are drawn from seeds: the HTTP loop's answers and the poll thread's turns
# interleave in real time, so a drawn seed replays the same scripts, not the same schedule.
SEEDS = st.integers(min_value=0, max_value=2**32 - 1)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(topic_seed=SEEDS, aep_seed=SEEDS, kafka_seed=SEEDS, per_partition=st.integers(20, 120))
def test_no_commit_past_an_unaccounted_record_and_customers_stay_in_order(
    topic_seed: int, aep_seed: int, kafka_seed: int, per_partition: int
) -> None:
    topic_rng, aep_rng, kafka_rng = (random.Random(s) for s in (topic_seed, aep_seed, kafka_seed))
    world = make_world(topic_rng, per_partition)
    consumer = GroupOfOne(world, kafka_rng)
    dead_letters = LateDeadLetters(world, kafka_rng)
    sender = ModelAep(world, aep_rng)
    with scripted_stack(
        sender,
        limits=LIMITS,
        dead_letter_broker=dead_letters,
        revoke_timeout_s=0.5,
        consumer=consumer,
    ) as stack:
        try:
            for _ in range(NOISY_TICKS):
                stack.source._tick()
            world.noisy = False
            consumer.away = dict.fromkeys(
                (p for p in range(PARTITIONS) if p not in consumer.assigned), 0
            )
            stack.ticks(20.0, until=lambda: consumer.done() and not stack.pipeline.busy())
            stack.source.shutdown()
        except StopConsumer as exc:  # pragma: no cover - reported below
            world.violations.append(f"stopped: {exc}")
    stuck = {
        p: (consumer.committed_position.get(p), len(world.log[p]))
        for p in range(PARTITIONS)
        if consumer.committed_position.get(p, 0) != len(world.log[p])
    }
    if stuck:
        world.violations.append(f"not everything committed at the end: {stuck}")
    assert world.violations == []
