"""The resolution fast path gives exactly what fastavro's full schema resolution gives."""

from __future__ import annotations

import datetime as dt
import json
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from fastavro import parse_schema, schemaless_reader, schemaless_writer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemas.avro import EventDecoder, WriterSchemaRegistry
from schemas.avro.resolution import compile_patch
from tests.schemas.avro.avro_testdata import NEWER_DIR, golden, shipped_schema

NEWER = json.loads((NEWER_DIR / "CustomerUpdated.newer.avsc").read_text(encoding="utf-8"))
PAIRS = {
    "created v1 -> v2": (
        shipped_schema("CustomerCreated.v1"),
        shipped_schema("CustomerCreated.v2"),
    ),
    "updated v1 -> v2": (
        shipped_schema("CustomerUpdated.v1"),
        shipped_schema("CustomerUpdated.v2"),
    ),
    "newer -> updated v2": (NEWER, shipped_schema("CustomerUpdated.v2")),
    "updated v2 -> newer": (shipped_schema("CustomerUpdated.v2"), NEWER),
}
_TEXT = st.text(st.characters(codec="utf-8"), max_size=12)


def _datum(schema: Any, named: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values of a parsed schema (the subset of Avro the commerce schemas use)."""
    if isinstance(schema, str) and schema in named:
        return _datum(named[schema], named)
    if isinstance(schema, list):
        return st.one_of([_datum(branch, named) for branch in schema])
    if isinstance(schema, dict):
        kind = schema["type"]
        logical = schema.get("logicalType")
        if logical == "timestamp-millis":
            return st.datetimes(
                min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2200, 1, 1),
                timezones=st.just(dt.UTC),
            ).map(lambda d: d.replace(microsecond=d.microsecond // 1000 * 1000))  # fmt: skip
        if logical == "date":
            return st.dates()
        if kind == "record":
            return st.fixed_dictionaries(
                {f["name"]: _datum(f["type"], named) for f in schema["fields"]}
            )
        if kind == "array":
            return st.lists(_datum(schema["items"], named), max_size=3)
        if kind == "map":
            return st.dictionaries(_TEXT, _datum(schema["values"], named), max_size=3)
        return _datum(kind, named)
    return {
        "null": st.none(),
        "boolean": st.booleans(),
        "int": st.integers(-(2**31), 2**31 - 1),
        "long": st.integers(-(2**63), 2**63 - 1),
        "double": st.floats(allow_nan=False),
        "string": _TEXT,
    }[schema]


@pytest.mark.parametrize("pair", sorted(PAIRS))
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_fast_path_equals_full_resolution(pair: str, data: st.DataObject) -> None:
    writer: Any = parse_schema(PAIRS[pair][0])
    reader: Any = parse_schema(PAIRS[pair][1])
    patch = compile_patch(writer, reader)
    assert patch is not None
    datum = data.draw(_datum(writer, writer["__named_schemas"]))
    out = BytesIO()
    schemaless_writer(out, writer, datum)
    full = schemaless_reader(BytesIO(out.getvalue()), writer, reader)
    fast = patch(schemaless_reader(BytesIO(out.getvalue()), writer))
    assert fast == full


def test_same_schema_needs_no_patch() -> None:
    schema = parse_schema(shipped_schema("CustomerUpdated.v2"))
    patch = compile_patch(schema, schema)
    assert patch is not None
    value = {"a": 1}
    assert patch(value) is value


def _customer_field_changed(change: dict[str, Any]) -> dict[str, Any]:
    schema = shipped_schema("CustomerUpdated.v2")
    customer = next(f for f in schema["fields"] if f["name"] == "customer")["type"]
    customer["fields"][0].update(change)
    return schema


@pytest.mark.parametrize(
    ("writer", "reader"),
    [
        # int -> long promotion
        (_customer_field_changed({"type": "int"}), shipped_schema("CustomerUpdated.v2")),
        # a reader field with aliases
        (shipped_schema("CustomerUpdated.v2"), _customer_field_changed({"aliases": ["entity_id"]})),
        # a reader-only field without a default
        (
            shipped_schema("CustomerUpdated.v1"),
            _customer_field_changed({"name": "entity_id"}),
        ),
    ],
    ids=["promotion", "alias", "no-default"],
)
def test_other_differences_need_full_resolution(writer: Any, reader: Any) -> None:
    assert compile_patch(parse_schema(writer), parse_schema(reader)) is None


def test_decoder_resolves_a_promotion_in_full(tmp_path: Path) -> None:
    narrower = _customer_field_changed({"type": "int"})
    narrower["doc"] = "customer.id as int"
    (tmp_path / "narrow.avsc").write_text(json.dumps(narrower), encoding="utf-8")
    registry = WriterSchemaRegistry.load(tmp_path)
    writer = next(s for s in registry if s.version is None)
    datum = golden("CustomerUpdated.v2.full").datum
    out = BytesIO()
    schemaless_writer(out, writer.parsed, datum)
    decoded = EventDecoder(registry).decode(b"\xc3\x01" + writer.fingerprint + out.getvalue())
    assert decoded.datum == datum
