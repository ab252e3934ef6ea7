"""Confluent framing through the test Schema Registry (the session fixture `schema_registry`)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from io import BytesIO

import httpx
import pytest
from fastavro import schemaless_writer

from devenv.schema_registry import Registry
from schemas.avro import (
    RECORD_TYPES,
    ConfluentRegistryClient,
    DecodeError,
    EventDecoder,
    EventEncoder,
    WriterSchemaRegistry,
    subject_name,
)
from schemas.avro.framing import confluent_header
from tests.schemas.avro.avro_testdata import GOLDEN_VECTORS, NEWER_DIR, golden


@pytest.fixture
def client(schema_registry: Registry) -> Iterator[ConfluentRegistryClient]:
    with ConfluentRegistryClient(schema_registry.url) as client:
        yield client


@pytest.fixture
def topic() -> str:
    return f"avro-test-{uuid.uuid4().hex[:12]}"


@pytest.mark.parametrize("record_type", RECORD_TYPES)
def test_round_trip_through_the_registry(
    registry: WriterSchemaRegistry, client: ConfluentRegistryClient, topic: str, record_type: str
) -> None:
    newest = registry.reader(record_type).version
    vector = next(v for v in GOLDEN_VECTORS if v.record_type == record_type and v.version == newest)
    value = EventEncoder(registry).encode_confluent(record_type, vector.datum, client, topic=topic)
    assert value[0] == 0
    # A fresh client: the schema really comes from the registry, not from the encoder's cache.
    with ConfluentRegistryClient(client.url) as reader_client:
        event = EventDecoder(registry, reader_client).decode(value)
    assert (event.record_type, event.wire_format) == (record_type, "confluent")
    assert event.datum == vector.datum
    subjects = httpx.get(f"{client.url.rstrip('/')}/subjects").json()
    assert subject_name(topic, record_type) in subjects
    assert subject_name(topic, record_type) == f"{topic}-commerce.customer.v1.{record_type}"


def test_newer_writer_registered_in_the_registry(
    registry: WriterSchemaRegistry, client: ConfluentRegistryClient, topic: str
) -> None:
    newer = next(s for s in WriterSchemaRegistry.load(NEWER_DIR) if s.version is None)
    schema_id = client.register(subject_name(topic, "CustomerUpdated"), newer.text)
    expected = golden("CustomerUpdated.v2.full").datum
    datum = expected | {"customer": expected["customer"] | {"loyalty_points": 5}}
    body = BytesIO()
    schemaless_writer(body, newer.parsed, datum)
    with ConfluentRegistryClient(client.url) as reader_client:
        event = EventDecoder(registry, reader_client).decode(
            confluent_header(schema_id) + body.getvalue()
        )
    assert event.datum == expected


def test_unknown_id_is_a_decode_error(
    registry: WriterSchemaRegistry, client: ConfluentRegistryClient
) -> None:
    body = golden("CustomerUpdated.v2.full").value[10:]
    with pytest.raises(DecodeError) as raised:
        EventDecoder(registry, client).decode(confluent_header(2_000_000_000) + body)
    assert raised.value.error_class == "decode.unknown_schema_id"
