"""Hostile and random values through the real decode, map and validate steps, as `run` builds
them: every record is passed on or dead-lettered with a registered class; no exception escapes
(one would stop the consumer on a record instead of dead-lettering it)."""

from __future__ import annotations

from io import BytesIO

import pytest
from fastavro import schemaless_writer
from fastavro.utils import generate_many
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consumer.config.mapper_options import options_from_settings
from consumer.config.settings import XdmSettings
from consumer.pipeline.steps.decode import DecodeStep
from consumer.pipeline.steps.map import MapStep
from consumer.pipeline.steps.validate import ValidateStep
from devenv.sample_events import generate_events
from mappers import Mapper
from schemas.avro import EventDecoder, EventEncoder, WriterSchemaRegistry
from schemas.avro.framing import single_object_header
from schemas.error_classes import ERROR_CLASSES
from schemas.limits import RECORD_LIMIT
from schemas.xdm import compile_validator
from tests.consumer.pipeline.fakes import Collector, DeadLetters, make_record

REGISTRY = WriterSchemaRegistry.load()
ENCODER = EventEncoder(REGISTRY)
CORPUS = [
    ENCODER.encode_single_object(e.record_type, e.datum)
    for e in generate_events(120, seed=3)
    if not e.is_poison
]
HEADER = 10


class Chain:
    def __init__(self, tenant: bool = False) -> None:
        options = options_from_settings(
            XdmSettings(xdm_tenant_fields=tenant), "acme" if tenant else None
        )
        self.delivered, self.dead = Collector(), DeadLetters()
        validate = ValidateStep(
            compile_validator(options.xdm), RECORD_LIMIT, self.delivered, self.dead
        )
        mapped = MapStep(Mapper(options), validate, self.dead)
        decoder = EventDecoder(REGISTRY, timestamps_as_millis=True)
        self.first = DecodeStep(decoder, mapped, self.dead)
        self.offset = 0

    def submit(self, value: bytes) -> None:
        before = len(self.delivered.records) + len(self.dead.items)
        self.first.submit(make_record(self.offset, value=value))
        self.offset += 1
        assert len(self.delivered.records) + len(self.dead.items) == before + 1
        assert set(self.dead.classes) <= set(ERROR_CLASSES)


CHAIN = Chain()


def _zigzag(n: int) -> bytes:
    n = (n << 1) ^ (n >> 63)
    out = bytearray()
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


HUGE = st.sampled_from([2**62, 2**40, 2**31, 10**9, -(2**62), -(2**40), -1, -2])


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    value = bytearray(draw(st.sampled_from(CORPUS)))
    at = draw(st.integers(HEADER, len(value) - 1))
    kind = draw(st.integers(0, 6))
    if kind == 0:  # bit flips in the body
        for i in draw(st.lists(st.integers(HEADER, len(value) - 1), min_size=1, max_size=8)):
            value[i] ^= 1 << draw(st.integers(0, 7))
    elif kind == 1:  # cut short
        value = value[:at]
    elif kind == 2:  # a random body
        value = value[:HEADER] + bytearray(draw(st.binary(max_size=400)))
    elif kind == 3:  # a huge or negative length or count spliced in
        value[at:at] = _zigzag(draw(HUGE))
    elif kind == 4:  # overwritten by one
        number = _zigzag(draw(HUGE))
        value[at : at + len(number)] = number
    elif kind == 5:  # a slice repeated
        end = draw(st.integers(at, len(value)))
        value[end:end] = value[at:end] * draw(st.integers(1, 50))
    else:  # random bytes anywhere, headers too
        for i in draw(st.lists(st.integers(0, len(value) - 1), min_size=1, max_size=4)):
            value[i] = draw(st.integers(0, 255))
    return bytes(value)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=mutated())
def test_mutated_events_are_passed_on_or_dead_lettered(value: bytes) -> None:
    CHAIN.submit(value)


@pytest.mark.parametrize("number", [2**62, 2**31, 10**9, -5, -(2**62)])
def test_a_crafted_length_at_every_position_is_dead_lettered(number: int) -> None:
    # e.g. the first string's length (the event id's) claiming 2**62 bytes: refused at once,
    # no allocation of that size is attempted.
    value = CORPUS[0]
    crafted = _zigzag(number)
    chain = Chain()
    for at in range(HEADER, len(value)):
        chain.submit(value[:at] + crafted + value[at + 1 :])
    assert len(chain.dead.items) + len(chain.delivered.records) == len(value) - HEADER


@pytest.mark.parametrize("tenant", [False, True])
def test_random_datums_of_every_shipped_writer_are_passed_on_or_dead_lettered(
    tenant: bool,
) -> None:
    chain = Chain(tenant)
    for schema in REGISTRY:
        if schema.version is None:
            continue
        for datum in generate_many(schema.parsed, 150):
            body = BytesIO()
            schemaless_writer(body, schema.parsed, datum)
            chain.submit(single_object_header(schema.fingerprint) + body.getvalue())
    assert chain.dead.items  # random datums break the contract's rules
