"""The generated reader reads what fastavro reads, and gives up on everything else.

Equivalence is checked three ways: the sample generator's events under every shipped schema (both
timestamp forms), Hypothesis datums of a schema that uses every Avro type the generator covers,
and mutated bytes (whatever the generated reader accepts, fastavro accepts with the same datum
and length).
"""

from __future__ import annotations

import json
import math
from io import BytesIO
from typing import Any, cast

import pytest
from fastavro import parse_schema, schemaless_reader, schemaless_writer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devenv.sample_events import generate_events
from schemas.avro import EventEncoder, WriterSchemaRegistry
from schemas.avro.compiled_reader import CompiledReader, compile_reader
from schemas.avro.writer_schema import millis_schema

REGISTRY = WriterSchemaRegistry.load()
ENCODER = EventEncoder(REGISTRY)
SETTINGS = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])

EVERY_TYPE = parse_schema(
    {
        "type": "record",
        "name": "t.Everything",
        "fields": [
            {"name": "n", "type": "null"},
            {"name": "b", "type": "boolean"},
            {"name": "i", "type": "int"},
            {"name": "l", "type": "long"},
            {"name": "f", "type": "float"},
            {"name": "d", "type": "double"},
            {"name": "raw", "type": "bytes"},
            {"name": "s", "type": "string"},
            {"name": "day", "type": {"type": "int", "logicalType": "date"}},
            {"name": "at", "type": {"type": "long", "logicalType": "timestamp-millis"}},
            {"name": "colour", "type": {"type": "enum", "name": "Colour", "symbols": ["R", "G"]}},
            {"name": "id", "type": {"type": "fixed", "name": "Id", "size": 3}},
            {"name": "tags", "type": {"type": "map", "values": ["null", "long"]}},
            {
                "name": "inner",
                "type": {
                    "type": "array",
                    "items": {
                        "type": "record",
                        "name": "Inner",
                        "fields": [{"name": "x", "type": ["null", "string", "Colour"]}],
                    },
                },
            },
            {"name": "again", "type": ["null", "Inner"]},
        ],
    }
)


def _fastavro(schema: Any, value: bytes, offset: int) -> tuple[Any, int]:
    stream = BytesIO(value)
    stream.seek(offset)
    return schemaless_reader(stream, schema, None), stream.tell()


def _encode(schema: Any, datum: Any) -> bytes:
    out = BytesIO()
    schemaless_writer(out, schema, datum)
    return out.getvalue()


def _same(left: Any, right: Any) -> bool:
    """Equal, with the same key order, and NaN equal to NaN."""
    if isinstance(left, dict) and isinstance(right, dict):
        return list(left) == list(right) and all(_same(left[k], right[k]) for k in left)
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(map(_same, left, right))
    if isinstance(left, float) and isinstance(right, float) and math.isnan(left):
        return math.isnan(right)
    return type(left) is type(right) and left == right


def _compiled(schema: Any, *, millis: bool = False) -> CompiledReader:
    reader = compile_reader(schema, timestamps_as_millis=millis)
    assert reader is not None
    return reader


@pytest.mark.parametrize("millis", [False, True], ids=["datetimes", "millis"])
def test_sample_events_read_as_fastavro_reads_them(millis: bool) -> None:
    read = 0
    readers: dict[bytes, CompiledReader] = {}
    for event in generate_events(1500, seed=11):
        for shipped in REGISTRY:
            if shipped.record_type != event.record_type:
                continue
            version = shipped.version
            schema = millis_schema(shipped) if millis else shipped.parsed
            try:
                value = ENCODER.encode_single_object(
                    event.record_type, event.datum, version=version
                )
            except (ValueError, TypeError, KeyError):
                continue  # an older version lacks a field this event needs
            expected = _fastavro(schema, value, 10)
            if shipped.fingerprint not in readers:
                readers[shipped.fingerprint] = _compiled(schema, millis=millis)
            got = readers[shipped.fingerprint](value, 10)
            assert _same(got[0], expected[0])
            assert got[1] == expected[1] == len(value)
            read += 1
    assert read > 1500


def _datum(draw: st.DrawFn) -> dict[str, Any]:
    inner = st.fixed_dictionaries({"x": st.none() | st.text() | st.sampled_from(["R", "G"])})
    return {
        "n": None,
        "b": draw(st.booleans()),
        "i": draw(st.integers(-(2**31), 2**31 - 1)),
        "l": draw(st.integers(-(2**63), 2**63 - 1)),
        "f": draw(st.floats(width=32)),
        "d": draw(st.floats()),
        "raw": draw(st.binary()),
        "s": draw(st.text()),
        "day": draw(st.integers(-719162, 2932896)),
        "at": draw(st.integers(-62135596800000, 253402300799999)),
        "colour": draw(st.sampled_from(["R", "G"])),
        "id": draw(st.binary(min_size=3, max_size=3)),
        "tags": draw(st.dictionaries(st.text(), st.none() | st.integers(-(2**63), 2**63 - 1))),
        "inner": draw(st.lists(inner)),
        "again": draw(st.none() | inner),
    }


@SETTINGS
@given(st.composite(_datum)(), st.booleans())
def test_every_type_reads_as_fastavro_reads_it(datum: dict[str, Any], millis: bool) -> None:
    schema = EVERY_TYPE
    if millis:
        schema = parse_schema(json.loads(json.dumps(_without_millis(EVERY_TYPE))))
    value = b"\x07" + _encode(schema, datum)
    expected = _fastavro(schema, value, 1)
    got = _compiled(schema, millis=millis)(value, 1)
    assert _same(got[0], expected[0])
    assert got[1] == expected[1] == len(value)


def _without_millis(node: Any) -> Any:
    if isinstance(node, list):
        return [_without_millis(item) for item in node]
    if not isinstance(node, dict):
        return node
    return {
        key: _without_millis(value)
        for key, value in node.items()
        if not key.startswith("__") and not (key == "logicalType" and value == "timestamp-millis")
    }


def _valid_values() -> list[bytes]:
    return [
        ENCODER.encode_single_object(event.record_type, event.datum)
        for event in generate_events(40, seed=5)
    ]


VALID = _valid_values()


@SETTINGS
@given(
    st.sampled_from(VALID),
    st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), min_size=1, max_size=4),
    st.integers(0, 2),
)
def test_mutated_bytes_read_as_fastavro_reads_them_or_not_at_all(
    value: bytes, changes: list[tuple[int, int]], how: int
) -> None:
    data = bytearray(value)
    for where, byte in changes:
        spot = 10 + where % (len(data) - 10)
        if how == 0:
            data[spot] = byte
        elif how == 1:
            del data[spot:]
        else:
            data.insert(spot, byte)
        if len(data) <= 10:
            break
    mutated = bytes(data)
    writer = REGISTRY.by_fingerprint(mutated[2:10])
    assert writer is not None
    schema = millis_schema(writer)
    try:
        got = _compiled(schema, millis=True)(mutated, 10)
    except Exception:
        return  # refused: the decoder asks fastavro, which decides how
    assert _same(got[0], _fastavro(schema, mutated, 10)[0])
    assert got[1] == _fastavro(schema, mutated, 10)[1]


@pytest.mark.parametrize(
    "raw",
    [
        b"\x07\x01",  # a negative string length
        b"\x07\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x01",  # an eleven-byte varint
        b"\x07\xff\xff\xff\xff\xff\xff\xff\xff\xff\x7f",  # a varint beyond 64 bits
        b"\x07\x04a",  # ends inside the string
    ],
)
def test_malformed_values_are_given_up(raw: bytes) -> None:
    reader = _compiled(parse_schema({"type": "record", "name": "S", "fields": [
        {"name": "s", "type": "string"}
    ]}))  # fmt: skip
    with pytest.raises(Exception):  # noqa: B017 - any refusal sends the value to fastavro
        reader(raw, 1)


def test_union_and_enum_indexes_out_of_range_are_given_up() -> None:
    union = _compiled(parse_schema({"type": "record", "name": "U", "fields": [
        {"name": "u", "type": ["null", "long"]},
    ]}))  # fmt: skip
    enum = _compiled(parse_schema({"type": "record", "name": "E", "fields": [
        {"name": "e", "type": {"type": "enum", "name": "En", "symbols": ["A"]}},
    ]}))  # fmt: skip
    for reader, raw in ((union, b"\x04"), (union, b"\x01"), (enum, b"\x02"), (enum, b"\x01")):
        with pytest.raises(Exception):  # noqa: B017
            reader(raw, 0)


def test_negative_block_counts_are_read_as_fastavro_reads_them() -> None:
    schema = parse_schema({"type": "record", "name": "A", "fields": [
        {"name": "a", "type": {"type": "array", "items": "long"}},
        {"name": "m", "type": {"type": "map", "values": "boolean"}},
    ]})  # fmt: skip
    # Array: a block of -2 items (byte size 2) holding 1 and 2, then the end. Map: one entry.
    value = b"\x03\x04\x02\x04\x00" + b"\x01\x04\x02k\x01\x00"
    expected = _fastavro(schema, value, 0)
    assert expected[0] == {"a": [1, 2], "m": {"k": True}}
    assert _compiled(schema)(value, 0) == expected


@pytest.mark.parametrize(
    "field_type",
    [
        {"type": "string", "logicalType": "uuid"},
        {"type": "bytes", "logicalType": "decimal", "precision": 4, "scale": 2},
        {"type": "long", "logicalType": "timestamp-micros"},
        {"type": "string", "logicalType": "date"},  # a logical type on a type it cannot annotate
    ],
)
def test_schemas_it_does_not_cover_get_no_reader(field_type: dict[str, Any]) -> None:
    schema = parse_schema(
        {"type": "record", "name": "L", "fields": [{"name": "x", "type": field_type}]}
    )
    assert compile_reader(schema) is None


def test_recursive_schemas_get_no_reader() -> None:
    schema = parse_schema({"type": "record", "name": "Node", "fields": [
        {"name": "next", "type": ["null", "Node"]},
    ]})  # fmt: skip
    assert compile_reader(schema) is None


def test_schema_text_never_reaches_the_generated_source() -> None:
    hostile = 'x"]; import os; os._exit(3) #'
    schema = parse_schema({"type": "record", "name": "H", "fields": [
        {"name": "f", "type": {"type": "enum", "name": "E", "symbols": ["A"]}},
        {"name": "g", "type": "string", "doc": hostile},
    ]})  # fmt: skip
    fields: list[dict[str, Any]] = cast(dict[str, Any], schema)["fields"]
    fields[1]["name"] = hostile  # parse_schema would refuse it as a name
    reader = _compiled(schema)
    assert reader(b"\x00\x02z", 0) == ({"f": "A", hostile: "z"}, 3)


def test_every_shipped_schema_gets_a_reader() -> None:
    for shipped in REGISTRY:
        assert compile_reader(shipped.parsed) is not None, shipped.origin
        assert compile_reader(millis_schema(shipped), timestamps_as_millis=True) is not None


@SETTINGS
@given(st.integers(-(2**63), 2**63 - 1))
def test_longs_of_every_width_read_as_fastavro_reads_them(number: int) -> None:
    schema = parse_schema(
        {"type": "record", "name": "N", "fields": [{"name": "n", "type": "long"}]}
    )
    value = _encode(schema, {"n": number})
    assert _compiled(schema)(value, 0) == ({"n": number}, len(value)) == _fastavro(schema, value, 0)
