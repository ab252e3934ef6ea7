"""The mapper gives the same result for both forms the consumer's decoder can hand it (datetimes
or epoch milliseconds for the timestamps), and maps an address both defaults name once."""

from __future__ import annotations

import pytest

from mappers import Mapper, Upsert
from mappers.notes import COUNTRY_CODE_DROPPED, DEFAULT_ADDRESS_NOT_FOUND
from schemas.avro import EventDecoder, WriterSchemaRegistry
from tests.mappers.inputs import address, customer, upsert_event
from tests.schemas.avro.avro_testdata import GOLDEN_VECTORS, GoldenVector

MAPPER = Mapper()
REGISTRY = WriterSchemaRegistry.load()


@pytest.mark.parametrize("vector", GOLDEN_VECTORS, ids=[v.name for v in GOLDEN_VECTORS])
def test_millis_and_datetimes_map_alike(vector: GoldenVector) -> None:
    with_datetimes = EventDecoder(REGISTRY).decode(vector.value)
    with_millis = EventDecoder(REGISTRY, timestamps_as_millis=True).decode(vector.value)
    assert isinstance(with_millis.datum["event_time"], int)
    expected = MAPPER.map(with_datetimes.record_type, with_datetimes.datum)
    assert MAPPER.map(with_millis.record_type, with_millis.datum) == expected


def test_shared_default_address_gives_equal_separate_objects() -> None:
    event = upsert_event(customer(default_billing=7, default_shipping=7, addresses=[address()]))
    result = MAPPER.map("CustomerUpdated", event)
    assert isinstance(result, Upsert)
    record = result.record
    assert record["shippingAddress"] == record["billingAddress"]
    assert record["shippingAddress"] is not record["billingAddress"]
    assert record["shippingAddressPhone"] == record["billingAddressPhone"]
    assert record["shippingAddressPhone"] is not record["billingAddressPhone"]


def test_shared_default_address_notes_count_twice() -> None:
    event = upsert_event(
        customer(default_billing=7, default_shipping=7, addresses=[address(country_id="USA")])
    )
    result = MAPPER.map("CustomerUpdated", event)
    assert isinstance(result, Upsert)
    assert result.notes.count(COUNTRY_CODE_DROPPED) == 2


def test_shared_missing_default_address_is_counted_twice() -> None:
    event = upsert_event(customer(default_billing=99, default_shipping=99, addresses=[address()]))
    result = MAPPER.map("CustomerUpdated", event)
    assert isinstance(result, Upsert)
    assert result.notes == (DEFAULT_ADDRESS_NOT_FOUND, DEFAULT_ADDRESS_NOT_FOUND)
    assert "billingAddress" not in result.record
    assert "shippingAddress" not in result.record
