"""Schema evolution both ways: older writers gain reader defaults, newer writers lose fields."""

from __future__ import annotations

import copy
from io import BytesIO
from typing import Any

import pytest
from fastavro import schemaless_writer

from schemas.avro import (
    ConfluentRegistryClient,
    DecodeError,
    EventDecoder,
    EventEncoder,
    WriterSchema,
    WriterSchemaRegistry,
)
from schemas.avro.framing import confluent_header, single_object_header
from tests.schemas.avro.avro_testdata import NEWER_DIR, FakeRegistryApi, golden

V2 = golden("CustomerUpdated.v2.full")


def _newer_datum() -> dict[str, Any]:
    datum = copy.deepcopy(V2.datum)
    datum["customer"]["loyalty_points"] = 1200
    for address in datum["customer"]["addresses"]:
        address["latitude"] = 48.78
    return datum


def _newer_writer(registry: WriterSchemaRegistry) -> WriterSchema:
    return next(s for s in registry if s.version is None)


def _body(writer: WriterSchema, datum: dict[str, Any]) -> bytes:
    out = BytesIO()
    schemaless_writer(out, writer.parsed, datum)
    return out.getvalue()


def test_older_writer_gains_the_reader_default(registry: WriterSchemaRegistry) -> None:
    v1 = golden("CustomerUpdated.v1.full")
    assert "is_subscribed" not in v1.datum["customer"]
    event = EventDecoder(registry).decode(v1.value)
    assert event.datum["customer"]["is_subscribed"] is None
    assert event.datum["customer"]["email"] == v1.datum["customer"]["email"]


def test_older_writer_encoded_by_us_reads_as_the_newest(registry: WriterSchemaRegistry) -> None:
    datum = copy.deepcopy(V2.datum)
    del datum["customer"]["is_subscribed"]
    value = EventEncoder(registry).encode_single_object("CustomerUpdated", datum, version=1)
    decoded = EventDecoder(registry).decode(value).datum
    assert decoded == datum | {"customer": datum["customer"] | {"is_subscribed": None}}


def test_newer_writer_from_the_extra_dir_drops_unknown_fields() -> None:
    registry = WriterSchemaRegistry.load(NEWER_DIR)
    newer = _newer_writer(registry)
    value = single_object_header(newer.fingerprint) + _body(newer, _newer_datum())
    event = EventDecoder(registry).decode(value)
    assert event.record_type == "CustomerUpdated"
    assert event.datum == V2.datum
    assert "loyalty_points" not in event.datum["customer"]


def test_newer_writer_without_the_extra_dir_is_unknown(registry: WriterSchemaRegistry) -> None:
    newer = _newer_writer(WriterSchemaRegistry.load(NEWER_DIR))
    value = single_object_header(newer.fingerprint) + _body(newer, _newer_datum())
    with pytest.raises(DecodeError) as raised:
        EventDecoder(registry).decode(value)
    assert raised.value.error_class == "decode.unknown_fingerprint"


def test_newer_writer_through_the_registry(registry: WriterSchemaRegistry) -> None:
    newer = _newer_writer(WriterSchemaRegistry.load(NEWER_DIR))
    api = FakeRegistryApi()
    schema_id = api.add(newer.text)
    client = ConfluentRegistryClient("http://registry.test", transport=api.transport())
    decoder = EventDecoder(registry, client)
    value = confluent_header(schema_id) + _body(newer, _newer_datum())
    for _ in range(2):
        event = decoder.decode(value)
        assert event.wire_format == "confluent"
        assert event.datum == V2.datum
    assert api.calls == 1  # the schema is fetched once, then cached
