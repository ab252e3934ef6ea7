"""Table tests pinning every field the mapper writes."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest

from mappers import Delete, MapFailure, Mapper, MapperOptions, Upsert
from schemas.xdm import XdmOptions
from tests.mappers.inputs import EVENT_ID, address, customer, delete_event, upsert_event
from tests.mappers.record_models import DeleteRecordModel, check_profile_record

MAPPER = Mapper()


def upsert(event: dict[str, Any], mapper: Mapper = MAPPER, kind: str = "CustomerUpdated") -> Upsert:
    result = mapper.map(kind, event)
    assert isinstance(result, Upsert), result
    # Every record also fits the typed model of the XDM record.
    check_profile_record(result.record, mapper.options.xdm.tenant_id)
    return result


def failure(event: dict[str, Any], kind: str = "CustomerUpdated") -> MapFailure:
    result = MAPPER.map(kind, event)
    assert isinstance(result, MapFailure), result
    return result


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def test_full_customer_maps_to_exactly_this_record() -> None:
    billing = address()
    shipping = address(
        id=8,
        street=["5 Harbor Road"],
        city="Riverton",
        region={"region": "New York", "region_code": "NY", "region_id": 43},
        postcode="10001",
        telephone=" +1 555-0199 ",
    )
    event = upsert_event(
        customer(
            middlename="Lee",
            prefix="Dr.",
            suffix="Jr.",
            dob="1990-07-14",
            gender=1,
            default_billing=7,
            default_shipping=8,
            addresses=[billing, shipping],
            created_in="Default Store View",
            is_subscribed=True,
            taxvat="TX123",
            custom_attributes={"loyalty_tier": "gold"},
        )
    )
    result = upsert(event)
    assert result.customer_id == 42
    assert result.notes == ()
    assert result.event_order == (
        int(datetime(2026, 11, 28, 10, 15, 0, 250000, tzinfo=UTC).timestamp() * 1000),
        int(datetime(2026, 11, 28, 10, 15, 1, tzinfo=UTC).timestamp() * 1000),
    )
    assert result.record == {
        "_id": sha(f"{EVENT_ID}:CustomerUpdated"),
        "identityMap": {
            "CustomerId": [{"id": "42", "authenticatedState": "authenticated", "primary": True}],
            "Email": [{"id": "avery.hollis@example.com", "primary": False}],
        },
        "person": {
            "name": {
                "firstName": "Avery",
                "middleName": "Lee",
                "lastName": "Hollis",
                "courtesyTitle": "Dr.",
                "suffix": "Jr.",
            },
            "birthDate": "1990-07-14",
            "birthDayAndMonth": "07-14",
            "birthYear": 1990,
            "gender": "male",
        },
        "personalEmail": {"address": "avery.hollis@example.com"},
        "billingAddress": {
            "street1": "12 Maple Avenue",
            "street2": "Suite 4",
            "city": "Springfield",
            "postalCode": "90001",
            "state": "California",
            "countryCode": "US",
            "stateProvince": "US-CA",
        },
        "billingAddressPhone": {"number": "+1 555-0100"},
        "shippingAddress": {
            "street1": "5 Harbor Road",
            "city": "Riverton",
            "postalCode": "10001",
            "state": "New York",
            "countryCode": "US",
            "stateProvince": "US-NY",
        },
        "shippingAddressPhone": {"number": "+1 555-0199"},
        "userAccount": {"ID": "42", "startDate": "2026-01-05T08:00:00.000Z", "status": "active"},
        "extSourceSystemAudit": {
            "createdDate": "2026-01-05T08:00:00.000Z",
            "lastUpdatedDate": "2026-11-28T10:15:00.250Z",
        },
    }


def test_minimal_customer_has_no_empty_parts() -> None:
    result = upsert(upsert_event(customer(firstname=None, lastname=None)))
    assert set(result.record) == {
        "_id",
        "identityMap",
        "personalEmail",
        "userAccount",
        "extSourceSystemAudit",
    }


@pytest.mark.parametrize(
    ("first", "last"),
    [
        ("Анна", "Громова"),  # Cyrillic
        ("Ελένη", "Παπαδάκη"),  # Greek
        ("陽菜", "山田"),  # CJK
        ("ليلى", "الحداد"),  # Arabic
        ("Élodie", "Béranger"),  # Latin with diacritics
    ],
)
def test_names_in_any_script_are_kept_as_written(first: str, last: str) -> None:
    result = upsert(upsert_event(customer(firstname=first, lastname=f"  {last} ")))
    assert result.record["person"]["name"] == {"firstName": first, "lastName": last}


def test_blank_names_are_left_out() -> None:
    result = upsert(upsert_event(customer(firstname="  ", lastname="", middlename=None)))
    assert "person" not in result.record


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (["1 Main St"], {"street1": "1 Main St"}),
        (["1 Main St", "Apt 2"], {"street1": "1 Main St", "street2": "Apt 2"}),
        (["a", "b", "c"], {"street1": "a", "street2": "b", "street3": "c"}),
        (["a", "b", "c", "d"], {"street1": "a", "street2": "b", "street3": "c", "street4": "d"}),
        (
            ["a", "b", "c", "d", "e"],
            {"street1": "a", "street2": "b", "street3": "c", "street4": "d, e"},
        ),
        (
            ["a", "b", "c", "d", "e", "f"],
            {"street1": "a", "street2": "b", "street3": "c", "street4": "d, e, f"},
        ),
        (["a", "  ", "c"], {"street1": "a", "street2": "c"}),
        ([], {}),
    ],
)
def test_street_lines(lines: list[str], expected: dict[str, str]) -> None:
    event = upsert_event(customer(default_billing=7, addresses=[address(street=lines)]))
    billing = upsert(event).record["billingAddress"]
    streets = {key: value for key, value in billing.items() if key.startswith("street")}
    assert streets == expected


def test_addresses_come_from_the_customer_ids_not_the_address_flags() -> None:
    first = address(id=7, city="Springfield", default_billing=False, default_shipping=True)
    second = address(id=9, city="Fairview", default_billing=True, default_shipping=False)
    event = upsert_event(customer(default_billing=7, default_shipping=9, addresses=[first, second]))
    record = upsert(event).record
    assert record["billingAddress"]["city"] == "Springfield"
    assert record["shippingAddress"]["city"] == "Fairview"


def test_no_default_address_means_no_address_and_no_note() -> None:
    event = upsert_event(customer(addresses=[address()]))
    result = upsert(event)
    assert not {"billingAddress", "billingAddressPhone", "shippingAddress"} & set(result.record)
    assert result.notes == ()


def test_a_default_id_naming_no_address_is_counted() -> None:
    event = upsert_event(customer(default_billing=7, default_shipping=99, addresses=[address()]))
    result = upsert(event)
    assert "billingAddress" in result.record
    assert "shippingAddress" not in result.record
    assert "shippingAddressPhone" not in result.record
    assert result.notes == ("map.default_address_not_found",)


def test_address_without_region() -> None:
    event = upsert_event(customer(default_billing=7, addresses=[address(region=None)]))
    result = upsert(event)
    billing = result.record["billingAddress"]
    assert "state" not in billing
    assert "stateProvince" not in billing
    assert billing["countryCode"] == "US"
    assert result.notes == ()


def test_region_name_without_code_gives_state_only() -> None:
    region = {"region": "Lyon Métropole", "region_code": None, "region_id": None}
    event = upsert_event(
        customer(default_billing=7, addresses=[address(region=region, country_id="FR")])
    )
    result = upsert(event)
    assert result.record["billingAddress"]["state"] == "Lyon Métropole"
    assert "stateProvince" not in result.record["billingAddress"]
    assert result.notes == ()


@pytest.mark.parametrize(
    ("country", "code", "expected"),
    [
        ("US", "CA", "US-CA"),
        ("US", "ca", "US-CA"),
        ("US", "US-CA", "US-CA"),
        ("DE", "BY", "DE-BY"),
        ("RU", "MOW", "RU-MOW"),
        ("JP", "13", "JP-13"),
        ("GR", "I", "GR-I"),
    ],
)
def test_state_province_for_real_subdivisions(country: str, code: str, expected: str) -> None:
    region = {"region": "Somewhere", "region_code": code, "region_id": 1}
    event = upsert_event(
        customer(default_billing=7, addresses=[address(region=region, country_id=country)])
    )
    result = upsert(event)
    assert result.record["billingAddress"]["stateProvince"] == expected
    assert result.notes == ()


@pytest.mark.parametrize(
    ("country", "code"),
    [
        ("DE", "NDS"),  # Magento's code for Niedersachsen; ISO says DE-NI
        ("US", "XX"),
        ("US", "BY"),  # a real code, of another country
        ("FR", "Île-de-France"),
        ("US", "CA-1234"),
    ],
)
def test_region_code_that_is_not_iso_3166_2_is_dropped_and_counted(country: str, code: str) -> None:
    region = {"region": "Niedersachsen", "region_code": code, "region_id": 80}
    event = upsert_event(
        customer(default_billing=7, addresses=[address(region=region, country_id=country)])
    )
    result = upsert(event)
    billing = result.record["billingAddress"]
    assert "stateProvince" not in billing
    assert billing["state"] == "Niedersachsen"
    assert billing["countryCode"] == country
    assert result.notes == ("map.state_province_dropped",)


@pytest.mark.parametrize("country", ["USA", "us", "U", "", "1A"])
def test_country_code_not_two_upper_case_letters_keeps_the_address(country: str) -> None:
    event = upsert_event(customer(default_billing=7, addresses=[address(country_id=country)]))
    result = upsert(event)
    billing = result.record["billingAddress"]
    assert "countryCode" not in billing
    assert "stateProvince" not in billing
    assert billing["city"] == "Springfield"
    assert billing["street1"] == "12 Maple Avenue"
    assert result.record["billingAddressPhone"] == {"number": "+1 555-0100"}
    assert result.notes == ("map.country_code_dropped",)


def test_one_address_as_billing_and_shipping_counts_its_notes_twice() -> None:
    event = upsert_event(
        customer(default_billing=7, default_shipping=7, addresses=[address(country_id="USA")])
    )
    result = upsert(event)
    assert result.record["billingAddress"] == result.record["shippingAddress"]
    assert result.notes == ("map.country_code_dropped", "map.country_code_dropped")


def test_blank_telephone_gives_no_phone() -> None:
    event = upsert_event(customer(default_billing=7, addresses=[address(telephone="  ")]))
    assert "billingAddressPhone" not in upsert(event).record


@pytest.mark.parametrize("dob", ["1992-02-29", date(1992, 2, 29)])
def test_dob_29_february(dob: object) -> None:
    person = upsert(upsert_event(customer(dob=dob))).record["person"]
    assert person["birthDate"] == "1992-02-29"
    assert person["birthDayAndMonth"] == "02-29"
    assert person["birthYear"] == 1992


@pytest.mark.parametrize(
    "dob", ["1991-02-29", "1990-13-01", "14/07/1990", "1990-07-14T00:00:00Z", 0]
)
def test_invalid_dob_is_refused(dob: object) -> None:
    result = failure(upsert_event(customer(dob=dob)))
    assert result.error_class == "map.invalid_date"
    assert result.fields == ("customer.dob",)


@pytest.mark.parametrize(
    ("gender", "expected"),
    [(1, "male"), (2, "female"), (3, "not_specified")],
)
def test_gender_through_the_default_map(gender: int, expected: str) -> None:
    result = upsert(upsert_event(customer(gender=gender)))
    assert result.record["person"]["gender"] == expected
    assert result.notes == ()


def test_unknown_gender_id_is_left_out_and_counted() -> None:
    result = upsert(upsert_event(customer(gender=4)))
    assert "gender" not in result.record["person"]
    assert result.notes == ("map.gender_unknown",)


def test_null_gender_is_left_out_silently() -> None:
    result = upsert(upsert_event(customer(gender=None, firstname=None, lastname=None)))
    assert "person" not in result.record
    assert result.notes == ()


def test_gender_map_is_configurable() -> None:
    mapper = Mapper(MapperOptions(gender_map={1: "female", 7: "non_specific"}))
    assert upsert(upsert_event(customer(gender=7)), mapper).record["person"]["gender"] == (
        "non_specific"
    )
    assert upsert(upsert_event(customer(gender=1)), mapper).record["person"]["gender"] == "female"
    assert upsert(upsert_event(customer(gender=2)), mapper).notes == ("map.gender_unknown",)


def test_padded_upper_case_email() -> None:
    record = upsert(upsert_event(customer(email="  Avery.HOLLIS@Example.COM\t"))).record
    assert record["identityMap"]["Email"] == [{"id": "avery.hollis@example.com", "primary": False}]
    assert record["personalEmail"] == {"address": "Avery.HOLLIS@Example.COM"}


def test_email_identity_can_be_switched_off() -> None:
    mapper = Mapper(MapperOptions(email_identity=False))
    record = upsert(upsert_event(), mapper).record
    assert list(record["identityMap"]) == ["CustomerId"]
    assert record["personalEmail"] == {"address": "avery.hollis@example.com"}


def test_exactly_one_primary_identity() -> None:
    record = upsert(upsert_event()).record
    primaries = [
        (namespace, item["id"])
        for namespace, items in record["identityMap"].items()
        for item in items
        if item.get("primary")
    ]
    assert primaries == [("CustomerId", "42")]


@pytest.mark.parametrize(
    "email",
    [
        "avery.hollis",
        "avery@@example.com",
        "avery hollis@example.com",
        "avery@localhost",
        "avery@example.invalidtld",
        "",
        "   ",
        ".avery@example.com",
    ],
)
def test_invalid_email_refuses_the_event_without_showing_it(email: str) -> None:
    result = failure(upsert_event(customer(email=email)))
    assert result.error_class == "map.invalid_email"
    assert result.fields == ("customer.email",)
    assert result.customer_id == 42
    if email.strip():
        assert email.strip() not in result.message


@pytest.mark.parametrize(
    ("created_at", "updated_at", "start", "last"),
    [
        (
            1767600000000,
            1767600000123,
            "2026-01-05T08:00:00.000Z",
            "2026-01-05T08:00:00.123Z",
        ),
        (
            "2026-01-05T08:00:00Z",
            "2026-01-05T10:00:00.5+02:00",
            "2026-01-05T08:00:00.000Z",
            "2026-01-05T08:00:00.500Z",
        ),
        (
            datetime(2026, 1, 5, 8, 0, tzinfo=UTC),
            datetime(2026, 1, 5, 3, 0, 0, 999999, tzinfo=timezone(timedelta(hours=-5))),
            "2026-01-05T08:00:00.000Z",
            "2026-01-05T08:00:00.999Z",
        ),
    ],
)
def test_timestamps_in_every_form(created_at: Any, updated_at: Any, start: str, last: str) -> None:
    result = upsert(upsert_event(customer(created_at=created_at, updated_at=updated_at)))
    assert result.record["userAccount"]["startDate"] == start
    assert result.record["extSourceSystemAudit"] == {"createdDate": start, "lastUpdatedDate": last}
    expected_ms = int(datetime.fromisoformat(last.replace("Z", "+00:00")).timestamp() * 1000)
    assert result.event_order[0] == expected_ms


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("updated_at", "2026-11-28T10:15:00"),
        ("updated_at", "2026-11-28 10:15:00"),
        ("created_at", "2026-11-28"),
        ("created_at", datetime(2026, 11, 28, 10, 15)),
        ("updated_at", "yesterday"),
        ("updated_at", True),
        ("updated_at", 1.5e12),
        ("updated_at", 10**20),
    ],
)
def test_timestamp_without_offset_or_unreadable_is_refused(field: str, value: Any) -> None:
    result = failure(upsert_event(customer(**{field: value})))
    assert result.error_class == "map.invalid_timestamp"
    assert result.fields == (f"customer.{field}",)
    assert result.customer_id == 42


def test_event_time_without_offset_is_refused() -> None:
    result = failure(upsert_event(event_time="2026-11-28T10:15:01"))
    assert result.error_class == "map.invalid_timestamp"
    assert result.fields == ("event_time",)


def test_inactive_account() -> None:
    record = upsert(upsert_event(customer(is_active=False))).record
    assert record["userAccount"]["status"] == "inactive"


def test_audit_field_group_can_be_switched_off() -> None:
    mapper = Mapper(MapperOptions(xdm=XdmOptions(audit_field_group=False)))
    assert "extSourceSystemAudit" not in upsert(upsert_event(), mapper).record


def test_tenant_fields() -> None:
    mapper = Mapper(MapperOptions(xdm=XdmOptions(tenant_fields=True, tenant_id="acme")))
    event = upsert_event(
        customer(store_id=3, group_id=2, created_in="Default Store View", is_subscribed=False)
    )
    assert upsert(event, mapper).record["_acme"] == {
        "commerce": {
            "websiteId": 1,
            "websiteCode": "base",
            "storeId": 3,
            "storeCode": "main",
            "storeViewCode": "default",
            "groupId": 2,
            "createdIn": "Default Store View",
            "isSubscribed": False,
        }
    }
    minimal = upsert_event(customer(store_id=None), scope={"website_code": "base"})
    assert upsert(minimal, mapper).record["_acme"] == {
        "commerce": {"websiteId": 1, "groupId": 1, "websiteCode": "base"}
    }


def test_tenant_fields_are_off_by_default() -> None:
    record = upsert(upsert_event()).record
    assert not [key for key in record if key.startswith("_") and key != "_id"]


def test_record_id_is_per_event_and_record_type() -> None:
    created = upsert(upsert_event(), kind="CustomerCreated").record["_id"]
    updated = upsert(upsert_event(), kind="CustomerUpdated").record["_id"]
    other = upsert(upsert_event(event_id="another-event")).record["_id"]
    assert created == sha(f"{EVENT_ID}:CustomerCreated")
    assert len({created, updated, other}) == 3
    # The Avro full name gives the same id as the short name.
    full = upsert(upsert_event(), kind="commerce.customer.v1.CustomerCreated").record["_id"]
    assert full == created


def test_delete() -> None:
    result = MAPPER.map("CustomerDeleted", delete_event())
    assert isinstance(result, Delete)
    DeleteRecordModel.model_validate(result.record)
    assert result.customer_id == 42
    assert result.event_order == (1764324901000, 1764324901000)
    assert result.record == {
        "_id": sha(f"{EVENT_ID}:CustomerDeleted"),
        "identityMap": {
            "CustomerId": [{"id": "42", "authenticatedState": "authenticated", "primary": True}]
        },
    }


def test_delete_needs_only_the_customer_id() -> None:
    event = delete_event(email=None, website_id=None)
    assert isinstance(MAPPER.map("CustomerDeleted", event), Delete)
    event = delete_event()
    del event["email"], event["website_id"]
    assert isinstance(MAPPER.map("CustomerDeleted", event), Delete)


def test_delete_without_customer_id_is_refused() -> None:
    event = delete_event()
    del event["customer_id"]
    result = MAPPER.map("CustomerDeleted", event)
    assert isinstance(result, MapFailure)
    assert result.error_class == "map.missing_field"
    assert result.fields == ("customer_id",)


@pytest.mark.parametrize("kind", ["CustomerMerged", "", "commerce.customer.v2.CustomerCreated"])
def test_unknown_record_type(kind: str) -> None:
    assert failure(upsert_event(), kind).error_class == "map.unknown_record_type"


def test_event_that_is_not_an_object() -> None:
    result = MAPPER.map("CustomerCreated", ["not", "an", "object"])  # type: ignore[arg-type]
    assert isinstance(result, MapFailure)
    assert result.error_class == "map.invalid_event"


def test_missing_required_fields_are_named() -> None:
    data = customer()
    del data["email"], data["created_at"]
    data["group_id"] = None
    data["updated_at"] = None
    result = failure(upsert_event(data))
    assert result.error_class == "map.missing_field"
    assert set(result.fields) == {
        "customer.email",
        "customer.created_at",
        "customer.group_id",
        "customer.updated_at",
    }


def test_wrong_types_are_named_without_values() -> None:
    data = customer(id="forty-two", firstname=12345, is_active="yes")
    result = failure(upsert_event(data))
    assert result.error_class == "map.invalid_field"
    assert set(result.fields) == {"customer.id", "customer.firstname", "customer.is_active"}
    assert result.customer_id is None
    for value in ("forty-two", "12345", "yes"):
        assert value not in result.message


def test_address_fields_are_named_with_their_index() -> None:
    broken = address(id=8)
    del broken["city"]
    result = failure(upsert_event(customer(addresses=[address(), broken])))
    assert result.error_class == "map.missing_field"
    assert result.fields == ("customer.addresses.1.city",)


def test_numbers_as_text_are_accepted() -> None:
    # Commerce's own payloads often carry numbers as strings.
    result = upsert(upsert_event(customer(id="42", website_id="1", gender="2")))
    assert result.customer_id == 42
    assert result.record["person"]["gender"] == "female"


def test_extra_fields_are_ignored() -> None:
    data = customer(password_hash="secret", rp_token="t", unknown={"nested": 1})
    event = upsert_event(data, extra_envelope_field=True)
    assert upsert(event).record == upsert(upsert_event()).record


def test_text_no_record_could_carry_is_refused() -> None:
    result = failure(upsert_event(customer(firstname="a\ud800b")))
    assert result.error_class == "map.invalid_field"
    assert result.fields == ("customer.firstname",)


@pytest.mark.parametrize("length", [65_537, 70_000, 110_000])
def test_long_text_is_mapped_and_left_to_the_record_size_check(length: int) -> None:
    # No length limit of its own: whether the record fits AEP's 100 KB is checked after mapping.
    result = upsert(upsert_event(customer(firstname="x" * length)))
    assert len(result.record["person"]["name"]["firstName"]) == length


def test_non_positive_customer_id_is_refused() -> None:
    assert failure(upsert_event(customer(id=0))).fields == ("customer.id",)


def test_personal_data_never_reaches_a_failure() -> None:
    data = customer(
        email="avery.hollis@example.com",
        firstname="Avery",
        created_at="Avery Hollis 1990",
        dob="Hollis",
        gender="Springfield",
    )
    result = failure(upsert_event(data))
    text = f"{result.message} {result.fields}"
    for secret in ("Avery", "Hollis", "Springfield", "example.com", "1990"):
        assert secret not in text
