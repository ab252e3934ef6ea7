"""Shared pieces of the `run` integration tests: the emulator target, the consumer's settings,
sample events with their coordinates, and the final-state check (nothing lost).

Everything is read back from where it really is: the topic, the dead-letter topic, the group's
committed offsets and the emulator's records, never from the consumer's counters.
"""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
import orjson
from confluent_kafka import Consumer, Producer, TopicPartition

from aep_emulator.options import EmulatorOptions
from aep_emulator.server import RunningEmulator, running_emulator
from devenv.accounting import account, read_partitions
from devenv.sample_events import SampleEvent, expected_error_class, generate_events
from mappers.record_id import record_id
from schemas.avro import EventEncoder, WriterSchemaRegistry
from tests.aep_emulator.emulator_helpers import ORG, Provisioned, provision
from tests.support.kafka import Topics
from tests.support.leak_sweep import register_secret

Coordinates = tuple[str, int, int]
CLIENT_ID = "it-client"
CLIENT_SECRET = register_secret("it-secret", "AEP client secret of the integration tests")


@dataclass
class AepTarget:
    emulator: RunningEmulator
    provisioned: Provisioned

    @property
    def url(self) -> str:
        return self.emulator.url

    @property
    def inlet_url(self) -> str:
        return f"{self.url}/collection/{self.provisioned.inlet_id}"

    def records(self) -> list[dict[str, Any]]:
        response = httpx.get(f"{self.url}/_emulator/records", timeout=60)
        response.raise_for_status()
        return [orjson.loads(line) for line in response.text.splitlines() if line.strip()]

    def stats(self) -> dict[str, Any]:
        stats: dict[str, Any] = httpx.get(f"{self.url}/_emulator/stats", timeout=10).json()
        return stats

    def faults(self, spec: dict[str, Any]) -> None:
        httpx.post(f"{self.url}/_emulator/faults", json=spec, timeout=10).raise_for_status()


@contextmanager
def aep_target(**options: Any) -> Iterator[AepTarget]:
    opts = EmulatorOptions(
        port=0,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        max_requests_per_s=0,
        max_messages_per_s=0,
        **options,
    )
    with running_emulator(opts) as emulator:
        assert emulator.state is not None
        yield AepTarget(emulator, provision(emulator.state))


def consumer_env(
    bootstrap: str, topics: Topics, target: AepTarget, group: str | None = None, **extra: str
) -> dict[str, str]:
    assert topics.dlq is not None
    p = target.provisioned
    env = {
        "PROFILE_SYNC_KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "PROFILE_SYNC_TOPIC": topics.name,
        "PROFILE_SYNC_DLQ_TOPIC": topics.dlq,
        "PROFILE_SYNC_GROUP_ID": group or f"it-{uuid.uuid4().hex[:8]}",
        "PROFILE_SYNC_AEP_IMS_URL": target.url,
        "PROFILE_SYNC_AEP_PLATFORM_URL": target.url,
        "PROFILE_SYNC_AEP_CLIENT_ID": CLIENT_ID,
        "PROFILE_SYNC_AEP_CLIENT_SECRET": CLIENT_SECRET,
        "PROFILE_SYNC_AEP_ORG_ID": ORG,
        "PROFILE_SYNC_AEP_INLET_URL": target.inlet_url,
        "PROFILE_SYNC_AEP_SCHEMA_ID": p.schema.id,
        "PROFILE_SYNC_AEP_DATASET_ID": p.dataset.id,
        "PROFILE_SYNC_BATCH_LINGER_MS": "50",
        "PROFILE_SYNC_LOG_LEVEL": "WARNING",
        # Health endpoints only where a test asks for them (on a free port).
        "PROFILE_SYNC_HEALTH_PORT": "0",
        "PROFILE_SYNC_KAFKA_CONSUMER_CONFIG": orjson.dumps(
            {"session.timeout.ms": 6000, "heartbeat.interval.ms": 500}
        ).decode(),
    }
    if p.flow is not None:
        env["PROFILE_SYNC_AEP_FLOW_ID"] = p.flow.id
    if topics.state is not None:
        env["PROFILE_SYNC_STATE_TOPIC"] = topics.state
    # Each member its own state directory, as each pod has its own volume (`extra` may name one
    # to keep it across a restart).
    env["PROFILE_SYNC_STATE_DIR"] = tempfile.mkdtemp(prefix="profile-sync-state-")
    env.update(extra)
    return env


@dataclass
class Produced:
    """What was written, by source coordinates."""

    events: dict[Coordinates, SampleEvent] = field(default_factory=dict)
    values: dict[Coordinates, bytes] = field(default_factory=dict)

    @property
    def poison(self) -> dict[Coordinates, SampleEvent]:
        return {c: e for c, e in self.events.items() if e.is_poison}

    def __len__(self) -> int:
        return len(self.events)


def produce_sample(
    bootstrap: str, topic: str, count: int, seed: int = 1, poison_share: float = 0.0
) -> Produced:
    encoder = EventEncoder(WriterSchemaRegistry.load(None))
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 20, "acks": "all"})
    produced = Produced()
    errors: list[Any] = []

    def delivered(event: SampleEvent, value: bytes) -> Any:
        def callback(error: Any, msg: Any) -> None:
            if error is not None:
                errors.append(error)
                return
            coords = (msg.topic(), msg.partition(), msg.offset())
            produced.events[coords] = event
            produced.values[coords] = value

        return callback

    for event in generate_events(count, seed, poison_share):
        value = event.value(encoder.encode_single_object)
        while True:
            try:
                producer.produce(
                    topic, value=value, key=event.key.encode(), on_delivery=delivered(event, value)
                )
                break
            except BufferError:
                producer.poll(0.1)
        producer.poll(0)
    assert producer.flush(60) == 0
    assert not errors, errors[:3]
    return produced


def read_topic(bootstrap: str, topic: str) -> list[Any]:
    """Every message of `topic`, up to the end of each partition when the read starts."""
    return list(read_partitions(bootstrap, topic))


def committed_offsets(bootstrap: str, group: str, topic: str, partitions: int) -> dict[int, int]:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group})
    try:
        found = consumer.committed(
            [TopicPartition(topic, p) for p in range(partitions)], timeout=10
        )
        return {tp.partition: tp.offset for tp in found}
    finally:
        consumer.close()


def end_offsets(bootstrap: str, topic: str, partitions: int) -> dict[int, int]:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "watermarks"})
    try:
        return {
            p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1]
            for p in range(partitions)
        }
    finally:
        consumer.close()


def _millis(value: datetime) -> int:
    return int(value.timestamp() * 1000)


def ordering_key(event: SampleEvent, offset: int) -> tuple[int, int, int]:
    event_time = _millis(event.datum["event_time"])
    if event.record_type == "CustomerDeleted":
        return (event_time, event_time, offset)
    return (_millis(event.datum["customer"]["updated_at"]), event_time, offset)


def customer_of_entity(entity: dict[str, Any]) -> str:
    return str(entity["identityMap"]["CustomerId"][0]["id"])


@dataclass
class DeadLetterCopy:
    coordinates: Coordinates
    headers: dict[str, str]
    key: bytes | None
    value: bytes | None


def read_dead_letters(bootstrap: str, dlq: str) -> list[DeadLetterCopy]:
    copies = []
    for msg in read_topic(bootstrap, dlq):
        headers = {k: (v or b"").decode("utf-8", "replace") for k, v in msg.headers() or []}
        coords = (
            headers["__connect.errors.topic"],
            int(headers["__connect.errors.partition"]),
            int(headers["__connect.errors.offset"]),
        )
        copies.append(DeadLetterCopy(coords, headers, msg.key(), msg.value()))
    return copies


def check_final_state(
    bootstrap: str,
    topics: Topics,
    group: str,
    target: AepTarget,
    produced: Produced,
    *,
    exactly_once: bool = True,
    refused: dict[Coordinates, str] | None = None,
) -> None:
    """The final state after delivery: every customer's newest record is what the emulator
    holds, every poison record is in the dead-letter topic with its headers (exactly once unless
    a process was killed), nothing else is, every offset is committed. `refused`: coordinates
    AEP refused (dead-lettered with that class) besides the poison."""
    assert topics.dlq is not None
    refused = refused or {}
    # 1. the dead-letter topic holds the poison (and the refused), with their headers
    copies = read_dead_letters(bootstrap, topics.dlq)
    expected_dead = {
        c: expected_error_class(e.poison_kind, "single-object")  # type: ignore[arg-type]
        for c, e in produced.poison.items()
    }
    expected_dead.update(refused)
    found = {copy.coordinates for copy in copies}
    missing = sorted(set(expected_dead) - found)[:5]
    extra = sorted(found - set(expected_dead))[:5]
    assert found == set(expected_dead), f"missing {missing}, extra {extra}"
    if exactly_once:
        assert len(copies) == len(found), "a poison record was dead-lettered twice"
    for copy in copies:
        assert copy.headers["profile_sync.error.class"] == expected_dead[copy.coordinates]
        assert copy.value == produced.values[copy.coordinates]
        assert copy.key == produced.events[copy.coordinates].key.encode()
        stage = expected_dead[copy.coordinates].split(".")[0]
        assert copy.headers["profile_sync.error.stage"] == stage
        assert copy.headers["__connect.errors.exception.class.name"] == (
            f"profile_sync.{stage.capitalize()}Error"
        )
        assert copy.headers["profile_sync.failed_at"].endswith("Z")

    # 2. each customer's newest good record is the last one the emulator took for them
    newest: dict[str, tuple[tuple[int, int, int], SampleEvent]] = {}
    for coords, event in produced.events.items():
        if coords in expected_dead:
            continue
        key = ordering_key(event, coords[2])
        best = newest.get(event.key)
        if best is None or key > best[0]:
            newest[event.key] = (key, event)
    last: dict[str, dict[str, Any]] = {}
    for record in target.records():
        last[customer_of_entity(record["entity"])] = record
    assert set(last) == set(newest)
    wrong = []
    for customer, (_key, event) in newest.items():
        record = last[customer]
        if event.record_type == "CustomerDeleted":
            ok = record["operation"] == "delete"
        else:
            ok = record["operation"] != "delete" and record["entity"]["_id"] == record_id(
                event.datum["event_id"], event.record_type
            )
        if not ok:
            wrong.append(customer)
    assert not wrong, f"{len(wrong)} customers' profiles are not their newest record"

    # 3. every offset committed
    committed = committed_offsets(bootstrap, group, topics.name, topics.partitions)
    assert committed == end_offsets(bootstrap, topics.name, topics.partitions)

    # 4. the demo's independent accounting agrees: nothing lost
    result = account(bootstrap, topics.name, topics.dlq, target.url)
    assert result.lost == 0, result.lost_coordinates[:5]
