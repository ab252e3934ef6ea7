"""The sample-event generator: reproducible, realistic, Avro-ready, poison marked."""

from __future__ import annotations

import unicodedata
from collections import Counter, defaultdict
from datetime import date, datetime

import pytest

from devenv.sample_events import (
    BYTE_POISON,
    MAPPING_POISON,
    SampleEvent,
    expected_error_class,
    generate_events,
)
from mappers import Delete, MapFailure, Mapper, Upsert
from schemas.avro import DecodeError, EventDecoder, EventEncoder, WriterSchemaRegistry


@pytest.fixture(scope="module")
def events() -> list[SampleEvent]:
    return list(generate_events(1500, seed=11, poison_share=0.1))


@pytest.fixture(scope="module")
def registry() -> WriterSchemaRegistry:
    return WriterSchemaRegistry.load(None)


def test_same_seed_same_events() -> None:
    first = list(generate_events(200, seed=5, poison_share=0.2))
    again = list(generate_events(200, seed=5, poison_share=0.2))
    other = list(generate_events(200, seed=6, poison_share=0.2))
    assert first == again
    assert first != other
    assert not {e.key for e in first} & {e.key for e in other}


def test_count_and_bounds() -> None:
    assert len(list(generate_events(0, seed=1))) == 0
    assert len(list(generate_events(37, seed=1))) == 37
    with pytest.raises(ValueError, match="poison_share"):
        generate_events(1, seed=1, poison_share=1.5)


def test_no_poison_by_default() -> None:
    assert not any(event.is_poison for event in generate_events(500, seed=2))


def test_poison_share_is_respected(events: list[SampleEvent]) -> None:
    poison = [event for event in events if event.is_poison]
    assert 0.06 < len(poison) / len(events) < 0.14
    kinds = Counter(event.poison_kind for event in poison)
    assert set(kinds) == set(MAPPING_POISON) | set(BYTE_POISON)
    everything = list(generate_events(50, seed=3, poison_share=1.0))
    assert all(event.is_poison for event in everything)


def test_every_record_type_and_several_versions_per_customer(events: list[SampleEvent]) -> None:
    types = Counter(event.record_type for event in events)
    assert set(types) == {"CustomerCreated", "CustomerUpdated", "CustomerDeleted"}
    by_customer: dict[str, list[SampleEvent]] = defaultdict(list)
    for event in events:
        by_customer[event.key].append(event)
    versions = [len(history) for history in by_customer.values()]
    assert max(versions) >= 4
    for key, history in by_customer.items():
        assert history[0].record_type == "CustomerCreated"
        assert all(event.record_type != "CustomerCreated" for event in history[1:])
        if any(event.record_type == "CustomerDeleted" for event in history):
            assert history[-1].record_type == "CustomerDeleted"
        updated = [e.datum["customer"]["updated_at"] for e in history if "customer" in e.datum]
        assert updated == sorted(updated)
        assert len(set(updated)) == len(updated)
        for event in history:
            customer_id = event.datum.get("customer", {}).get("id", event.datum.get("customer_id"))
            assert str(customer_id) == key


def test_created_events_have_equal_created_and_updated(events: list[SampleEvent]) -> None:
    for event in events:
        if event.record_type == "CustomerCreated":
            customer = event.datum["customer"]
            assert customer["created_at"] == customer["updated_at"]


def _scripts(text: str) -> set[str]:
    found = set()
    for char in text:
        if char.isalpha():
            name = unicodedata.name(char, "")
            for script in ("LATIN", "CYRILLIC", "GREEK", "CJK", "HIRAGANA", "ARABIC"):
                if name.startswith(script):
                    found.add(script)
    return found


def test_several_countries_and_scripts(events: list[SampleEvent]) -> None:
    countries: set[str] = set()
    scripts: set[str] = set()
    for event in events:
        customer = event.datum.get("customer")
        if customer is None:
            continue
        scripts |= _scripts(f"{customer.get('firstname') or ''}{customer.get('lastname') or ''}")
        countries |= {address["country_id"] for address in customer["addresses"]}
    assert {"LATIN", "CYRILLIC", "GREEK", "CJK", "ARABIC"} <= scripts
    assert len(countries) >= 6


def test_optional_fields_are_sometimes_missing(events: list[SampleEvent]) -> None:
    customers = [event.datum["customer"] for event in events if "customer" in event.datum]
    for field in ("firstname", "dob", "gender", "middlename", "default_billing"):
        values = [customer.get(field) for customer in customers]
        assert None in values
        assert any(value is not None for value in values)
    assert any(not customer["addresses"] for customer in customers)
    street_counts = {len(a["street"]) for c in customers for a in c["addresses"]}
    assert street_counts == {1, 2, 3, 4}


def test_datums_are_avro_ready(events: list[SampleEvent]) -> None:
    for event in events:
        assert isinstance(event.datum["event_time"], datetime)
        assert event.datum["event_time"].tzinfo is not None
        customer = event.datum.get("customer")
        if customer is not None:
            assert isinstance(customer["created_at"], datetime)
            assert customer["dob"] is None or type(customer["dob"]) is date


def test_events_round_trip_through_avro_and_map_as_marked(
    events: list[SampleEvent], registry: WriterSchemaRegistry
) -> None:
    encoder = EventEncoder(registry)
    decoder = EventDecoder(registry, None)
    mapper = Mapper()
    outcomes: Counter[str] = Counter()
    for event in events:
        value = event.value(encoder.encode_single_object)
        if event.poison_kind in BYTE_POISON:
            expected = expected_error_class(event.poison_kind, "single-object")
            with pytest.raises(DecodeError) as raised:
                decoder.decode(value)
            assert raised.value.error_class == expected
            outcomes["decode"] += 1
            continue
        decoded = decoder.decode(value)
        result = mapper.map(decoded.record_type, decoded.datum)
        if event.poison_kind == "invalid_email":
            assert isinstance(result, MapFailure)
            assert result.error_class == "map.invalid_email"
            outcomes["map"] += 1
            continue
        assert isinstance(result, Upsert | Delete), result
        assert result.customer_id == int(event.key)
        # The Avro path and the datum itself map to the same record.
        assert mapper.map(event.record_type, event.datum) == result
        outcomes["ok"] += 1
    assert outcomes["decode"] > 0
    assert outcomes["map"] > 0
    assert outcomes["ok"] > 0


def test_expected_classes_per_wire_format() -> None:
    assert expected_error_class("unknown_schema", "single-object") == "decode.unknown_fingerprint"
    assert expected_error_class("unknown_schema", "confluent") == "decode.unknown_schema_id"
    assert expected_error_class("invalid_email", "confluent") == "map.invalid_email"


def test_byte_poison_values() -> None:
    def encode(record_type: str, datum: object) -> bytes:
        return b"\xc3\x01" + bytes(range(8)) + b"body"

    base = next(iter(generate_events(1, seed=1)))
    truncated = SampleEvent(base.key, base.record_type, base.datum, "truncated")
    assert truncated.value(encode) == b"\xc3\x01\x00\x01"
    unknown = SampleEvent(base.key, base.record_type, base.datum, "unknown_schema")
    assert unknown.value(encode) == b"\xc3\x01" + bytes(255 - b for b in range(8)) + b"body"
    assert unknown.value(lambda t, d: b"\x00\x00\x00\x00\x01body") == b"\x00\x7f\xff\xff\xffbody"
    fixed = SampleEvent(base.key, base.record_type, base.datum, "empty_value", b"")
    assert fixed.value(encode) == b""


def test_no_real_domains_in_emails(events: list[SampleEvent]) -> None:
    for event in events:
        customer = event.datum.get("customer")
        if customer is not None and event.poison_kind is None:
            domain = customer["email"].strip().lower().rsplit("@", 1)[1]
            assert domain in {"example.com", "example.org", "example.net"}
