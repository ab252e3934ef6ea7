"""Was anything lost? Computed from what Kafka and the emulator hold, never from the consumer.

docs/DESIGN.md §6 ("Accounting"): a source record is accounted for when AEP accepted it, when a
newer record of the same customer (greater ordering key) was accepted, or when it is in the
dead-letter topic. This module reads the three places independently:

1. every record of the source topic (decoded here with the project's own decoder, so the
   ordering key and the record's `_id` can be computed),
2. the source coordinates named by the dead-letter topic's `__connect.errors.*` headers,
3. the records the emulator holds (`GET /_emulator/records`),

and returns `produced, delivered, dead_lettered, lost` with the coordinates of anything lost.
The demo prints it; integration tests assert on it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
import orjson
from confluent_kafka import Consumer, KafkaException, TopicPartition

from mappers.record_id import record_id
from schemas.avro import DecodeError, EventDecoder, WriterSchemaRegistry

Coordinates = tuple[str, int, int]


@dataclass(frozen=True)
class SourceRecord:
    coordinates: Coordinates
    customer_id: int | None
    record_id: str | None
    ordering_key: tuple[int, int, int] | None


@dataclass
class Accounting:
    produced: int
    delivered: int
    dead_lettered: int
    lost: int
    lost_coordinates: list[Coordinates] = field(default_factory=list)
    dead_letter_copies: int = 0

    def line(self) -> str:
        return (
            f"demo: produced {self.produced}, delivered {self.delivered}, "
            f"dead-lettered {self.dead_lettered}, lost {self.lost}"
        )


def _millis(value: Any) -> int:
    if isinstance(value, datetime):
        return int(value.timestamp() * 1000)
    return int(value)


def read_partitions(bootstrap: str, topic: str) -> Iterator[Any]:
    """Every message of the topic, up to the high watermarks seen at the start."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"accounting-{uuid.uuid4()}",
            "enable.auto.commit": False,
            "enable.partition.eof": False,
        }
    )
    try:
        metadata = consumer.list_topics(topic, timeout=10)
        topic_metadata = metadata.topics.get(topic)
        if topic_metadata is None or topic_metadata.error is not None:
            raise KafkaException(f"topic {topic} not found")
        remaining: dict[int, int] = {}
        assignment = []
        for partition in topic_metadata.partitions:
            low, high = consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=10)
            if high > low:
                remaining[partition] = high
                assignment.append(TopicPartition(topic, partition, low))
        consumer.assign(assignment)
        while remaining:
            message = consumer.poll(1.0)
            if message is None:
                continue
            if message.error() is not None:
                raise KafkaException(message.error())
            partition = int(message.partition() or 0)
            yield message
            if int(message.offset() or 0) + 1 >= remaining.get(partition, 0):
                remaining.pop(partition, None)
    finally:
        consumer.close()


def read_source(bootstrap: str, topic: str, decoder: EventDecoder) -> list[SourceRecord]:
    records = []
    for message in read_partitions(bootstrap, topic):
        coordinates = (message.topic(), message.partition(), message.offset())
        try:
            event = decoder.decode(message.value())
        except DecodeError:
            records.append(SourceRecord(coordinates, None, None, None))
            continue
        datum = event.datum
        event_time = _millis(datum["event_time"])
        if event.record_type.endswith("CustomerDeleted"):
            customer_id = int(datum["customer_id"])
            key = (event_time, event_time, message.offset())
        else:
            customer_id = int(datum["customer"]["id"])
            key = (_millis(datum["customer"]["updated_at"]), event_time, message.offset())
        short_type = event.record_type.rsplit(".", 1)[-1]
        records.append(
            SourceRecord(coordinates, customer_id, record_id(datum["event_id"], short_type), key)
        )
    return records


def read_dead_letter_coordinates(bootstrap: str, dlq_topic: str) -> tuple[set[Coordinates], int]:
    """Distinct source coordinates named by dead-letter headers, and the number of copies."""
    found: set[Coordinates] = set()
    copies = 0
    for message in read_partitions(bootstrap, dlq_topic):
        headers = {k: v for k, v in (message.headers() or []) if v is not None}
        try:
            found.add(
                (
                    headers["__connect.errors.topic"].decode(),
                    int(headers["__connect.errors.partition"]),
                    int(headers["__connect.errors.offset"]),
                )
            )
            copies += 1
        except (KeyError, ValueError):
            continue
    return found, copies


def read_emulator_record_ids(emulator_url: str) -> set[str]:
    # Minutes, not seconds: after an outage figure the emulator lists millions of records.
    response = httpx.get(f"{emulator_url}/_emulator/records", timeout=600)
    response.raise_for_status()
    ids: set[str] = set()
    for line in response.text.splitlines():
        if line.strip():
            entity = orjson.loads(line).get("entity") or {}
            if "_id" in entity:
                ids.add(entity["_id"])
    return ids


def _is_accounted(
    record: SourceRecord,
    accepted_ids: set[str],
    newest_accepted: dict[int, tuple[int, int, int]],
) -> bool:
    """Accepted by AEP itself, or superseded by an accepted newer record of the customer."""
    if record.record_id is not None and record.record_id in accepted_ids:
        return True
    if record.customer_id is None or record.ordering_key is None:
        return False
    newest = newest_accepted.get(record.customer_id)
    return newest is not None and newest > record.ordering_key


def account(
    bootstrap: str,
    topic: str,
    dlq_topic: str,
    emulator_url: str,
    decoder: EventDecoder | None = None,
) -> Accounting:
    decoder = decoder or EventDecoder(WriterSchemaRegistry.load(None))
    source = read_source(bootstrap, topic, decoder)
    dead_lettered, copies = read_dead_letter_coordinates(bootstrap, dlq_topic)
    accepted_ids = read_emulator_record_ids(emulator_url)

    newest_accepted: dict[int, tuple[int, int, int]] = {}
    for record in source:
        if record.record_id in accepted_ids and record.customer_id is not None:
            assert record.ordering_key is not None
            best = newest_accepted.get(record.customer_id)
            if best is None or record.ordering_key > best:
                newest_accepted[record.customer_id] = record.ordering_key

    delivered = 0
    lost: list[Coordinates] = []
    for record in source:
        if record.coordinates in dead_lettered:
            continue
        if _is_accounted(record, accepted_ids, newest_accepted):
            delivered += 1
        else:
            lost.append(record.coordinates)
    produced = len(source)
    return Accounting(
        produced=produced,
        delivered=delivered,
        dead_lettered=len(dead_lettered),
        lost=produced - delivered - len(dead_lettered),
        lost_coordinates=lost,
        dead_letter_copies=copies,
    )
