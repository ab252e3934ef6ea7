"""Fuzzing the decoder: mutated, truncated and crafted single-object and Confluent-framed values.

Whatever the bytes, `EventDecoder.decode` returns an event or raises `DecodeError` (the registry
here is in memory, so `TransientDecodeError` cannot happen), within the per-record budget of
tests/support/budget.py. The seeds are the golden vectors (every shipped schema version), in both
framings, read by both decoder forms (datetimes, and epoch millis as `run` uses).

`make test` runs Hypothesis' default example count; `make fuzz` the "fuzz" profile.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemas.avro import ConfluentRegistryClient, DecodeError, EventDecoder, WriterSchemaRegistry
from schemas.avro import errors as decode_errors
from schemas.avro.framing import (
    CONFLUENT_HEADER_SIZE,
    SINGLE_OBJECT_HEADER_SIZE,
    confluent_header,
)
from tests.schemas.avro.avro_testdata import GOLDEN_VECTORS, FakeRegistryApi
from tests.support.budget import MAX_RECORD_S, traced, within_budget

pytestmark = pytest.mark.fuzz

FUZZ = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])

REGISTRY = WriterSchemaRegistry.load()
API = FakeRegistryApi()
SCHEMA_IDS = {schema.fingerprint: API.add(schema.text) for schema in REGISTRY}
CLIENT = ConfluentRegistryClient("http://registry.test", transport=API.transport())
DECODERS = {
    "datetimes": EventDecoder(REGISTRY, CLIENT),
    "millis": EventDecoder(REGISTRY, CLIENT, timestamps_as_millis=True),
}


def _seeds() -> list[tuple[str, bytes, int]]:
    """(label, valid value, header size) for every golden vector in both framings."""
    found = []
    for vector in GOLDEN_VECTORS:
        body = vector.value[SINGLE_OBJECT_HEADER_SIZE:]
        schema_id = SCHEMA_IDS[vector.value[2:SINGLE_OBJECT_HEADER_SIZE]]
        found.append((f"{vector.name} single-object", vector.value, SINGLE_OBJECT_HEADER_SIZE))
        found.append(
            (f"{vector.name} confluent", confluent_header(schema_id) + body, CONFLUENT_HEADER_SIZE)
        )
    return found


SEEDS = _seeds()
# Zig-zag varints a hostile writer could put where a length or a block count goes: huge
# positive and negative values, and one that never ends.
CRAFTED_VARINTS = (
    b"\xfe\xff\xff\xff\x0f",  # 2**31 - 1
    b"\xfe\xff\xff\xff\xff\xff\xff\xff\xff\x01",  # 2**63 - 1
    b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01",  # -2**63
    b"\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x01",  # longer than 64 bits
    b"\xff" * 16,  # no final byte
)


def _warm() -> None:
    # Plans (schema parsing) are built once per schema; that is not the per-record cost.
    for decoder in DECODERS.values():
        for _label, value, _header in SEEDS:
            decoder.decode(value)


_warm()


def _check(decoder_name: str, value: bytes, label: str) -> None:
    decoder = DECODERS[decoder_name]
    raised = within_budget(lambda: decoder.decode(value), f"{label} ({decoder_name})")
    if raised is not None and not isinstance(raised, DecodeError):
        raise AssertionError(
            f"{label} ({decoder_name}): {type(raised).__name__} escaped the decoder for "
            f"value {value.hex()}"
        ) from raised


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, bytes]:
    label, seed, _header = draw(st.sampled_from(SEEDS))
    value = bytearray(seed)
    steps = draw(st.integers(1, 6))
    for _ in range(steps):
        at = draw(st.integers(0, max(0, len(value) - 1)))
        kind = draw(st.sampled_from(["flip", "set", "insert", "delete", "varint", "truncate"]))
        if kind == "flip" and value:
            value[at] ^= 1 << draw(st.integers(0, 7))
        elif kind == "set" and value:
            value[at] = draw(st.integers(0, 255))
        elif kind == "insert":
            value[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif kind == "delete":
            del value[at : at + draw(st.integers(1, 16))]
        elif kind == "varint":
            value[at:at] = draw(st.sampled_from(CRAFTED_VARINTS))
        elif kind == "truncate":
            del value[at:]
    return f"{label} mutated", bytes(value)


@FUZZ
@given(case=mutated(), decoder=st.sampled_from(sorted(DECODERS)))
def test_mutated_values_raise_only_decode_errors_within_budget(
    case: tuple[str, bytes], decoder: str
) -> None:
    with traced():
        _check(decoder, case[1], case[0])


@FUZZ
@given(
    header=st.sampled_from([seed[1][: seed[2]] for seed in SEEDS]),
    body=st.binary(max_size=2048),
    decoder=st.sampled_from(sorted(DECODERS)),
)
def test_random_bodies_behind_a_known_header(header: bytes, body: bytes, decoder: str) -> None:
    with traced():
        _check(decoder, header + body, "random body")


@FUZZ
@given(
    seed=st.sampled_from(SEEDS),
    where=st.floats(0, 1),
    varint=st.sampled_from(CRAFTED_VARINTS),
    overwrite=st.booleans(),
    decoder=st.sampled_from(sorted(DECODERS)),
)
def test_crafted_lengths_and_block_counts(
    seed: tuple[str, bytes, int], where: float, varint: bytes, overwrite: bool, decoder: str
) -> None:
    """A huge length or block count anywhere in the body: no unbounded allocation or loop."""
    label, value, header = seed
    at = header + int(where * (len(value) - header))
    tail = value[at + len(varint) :] if overwrite else value[at:]
    with traced():
        _check(decoder, value[:at] + varint + tail, f"{label} crafted varint at {at}")


@FUZZ
@given(value=st.binary(max_size=64), decoder=st.sampled_from(sorted(DECODERS)))
def test_arbitrary_short_values(value: bytes, decoder: str) -> None:
    with traced():
        _check(decoder, value, "arbitrary value")


def _prefix_classes(decoder: EventDecoder) -> dict[str, list[tuple[str, int]]]:
    """For every strict prefix of every seed that is longer than its header: the class the
    decoder gives it ("decoded" when it did not fail, the exception's name when not a
    DecodeError)."""
    found: dict[str, list[tuple[str, int]]] = {}
    for label, value, header in SEEDS:
        for cut in range(header, len(value)):
            try:
                decoder.decode(value[:cut])
                outcome = "decoded"
            except DecodeError as exc:
                outcome = exc.error_class
            except Exception as exc:
                outcome = type(exc).__name__
            found.setdefault(outcome, []).append((label, cut))
    return found


@pytest.mark.parametrize("decoder", sorted(DECODERS))
def test_every_truncation_is_refused_with_a_decode_error(decoder: str) -> None:
    classes = _prefix_classes(DECODERS[decoder])
    assert set(classes) <= {decode_errors.TRUNCATED, decode_errors.MALFORMED_BODY}, {
        k: v[:3] for k, v in classes.items()
    }


@pytest.mark.parametrize("decoder", sorted(DECODERS))
def test_every_truncation_is_classed_decode_truncated(decoder: str) -> None:
    classes = _prefix_classes(DECODERS[decoder])
    wrong = {k: v[:3] for k, v in classes.items() if k != decode_errors.TRUNCATED}
    assert not wrong, wrong


def test_the_budget_check_catches_a_runaway_allocation() -> None:
    """The harness can fail: a call that allocates 20 MB is over budget."""
    hog: Callable[[], object] = lambda: bytearray(20 * 1024 * 1024)  # noqa: E731
    with traced(), pytest.raises(AssertionError, match="allocated"):
        within_budget(hog, "hog")


def test_the_budget_check_catches_a_slow_record() -> None:
    def spin() -> None:
        until = time.thread_time() + 2 * MAX_RECORD_S
        while time.thread_time() < until:
            pass

    with traced(), pytest.raises(AssertionError, match="ms of CPU"):
        within_budget(spin, "spin")
