"""`Mapper.map_decoded` gives what `Mapper.map` gives, for every datum the decoder can return.

Datums are generated from the shipped reader schemas themselves (every field, any value its Avro
type allows: negative and zero ids, empty texts, far timestamps), written with fastavro and read
back with the consumer's decoder, in both of its timestamp forms. The results must be equal, and
the records byte for byte the same JSON.
"""

from __future__ import annotations

from datetime import date
from io import BytesIO
from typing import Any

import orjson
import pytest
from fastavro import schemaless_writer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devenv.sample_events import generate_events
from mappers import Mapper, MapperOptions, Upsert
from mappers.decoded_events import decoded_upsert
from mappers.results import MapResult
from schemas.avro import EventDecoder, EventEncoder, WriterSchemaRegistry
from schemas.avro.framing import single_object_header

REGISTRY = WriterSchemaRegistry.load()
DECODERS = (EventDecoder(REGISTRY), EventDecoder(REGISTRY, timestamps_as_millis=True))
MAPPERS = (Mapper(), Mapper(MapperOptions(email_identity=True)))
SETTINGS = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow], max_examples=150)

_INT = st.integers(-(2**31), 2**31 - 1)
_LONG = st.one_of(st.integers(-3, 5), st.integers(-(2**63), 2**63 - 1))
# Timestamps within what a datetime can hold, and beyond it.
_MILLIS = st.one_of(st.integers(-62135596800000, 253402300799999), st.integers(-(2**63), 2**63 - 1))
_DAYS = st.integers(-719162, 2932896)


def _strategy(schema: Any, named: dict[str, Any]) -> st.SearchStrategy[Any]:
    if isinstance(schema, list):
        return st.one_of(*(_strategy(branch, named) for branch in schema))
    if isinstance(schema, str):
        if schema in named:
            return _strategy(named[schema], named)
        return {
            "null": st.none(),
            "boolean": st.booleans(),
            "int": _INT,
            "long": _LONG,
            "string": st.one_of(st.text(max_size=12), st.sampled_from(["", " ", "a@b.com"])),
        }[schema]
    kind = schema["type"]
    logical = schema.get("logicalType")
    if logical == "timestamp-millis":
        return _MILLIS
    if logical == "date":
        return _DAYS.map(lambda days: date.fromordinal(days + 719163))
    if kind == "record":
        named[schema["name"]] = schema
        return st.fixed_dictionaries(
            {field["name"]: _strategy(field["type"], named) for field in schema["fields"]}
        )
    if kind == "array":
        return st.lists(_strategy(schema["items"], named), max_size=3)
    if kind == "map":
        return st.dictionaries(st.text(max_size=4), _strategy(schema["values"], named), max_size=2)
    return _strategy(kind, named)


def _newest(record_type: str) -> Any:
    return REGISTRY.shipped(record_type)


def _encoded(record_type: str, datum: dict[str, Any]) -> bytes | None:
    shipped = _newest(record_type)
    out = BytesIO()
    try:
        schemaless_writer(out, shipped.parsed, datum)
    except (ValueError, OverflowError):
        return None  # a timestamp fastavro's writer cannot turn into a datetime first
    return single_object_header(shipped.fingerprint) + out.getvalue()


def _same(left: MapResult, right: MapResult) -> None:
    assert left == right
    if isinstance(left, Upsert) and isinstance(right, Upsert):
        assert orjson.dumps(left.record) == orjson.dumps(right.record)


def _datums(record_type: str) -> st.SearchStrategy[dict[str, Any]]:
    return _strategy(_newest(record_type).parsed, {})  # type: ignore[return-value]


@SETTINGS
@given(st.sampled_from(["CustomerCreated", "CustomerUpdated"]).flatmap(
    lambda t: st.tuples(st.just(t), _datums(t))
))  # fmt: skip
def test_generated_datums_map_the_same_both_ways(case: tuple[str, dict[str, Any]]) -> None:
    record_type, datum = case
    value = _encoded(record_type, datum)
    if value is None:
        return
    for decoder in DECODERS:
        try:
            decoded = decoder.decode(value)
        except Exception:  # a value the decoder refuses never reaches the mapper
            continue
        for mapper in MAPPERS:
            _same(
                mapper.map_decoded(decoded.record_type, decoded.datum),
                mapper.map(decoded.record_type, decoded.datum),
            )


def test_sample_events_take_the_short_path_and_map_the_same() -> None:
    encoder = EventEncoder(REGISTRY)
    short = 0
    for event in generate_events(600, seed=8):
        value = encoder.encode_single_object(event.record_type, event.datum)
        for decoder in DECODERS:
            decoded = decoder.decode(value)
            if decoded.record_type != "CustomerDeleted":
                assert decoded_upsert(decoded.datum) is not None
                short += 1
            for mapper in MAPPERS:
                _same(
                    mapper.map_decoded(decoded.record_type, decoded.datum),
                    mapper.map(decoded.record_type, decoded.datum),
                )
    assert short > 1000


def _one_upsert() -> dict[str, Any]:
    encoder = EventEncoder(REGISTRY)
    for event in generate_events(50, seed=9):
        if event.record_type == "CustomerUpdated" and event.datum["customer"]["addresses"]:
            value = encoder.encode_single_object(event.record_type, event.datum)
            return DECODERS[1].decode(value).datum
    raise AssertionError("no update with an address in the sample")


@pytest.mark.parametrize(
    ("where", "value"),
    [
        (("event_id",), ""),
        (("event_time",), 2**62),
        (("customer", "id"), 0),
        (("customer", "id"), -4),
        (("customer", "website_id"), -1),
        (("customer", "group_id"), -1),
        (("customer", "store_id"), -1),
        (("customer", "default_billing"), 0),
        (("customer", "default_shipping"), -9),
        (("customer", "created_at"), -(2**63)),
        (("customer", "updated_at"), "2024-01-01T00:00:00Z"),
        (("customer", "dob"), 19000),
        (("customer", "addresses", 0, "id"), 0),
    ],
)
def test_values_avro_allows_but_the_contract_refuses_are_refused_as_before(
    where: tuple[str | int, ...], value: object
) -> None:
    datum = _one_upsert()
    target: Any = datum
    for step in where[:-1]:
        target = target[step]
    target[where[-1]] = value
    assert decoded_upsert(datum) is None
    for mapper in MAPPERS:
        _same(mapper.map_decoded("CustomerUpdated", datum), mapper.map("CustomerUpdated", datum))
