"""A value cut short, anywhere, is `decode.truncated`; a byte the value holds never is.

fastavro reports a value that ends inside a variable-length integer with IndexError, not
EOFError, as it does an enum or union index out of range: the decoder tells them apart.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from io import BytesIO

import pytest
from fastavro import schemaless_writer
from hypothesis import given, settings
from hypothesis import strategies as st

from devenv.sample_events import SampleEvent, generate_events
from schemas.avro import (
    ConfluentRegistryClient,
    DecodeError,
    EventDecoder,
    EventEncoder,
    WriterSchemaRegistry,
)
from schemas.avro.framing import single_object_header
from schemas.avro.writer_schema import parse_writer_schema
from tests.schemas.avro.avro_testdata import FakeRegistryApi, shipped_schema

Framing = Callable[[SampleEvent], bytes]


@pytest.fixture(scope="module")
def framings() -> Iterator[dict[str, tuple[EventDecoder, Framing]]]:
    registry = WriterSchemaRegistry.load()
    encoder = EventEncoder(registry)
    api = FakeRegistryApi()
    client = ConfluentRegistryClient("http://registry.test", transport=api.transport())
    # As `run` builds it (timestamps as epoch milliseconds) and as `map`-like callers do.
    decoders = [EventDecoder(registry, client, timestamps_as_millis=m) for m in (True, False)]
    yield {
        "single-object": (
            decoders[0],
            lambda e: encoder.encode_single_object(e.record_type, e.datum),
        ),
        "single-object/datetimes": (
            decoders[1],
            lambda e: encoder.encode_single_object(e.record_type, e.datum),
        ),
        "confluent": (
            decoders[0],
            lambda e: encoder.encode_confluent(e.record_type, e.datum, client),
        ),
    }
    client.close()


def _good_events(count: int, seed: int) -> list[SampleEvent]:
    return [e for e in generate_events(count, seed=seed) if not e.is_poison]


def _cut_classes(decoder: EventDecoder, value: bytes, cuts: range) -> dict[int, str]:
    classes: dict[int, str] = {}
    for cut in cuts:
        try:
            decoder.decode(value[:cut])
        except DecodeError as exc:
            classes[cut] = exc.error_class
        else:
            classes[cut] = "decoded"
    return classes


@pytest.mark.parametrize("framing", ["single-object", "single-object/datetimes", "confluent"])
def test_every_cut_of_sample_events_is_truncated(
    framings: dict[str, tuple[EventDecoder, Framing]], framing: str
) -> None:
    decoder, frame = framings[framing]
    cuts = 0
    for event in _good_events(60, seed=19):
        value = frame(event)
        assert decoder.decode(value).datum is not None
        classes = _cut_classes(decoder, value, range(1, len(value)))
        wrong = {cut: cls for cut, cls in classes.items() if cls != "decode.truncated"}
        assert not wrong, f"{event.record_type} of {len(value)} bytes: {wrong}"
        cuts += len(classes)
    assert cuts > 10_000


@settings(max_examples=150, deadline=None)
@given(seed=st.integers(0, 2**32), data=st.data())
def test_a_cut_anywhere_in_any_event_is_truncated(
    framings: dict[str, tuple[EventDecoder, Framing]], seed: int, data: st.DataObject
) -> None:
    events = _good_events(8, seed=seed)
    event = data.draw(st.sampled_from(events))
    decoder, frame = framings[data.draw(st.sampled_from(sorted(framings)))]
    value = frame(event)
    cut = data.draw(st.integers(1, len(value) - 1))
    with pytest.raises(DecodeError) as raised:
        decoder.decode(value[:cut])
    assert raised.value.error_class == "decode.truncated"


def _last_field_enum() -> tuple[EventDecoder, bytes]:
    """A decoder knowing a CustomerDeleted writer with an enum after its fields, and a value of
    it without the enum's index byte."""
    schema = shipped_schema("CustomerDeleted.v1")
    kind = {"type": "enum", "name": "Kind", "symbols": ["A"]}
    schema["fields"] = [*schema["fields"], {"name": "kind", "type": kind, "default": "A"}]
    writer = parse_writer_schema(json.dumps(schema), origin="test")
    registry = WriterSchemaRegistry([*WriterSchemaRegistry.load(), writer])
    event = next(e for e in _good_events(40, seed=2) if e.record_type == "CustomerDeleted")
    body = BytesIO()
    schemaless_writer(body, writer.parsed, event.datum | {"kind": "A"})
    value = single_object_header(writer.fingerprint) + body.getvalue()
    decoder = EventDecoder(registry)
    assert decoder.decode(value).record_type == "CustomerDeleted"
    return decoder, value[:-1]


@pytest.mark.parametrize("index", [b"\x04", b"\x7e"])
def test_an_index_out_of_range_in_the_last_byte_is_malformed_not_truncated(index: bytes) -> None:
    decoder, header = _last_field_enum()
    with pytest.raises(DecodeError) as raised:
        decoder.decode(header + index)
    assert raised.value.error_class == "decode.malformed_body"


def test_a_variable_length_integer_that_never_ends_is_malformed() -> None:
    decoder, header = _last_field_enum()
    with pytest.raises(DecodeError) as raised:
        decoder.decode(header + b"\xff" * 12)
    assert raised.value.error_class == "decode.malformed_body"


def test_a_cut_inside_a_variable_length_integer_is_truncated() -> None:
    decoder, header = _last_field_enum()
    for cut in (b"\x80", b"\xff" * 9):
        with pytest.raises(DecodeError) as raised:
            decoder.decode(header + cut)
        assert raised.value.error_class == "decode.truncated"


@pytest.mark.parametrize(
    ("value", "named"),
    [
        (b"\xc3\x02" + bytes(8), "0xc3 0x02"),
        (b"{}", "0x7b 0x7d"),
        (b"\x7b", "byte 0x7b"),
    ],
)
def test_an_unknown_start_names_its_bytes(value: bytes, named: str) -> None:
    with pytest.raises(DecodeError) as raised:
        EventDecoder(WriterSchemaRegistry.load()).decode(value)
    assert raised.value.error_class == "decode.unknown_magic"
    assert named in raised.value.message
