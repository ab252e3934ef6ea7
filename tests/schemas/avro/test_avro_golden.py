"""Golden vectors written by Java's BinaryMessageEncoder, checked both ways."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from schemas.avro import EventDecoder, EventEncoder, WriterSchemaRegistry
from tests.schemas.avro.avro_testdata import GOLDEN_VECTORS, GoldenVector

IDS = [v.name for v in GOLDEN_VECTORS]


def test_every_shipped_version_has_vectors(registry: WriterSchemaRegistry) -> None:
    shipped = {(s.record_type, s.version) for s in registry if s.version is not None}
    assert {(v.record_type, v.version) for v in GOLDEN_VECTORS} == shipped


@pytest.mark.parametrize("vector", GOLDEN_VECTORS, ids=IDS)
def test_encoder_writes_the_java_bytes(
    registry: WriterSchemaRegistry, vector: GoldenVector
) -> None:
    encoded = EventEncoder(registry).encode_single_object(
        vector.record_type, vector.datum, version=vector.version
    )
    assert encoded.hex() == vector.value.hex()


@pytest.mark.parametrize("vector", GOLDEN_VECTORS, ids=IDS)
def test_decoder_reads_the_java_bytes(registry: WriterSchemaRegistry, vector: GoldenVector) -> None:
    event = EventDecoder(registry).decode(vector.value)
    assert event.record_type == vector.record_type
    assert event.wire_format == "single-object"
    assert event.datum == _as_newest_reader(vector)


def _as_newest_reader(vector: GoldenVector) -> dict[str, Any]:
    """The vector's datum as the newest reader sees it: v1 customers gain `is_subscribed`."""
    expected = copy.deepcopy(vector.datum)
    if vector.version == 1 and "customer" in expected:
        expected["customer"]["is_subscribed"] = None
    return expected


def test_decoded_values_use_python_types(registry: WriterSchemaRegistry) -> None:
    vector = next(v for v in GOLDEN_VECTORS if v.name == "CustomerCreated.v2.full")
    customer = EventDecoder(registry).decode(vector.value).datum["customer"]
    assert customer["updated_at"].isoformat() == "2026-11-28T10:15:00.456000+00:00"
    assert customer["dob"].isoformat() == "1984-02-29"
    assert customer["custom_attributes"]["referral_code"] == "ÄBC-123"
