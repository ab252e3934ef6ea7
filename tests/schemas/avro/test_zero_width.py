"""Writer schemas whose arrays can hold items that take no bytes are refused before any read."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from fastavro import parse_schema

from schemas.avro import ConfluentRegistryClient, DecodeError, EventDecoder, WriterSchemaRegistry
from schemas.avro.errors import SchemaLoadError
from schemas.avro.framing import confluent_header
from schemas.avro.zero_width import ZeroWidthItemsError, check_no_zero_width_items
from tests.schemas.avro.avro_testdata import FakeRegistryApi, shipped_schema

EMPTY_RECORD: dict[str, Any] = {"type": "record", "name": "Nothing", "fields": []}
EMPTY_FIXED: dict[str, Any] = {"type": "fixed", "name": "NoBytes", "size": 0}
NULLS_ONLY: dict[str, Any] = {
    "type": "record",
    "name": "Nulls",
    "fields": [{"name": "a", "type": "null"}, {"name": "b", "type": EMPTY_FIXED}],
}


def _record(field_type: Any, *more: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "record",
        "name": "Holder",
        "namespace": "test",
        "fields": [*more, {"name": "pad", "type": field_type}],
    }


def _array(items: Any) -> dict[str, Any]:
    return {"type": "array", "items": items}


@pytest.mark.parametrize(
    ("field_type", "path"),
    [
        (_array("null"), "pad"),
        (_array({"type": "null"}), "pad"),
        (_array(EMPTY_RECORD), "pad"),
        (_array(EMPTY_FIXED), "pad"),
        (_array(NULLS_ONLY), "pad"),
        (_array(_array("null")), "pad[]"),
        ({"type": "map", "values": _array("null")}, "pad{}"),
        (["null", _array("null")], "pad"),
        (_record(_array("null")) | {"name": "Inner"}, "pad.pad"),
    ],
)
def test_arrays_of_zero_width_items_are_found(field_type: Any, path: str) -> None:
    with pytest.raises(ZeroWidthItemsError) as raised:
        check_no_zero_width_items(parse_schema(_record(field_type)))
    assert raised.value.path == path


def test_a_named_zero_width_type_used_later_by_name_is_found() -> None:
    schema = _record(_array("test.Nothing"), {"name": "first", "type": EMPTY_RECORD})
    with pytest.raises(ZeroWidthItemsError):
        check_no_zero_width_items(parse_schema(schema))


@pytest.mark.parametrize(
    "field_type",
    [
        _array("string"),
        _array("boolean"),
        _array({"type": "enum", "name": "One", "symbols": ["ONLY"]}),  # an index byte each
        _array(["null"]),  # a branch index byte each
        _array(_array("long")),
        _array({"type": "fixed", "name": "One", "size": 1}),
        {"type": "map", "values": "null"},  # every entry carries its key
        "null",
        EMPTY_RECORD,
    ],
)
def test_items_that_take_bytes_are_accepted(field_type: Any) -> None:
    check_no_zero_width_items(parse_schema(_record(field_type)))


def test_a_recursive_schema_is_walked_to_the_end() -> None:
    node = {
        "type": "record",
        "name": "Node",
        "fields": [
            {"name": "next", "type": ["null", "Node"]},
            {"name": "kids", "type": _array("Node")},
        ],
    }
    check_no_zero_width_items(parse_schema(node))


def test_every_shipped_schema_passes(registry: WriterSchemaRegistry) -> None:
    for schema in registry:
        check_no_zero_width_items(schema.parsed)


def _zigzag(n: int) -> bytes:
    n = (n << 1) ^ (n >> 63)
    out = bytearray()
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


@pytest.mark.parametrize("items", ["null", EMPTY_RECORD, EMPTY_FIXED])
def test_a_registry_schema_with_zero_width_items_is_refused_at_once(items: Any) -> None:
    # A commerce event with an extra array up front: one small message announcing 2**62 items
    # would keep the reader allocating for ever; ten million keeps this test finite (about a
    # second and 80 MB) should the refusal ever go.
    schema = shipped_schema("CustomerDeleted.v1")
    schema["fields"] = [{"name": "pad", "type": _array(items), "default": []}, *schema["fields"]]
    api = FakeRegistryApi(schemas={7: json.dumps(schema)})
    client = ConfluentRegistryClient("http://registry.test", transport=api.transport())
    decoder = EventDecoder(WriterSchemaRegistry.load(), client, timestamps_as_millis=True)
    value = confluent_header(7) + _zigzag(10_000_000) + b"\x00"
    started = time.monotonic()
    for _ in range(2):
        with pytest.raises(DecodeError) as raised:
            decoder.decode(value)
        assert raised.value.error_class == "decode.invalid_schema"
        assert "field pad" in raised.value.message
    assert time.monotonic() - started < 0.5
    assert api.calls == 1  # refused once, remembered


def test_an_extra_schema_with_zero_width_items_fails_the_start(tmp_path: Path) -> None:
    schema = shipped_schema("CustomerDeleted.v1")
    schema["fields"] = [{"name": "pad", "type": _array("null"), "default": []}, *schema["fields"]]
    (tmp_path / "padded.avsc").write_text(json.dumps(schema), encoding="utf-8")
    with pytest.raises(SchemaLoadError, match="no bytes"):
        WriterSchemaRegistry.load(tmp_path)
