"""Versions of one customer with chosen ordering keys, produced to the source topic, and what
the emulator ends up holding for each customer (docs/DESIGN.md §11 scenarios)."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from confluent_kafka import Producer

from devenv.sample_events import SampleEvent, generate_events
from schemas.avro import EventEncoder, WriterSchemaRegistry
from tests.integration.run_support import AepTarget, Coordinates, customer_of_entity

BASE_TIME = datetime(2026, 6, 1, 12, 0, 0, tzinfo=UTC)


def at(minutes: int) -> datetime:
    return BASE_TIME + timedelta(minutes=minutes)


class Customers:
    """Clean (not poison) sample customers with a created event and a delete template."""

    def __init__(self, seed: int = 41, sample: int = 400) -> None:
        events = list(generate_events(sample, seed, 0.0))
        self._created = {e.key: e for e in events if e.record_type == "CustomerCreated"}
        self._delete = next(e for e in events if e.record_type == "CustomerDeleted")

    def ids(self, count: int) -> list[str]:
        found = list(self._created)[:count]
        assert len(found) == count, "the sample has too few customers"
        return found

    def upsert(
        self, customer: str, updated_minute: int, event_minute: int | None = None
    ) -> SampleEvent:
        """A `CustomerUpdated` of `customer` whose `updated_at` is `at(updated_minute)`."""
        base = self._created[customer]
        datum: dict[str, Any] = copy.deepcopy(base.datum)
        datum["event_id"] = str(uuid.uuid4())
        datum["event_time"] = at(updated_minute if event_minute is None else event_minute)
        datum["customer"]["updated_at"] = at(updated_minute)
        return SampleEvent(customer, "CustomerUpdated", datum)

    def delete(self, customer: str, event_minute: int) -> SampleEvent:
        datum: dict[str, Any] = copy.deepcopy(self._delete.datum)
        datum["event_id"] = str(uuid.uuid4())
        datum["event_time"] = at(event_minute)
        datum["customer_id"] = int(customer)
        datum["email"] = None
        return SampleEvent(customer, "CustomerDeleted", datum)


def produce_events(bootstrap: str, topic: str, events: Sequence[SampleEvent]) -> list[Coordinates]:
    """In order, keyed by customer (one customer's versions share a partition)."""
    encoder = EventEncoder(WriterSchemaRegistry.load(None))
    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all", "enable.idempotence": True})
    coordinates: list[Coordinates] = []
    errors: list[Any] = []

    def delivered(error: Any, msg: Any) -> None:
        if error is not None:
            errors.append(error)
        else:
            coordinates.append((msg.topic(), msg.partition(), msg.offset()))

    for event in events:
        producer.produce(
            topic,
            value=event.value(encoder.encode_single_object),
            key=event.key.encode(),
            on_delivery=delivered,
        )
    assert producer.flush(30) == 0
    assert not errors, errors
    return coordinates


def history(target: AepTarget) -> dict[str, list[tuple[str, str | None]]]:
    """Per customer, what the emulator received in ingestion order: (operation,
    lastUpdatedDate). The profile is the last one (AEP: last ingestion wins)."""
    seen: dict[str, list[tuple[str, str | None]]] = {}
    for record in target.records():
        entity = record["entity"]
        audit = entity.get("extSourceSystemAudit") or {}
        seen.setdefault(customer_of_entity(entity), []).append(
            (record["operation"], audit.get("lastUpdatedDate"))
        )
    return seen


def stamp(minutes: int) -> str:
    """`lastUpdatedDate` of a version updated at `at(minutes)`."""
    moment = at(minutes)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
