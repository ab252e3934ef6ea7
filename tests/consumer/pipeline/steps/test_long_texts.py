"""Valid events with long texts, through the real decode, map and validate steps: each is either
passed on to delivery or dead-lettered by the record size check, never by a length cap."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from consumer.config.mapper_options import options_from_settings
from consumer.config.settings import XdmSettings
from consumer.pipeline.steps.decode import DecodeStep
from consumer.pipeline.steps.map import MapStep
from consumer.pipeline.steps.validate import RECORD_TOO_LARGE, ValidateStep
from devenv.sample_events import SampleEvent, generate_events
from mappers import Mapper
from schemas.avro import EventDecoder, EventEncoder, WriterSchemaRegistry
from schemas.limits import RECORD_LIMIT
from schemas.xdm import compile_validator
from tests.consumer.pipeline.fakes import Collector, DeadLetters, make_record

REGISTRY = WriterSchemaRegistry.load()
ENCODER = EventEncoder(REGISTRY)
OPTIONS = options_from_settings(XdmSettings(), None)
UPSERTS = [
    e
    for e in generate_events(80, seed=23)
    if not e.is_poison and e.record_type != "CustomerDeleted"
]
WITH_ADDRESS = [e for e in UPSERTS if e.datum["customer"]["addresses"]]
# Free-text fields the record carries as they are; "Zedleak" marks them in error messages.
PIECES = ("Zedleak ", "Jürgen ", "山田 ", "Ωμέγα ", "عمر ")


def _chain() -> tuple[DecodeStep, Collector, DeadLetters]:
    delivered, dead = Collector(), DeadLetters()
    validate = ValidateStep(compile_validator(OPTIONS.xdm), RECORD_LIMIT, delivered, dead)
    mapped = MapStep(Mapper(OPTIONS), validate, dead)
    return (
        DecodeStep(EventDecoder(REGISTRY, timestamps_as_millis=True), mapped, dead),
        delivered,
        dead,
    )


def _long(length: int, piece: str = "Zedleak ") -> str:
    return (piece * (length // len(piece) + 1))[:length]


def _with(event: SampleEvent, path: tuple[Any, ...], text: str) -> bytes:
    datum = copy.deepcopy(event.datum)
    node = datum
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = text
    return ENCODER.encode_single_object(event.record_type, datum)


def _size(detail: dict[str, object]) -> int:
    size = detail["size"]
    assert isinstance(size, int)
    return size


def _run(value: bytes) -> tuple[Collector, DeadLetters]:
    first, delivered, dead = _chain()
    first.submit(make_record(0, value=value))
    assert len(delivered.records) + len(dead.items) == 1
    return delivered, dead


def test_a_70000_character_name_is_delivered() -> None:
    delivered, dead = _run(_with(UPSERTS[0], ("customer", "lastname"), "x" * 70_000))
    assert not dead.items
    (record,) = delivered.records
    assert record.entity_json is not None
    assert RECORD_LIMIT > len(record.entity_json) > 70_000


def test_a_110000_character_name_is_too_large_and_no_text_shows() -> None:
    delivered, dead = _run(_with(UPSERTS[0], ("customer", "lastname"), _long(110_000)))
    assert not delivered.records
    ((_, reason),) = dead.items
    assert reason.error_class == RECORD_TOO_LARGE
    assert _size(reason.detail) > RECORD_LIMIT
    assert "Zedleak" not in f"{reason.message} {reason.detail}"


_PATHS: list[tuple[Any, ...]] = [
    ("customer", "firstname"),
    ("customer", "lastname"),
    ("customer", "middlename"),
    ("customer", "addresses", 0, "city"),
    ("customer", "addresses", 0, "street", 0),
]


@settings(max_examples=60, deadline=None)
@given(
    event=st.sampled_from(WITH_ADDRESS),
    path=st.sampled_from(_PATHS),
    length=st.one_of(
        st.integers(60_000, 140_000),
        st.integers(RECORD_LIMIT - 3_000, RECORD_LIMIT + 500),  # around the edge
    ),
    piece=st.sampled_from(PIECES),
)
def test_long_texts_are_delivered_or_refused_by_size_only(
    event: SampleEvent, path: tuple[Any, ...], length: int, piece: str
) -> None:
    delivered, dead = _run(_with(event, path, _long(length, piece)))
    if delivered.records:
        entity = delivered.records[0].entity_json
        assert entity is not None
        assert len(entity) <= RECORD_LIMIT
        return
    ((_, reason),) = dead.items
    assert reason.error_class == RECORD_TOO_LARGE, reason.message
    assert _size(reason.detail) > RECORD_LIMIT
    assert piece.strip() not in f"{reason.message} {reason.detail}"


@pytest.mark.parametrize("length", [65_537, 90_000])
def test_a_long_event_id_is_no_reason_to_refuse(length: int) -> None:
    # The event id is not in the record (only its hash is): any length maps.
    event = copy.deepcopy(UPSERTS[0])
    delivered, dead = _run(_with(event, ("event_id",), "e" * length))
    assert not dead.items
    assert len(delivered.records) == 1
