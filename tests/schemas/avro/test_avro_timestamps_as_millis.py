"""`EventDecoder(timestamps_as_millis=True)`: the same datum, timestamps as epoch milliseconds."""

from __future__ import annotations

import datetime as dt
import json
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from fastavro import schemaless_writer

from schemas.avro import DecodeError, EventDecoder, WriterSchemaRegistry
from tests.schemas.avro.avro_testdata import GOLDEN_VECTORS, GoldenVector, golden, shipped_schema

IDS = [v.name for v in GOLDEN_VECTORS]
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_TIMESTAMPS = {"event_time", "created_at", "updated_at"}


def _as_millis(value: Any, key: str = "") -> Any:
    """A datum read with datetimes, as it reads with epoch milliseconds."""
    if isinstance(value, dict):
        return {k: _as_millis(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_millis(v) for v in value]
    if key in _TIMESTAMPS and isinstance(value, dt.datetime):
        return (value - _EPOCH) // dt.timedelta(milliseconds=1)
    return value


@pytest.mark.parametrize("vector", GOLDEN_VECTORS, ids=IDS)
def test_golden_vectors_read_alike_with_millis(
    registry: WriterSchemaRegistry, vector: GoldenVector
) -> None:
    with_datetimes = EventDecoder(registry).decode(vector.value)
    with_millis = EventDecoder(registry, timestamps_as_millis=True).decode(vector.value)
    assert with_millis.record_type == with_datetimes.record_type
    assert with_millis.datum == _as_millis(with_datetimes.datum)
    assert type(with_millis.datum["event_time"]) is int


def test_millis_are_the_wire_values(registry: WriterSchemaRegistry) -> None:
    customer = (
        EventDecoder(registry, timestamps_as_millis=True)
        .decode(golden("CustomerCreated.v2.full").value)
        .datum["customer"]
    )
    moment = dt.datetime(2026, 11, 28, 10, 15, 0, 456000, tzinfo=dt.UTC)
    assert customer["updated_at"] == (moment - _EPOCH) // dt.timedelta(milliseconds=1)
    assert customer["dob"] == dt.date(1984, 2, 29)  # dates keep their logical type


def test_older_writer_is_patched_with_millis(registry: WriterSchemaRegistry) -> None:
    v1 = golden("CustomerUpdated.v1.full")
    datum = EventDecoder(registry, timestamps_as_millis=True).decode(v1.value).datum
    assert datum["customer"]["is_subscribed"] is None
    assert datum == _as_millis(EventDecoder(registry).decode(v1.value).datum)


def test_full_resolution_reads_millis(tmp_path: Path) -> None:
    narrower = shipped_schema("CustomerUpdated.v2")
    customer = next(f for f in narrower["fields"] if f["name"] == "customer")["type"]
    customer["fields"][0]["type"] = "int"  # int -> long: a promotion, resolved in full
    narrower["doc"] = "customer.id as int"
    (tmp_path / "narrow.avsc").write_text(json.dumps(narrower), encoding="utf-8")
    registry = WriterSchemaRegistry.load(tmp_path)
    writer = next(s for s in registry if s.version is None)
    datum = golden("CustomerUpdated.v2.full").datum
    out = BytesIO()
    schemaless_writer(out, writer.parsed, datum)
    value = b"\xc3\x01" + writer.fingerprint + out.getvalue()
    decoded = EventDecoder(registry, timestamps_as_millis=True).decode(value)
    assert decoded.datum == _as_millis(datum)


def test_out_of_range_millis_are_left_to_the_mapper(registry: WriterSchemaRegistry) -> None:
    datum = dict(golden("CustomerDeleted.v1.full").datum)
    writer = registry.shipped("CustomerDeleted")
    out = BytesIO()
    # Past year 9999: no datetime holds it, but it is a valid Avro long.
    schemaless_writer(out, json.loads(writer.text), datum | {"event_time": 2**62})
    value = b"\xc3\x01" + writer.fingerprint + out.getvalue()
    decoded = EventDecoder(registry, timestamps_as_millis=True).decode(value)
    assert decoded.datum["event_time"] == 2**62
    with pytest.raises(DecodeError):  # the datetime form cannot hold it
        EventDecoder(registry).decode(value)
