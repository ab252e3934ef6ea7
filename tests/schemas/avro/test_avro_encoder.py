"""The encoder: framing, subjects, versions, and errors without values."""

from __future__ import annotations

import copy

import pytest

from schemas.avro import (
    ConfluentRegistryClient,
    EncodeError,
    EventDecoder,
    EventEncoder,
    WriterSchemaRegistry,
)
from tests.schemas.avro.avro_testdata import FakeRegistryApi, golden

CREATED = golden("CustomerCreated.v2.full")


def test_confluent_registers_under_topic_record_name_strategy(
    registry: WriterSchemaRegistry, fake_api: FakeRegistryApi, fake_client: ConfluentRegistryClient
) -> None:
    encoder = EventEncoder(registry)
    value = encoder.encode_confluent("CustomerCreated", CREATED.datum, fake_client)
    again = encoder.encode_confluent(
        "commerce.customer.v1.CustomerCreated", CREATED.datum, fake_client
    )
    assert value == again
    assert fake_api.calls == 1
    assert fake_api.subjects == {"commerce.customer.v1-commerce.customer.v1.CustomerCreated": [1]}
    assert value[:5] == b"\x00\x00\x00\x00\x01"
    assert value[5:] == CREATED.value[10:]  # same Avro body as Java's single-object bytes
    assert fake_api.schemas[1] == registry.reader("CustomerCreated").text


def test_confluent_topic_names_the_subject(
    registry: WriterSchemaRegistry, fake_api: FakeRegistryApi, fake_client: ConfluentRegistryClient
) -> None:
    EventEncoder(registry).encode_confluent(
        "CustomerDeleted", golden("CustomerDeleted.v1.full").datum, fake_client, topic="t"
    )
    assert list(fake_api.subjects) == ["t-commerce.customer.v1.CustomerDeleted"]


def test_round_trip_single_object_all_types(registry: WriterSchemaRegistry) -> None:
    encoder, decoder = EventEncoder(registry), EventDecoder(registry)
    for name in (
        "CustomerCreated.v2.full",
        "CustomerUpdated.v2.minimal",
        "CustomerDeleted.v1.full",
    ):
        vector = golden(name)
        event = decoder.decode(encoder.encode_single_object(vector.record_type, vector.datum))
        assert (event.record_type, event.datum) == (vector.record_type, vector.datum)


def test_a_datum_that_does_not_fit_names_no_value(registry: WriterSchemaRegistry) -> None:
    datum = copy.deepcopy(CREATED.datum)
    datum["customer"]["gender"] = "Jürgen"
    with pytest.raises(EncodeError) as raised:
        EventEncoder(registry).encode_single_object("CustomerCreated", datum)
    assert "Jürgen" not in str(raised.value)
    assert raised.value.__cause__ is None


def test_unknown_record_type_or_version(registry: WriterSchemaRegistry) -> None:
    with pytest.raises(KeyError):
        EventEncoder(registry).encode_single_object("CustomerMerged", CREATED.datum)
    with pytest.raises(KeyError):
        EventEncoder(registry).encode_single_object("CustomerDeleted", {}, version=2)
