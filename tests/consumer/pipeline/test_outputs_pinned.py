"""What the service makes of a generated sample set, pinned by hash: `profile-sync map`'s output
lines, and the decode -> map -> validate steps' results (entity bytes, operation, ordering key,
customer, or the dead letter) for the same events read from Avro, every shipped writer version.

The hashes were taken before the performance work on these steps (decoder, mapper, validator,
serialisation); a change of any output byte fails here. A deliberate change of output updates
the hash in the same commit, and says why.
"""

from __future__ import annotations

import hashlib
import io
from typing import Any

import orjson

from consumer.commands.map import run_map
from consumer.config.mapper_options import options_from_settings
from consumer.config.settings import XdmSettings
from consumer.pipeline.errors import DeadLetter
from consumer.pipeline.record import SourceRecord
from consumer.pipeline.steps.decode import DecodeStep
from consumer.pipeline.steps.map import MapStep
from consumer.pipeline.steps.validate import ValidateStep
from devenv.sample_events import generate_events
from mappers.mapper import Mapper
from schemas.avro import EventDecoder, EventEncoder, WriterSchemaRegistry
from schemas.limits import RECORD_LIMIT
from schemas.xdm import compile_validator
from tests.consumer.pipeline.fakes import Collector

EVENTS = 3000
SEED = 2026
POISON_SHARE = 0.08

MAP_OUTPUT_SHA256 = "a4f59cad423fae9724961367ab923b7b1e5f789aaed41749b69015aacea1ad5b"
STEPS_OUTPUT_SHA256 = "361c3070e2f1354f7449c71b261eeef1eef090e5efa7d6c75316a10dea6c9326"


def _sample_lines() -> str:
    lines = [
        orjson.dumps({"type": e.record_type, "event": e.datum}).decode()
        for e in generate_events(EVENTS, SEED, POISON_SHARE)
        if e.poison is None and e.poison_kind != "truncated" and e.poison_kind != "unknown_schema"
    ]
    return "\n".join(lines) + "\n"


def test_map_output_on_the_sample_set_is_unchanged() -> None:
    out, err = io.StringIO(), io.StringIO()
    options = options_from_settings(XdmSettings(), None)
    run_map(io.StringIO(_sample_lines()), out, options, err)
    assert out.getvalue().count("\n") > EVENTS * 0.9
    assert hashlib.sha256(out.getvalue().encode()).hexdigest() == MAP_OUTPUT_SHA256


class _DeadLetters:
    def __init__(self) -> None:
        self.items: list[tuple[SourceRecord, DeadLetter]] = []

    def dead_letter(self, record: SourceRecord, reason: DeadLetter) -> None:
        self.items.append((record, reason))


def _values() -> list[bytes]:
    registry = WriterSchemaRegistry.load(None)
    encoder = EventEncoder(registry)
    values = []
    for n, event in enumerate(generate_events(EVENTS, SEED, POISON_SHARE)):
        # Writer versions 1 and 2 in turn (the newest where a type has no version 2): the
        # decoder resolves each against the reader schema.
        version = 1 + n % 2

        def encode(record_type: str, datum: dict[str, Any], v: int = version) -> bytes:
            try:
                return encoder.encode_single_object(record_type, datum, version=v)
            except KeyError:
                return encoder.encode_single_object(record_type, datum)

        values.append(event.value(encode))
    return values


def test_decode_map_validate_outputs_on_the_sample_set_are_unchanged() -> None:
    options = options_from_settings(XdmSettings(), None)
    out, dead = Collector(), _DeadLetters()
    validate = ValidateStep(compile_validator(options.xdm), RECORD_LIMIT, out, dead)
    head = DecodeStep(
        EventDecoder(WriterSchemaRegistry.load(None), timestamps_as_millis=True),
        MapStep(Mapper(options), validate, dead),
        dead,
    )
    for offset, value in enumerate(_values()):
        head.submit(SourceRecord("t", 0, offset, None, value, None, None, 0.0))
    rows: dict[int, bytes] = {}
    for r in out.records:
        rows[r.offset] = (
            orjson.dumps([r.operation, list(r.ordering_key), r.customer_id, r.event_type])
            + r.entity_json
        )
    for r, reason in dead.items:
        rows[r.offset] = orjson.dumps(
            [reason.error_class, reason.message, reason.stage, reason.detail, r.customer_id]
        )
    assert len(rows) == EVENTS
    assert len(dead.items) > 0
    digest = hashlib.sha256(b"\n".join(rows[o] for o in sorted(rows))).hexdigest()
    assert digest == STEPS_OUTPUT_SHA256
