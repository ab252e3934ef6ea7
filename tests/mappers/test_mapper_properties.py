"""Property-based tests: whatever the input, the mapper answers with a value, and every record it
emits is valid under the OFFICIAL XDM schemas (checked independently of `schemas.xdm`)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mappers import Delete, MapFailure, Mapper, MapperOptions, Upsert
from mappers.failures import dotted
from schemas.error_classes import ERROR_CLASSES, NOTE_CLASSES
from schemas.xdm import XdmOptions, compile_validator
from tests.mappers.official_xdm import empty_parts, official_violations

MAPPER = Mapper(MapperOptions(xdm=XdmOptions(audit_field_group=True)))
NO_EMAIL_IDENTITY = Mapper(MapperOptions(email_identity=False))
VALIDATOR = compile_validator(XdmOptions(audit_field_group=True))
PROPERTY_SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)

# Any Unicode text but lone surrogates (which no UTF-8 input can carry).
text = st.text(st.characters(exclude_categories=("Cs",)), max_size=24)
blankish = st.sampled_from(["", " ", "\t", "\u3000"])
names = st.one_of(
    st.none(),
    text,
    blankish,
    st.sampled_from(["Анна", "Ελένη", "陽菜", "ليلى", "Élodie", "O'Brien-Smith"]),
)
local_parts = st.from_regex(r"[A-Za-z0-9_+-]{1,10}(?:\.[A-Za-z0-9_+-]{1,10}){0,2}", fullmatch=True)
valid_emails = st.builds(
    lambda local, domain, pad: f"{pad}{local}@{domain}{pad}",
    local_parts,
    st.sampled_from(["example.com", "Example.ORG", "mail.example.net", "例え.jp"]),
    st.sampled_from(["", " ", "  "]),
)
emails = st.one_of(valid_emails, valid_emails, text)

moments = st.datetimes(
    min_value=datetime(1970, 1, 2),
    max_value=datetime(2100, 1, 1),
    timezones=st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=30)), UTC]),
)
valid_timestamps = st.one_of(
    moments,
    moments.map(lambda moment: int(moment.timestamp() * 1000)),
    moments.map(lambda moment: moment.isoformat()),
    moments.map(lambda moment: moment.isoformat().replace("+00:00", "Z")),
)
timestamps = st.one_of(
    valid_timestamps,
    valid_timestamps,
    valid_timestamps,
    valid_timestamps,
    # no offset, which is refused
    moments.map(lambda moment: moment.replace(tzinfo=None).isoformat()),
)
dobs = st.one_of(
    st.none(),
    st.dates(min_value=date(1, 1, 1)),
    st.dates(min_value=date(1900, 1, 1), max_value=date(2020, 1, 1)).map(date.isoformat),
    st.just("2000-02-29"),
    st.just("1999-02-29"),
)
regions = st.one_of(
    st.none(),
    st.fixed_dictionaries(
        {},
        optional={
            "region": names,
            "region_code": st.one_of(
                st.none(),
                st.sampled_from(["CA", "NY", "BY", "NDS", "13", "MOW", "XX", "I", "BJ", "DU"]),
                st.sampled_from(["CA", "BY", "13", "MOW", "I", "BJ", "DU", "US-TX"]),
                text,
            ),
            "region_id": st.one_of(st.none(), st.integers(0, 1000)),
        },
    ),
)
real_countries = st.sampled_from(["US", "DE", "RU", "GR", "JP", "CN", "AE", "FR"])
countries = st.one_of(
    real_countries, real_countries, real_countries, st.sampled_from(["USA", "us", ""]), text
)


@st.composite
def addresses(draw: st.DrawFn, address_id: int) -> dict[str, Any]:
    address = {
        "id": address_id,
        "firstname": draw(text),
        "lastname": draw(text),
        "street": draw(st.lists(st.one_of(text, blankish), max_size=6)),
        "city": draw(st.one_of(text, names.filter(lambda n: n is not None))),
        "country_id": draw(countries),
        "telephone": draw(st.one_of(text, st.just("+1 555-0100"))),
    }
    optional = {
        "region": regions,
        "postcode": st.one_of(st.none(), text),
        "company": st.one_of(st.none(), text),
        "default_billing": st.booleans(),
    }
    for key, strategy in optional.items():
        if draw(st.booleans()):
            address[key] = draw(strategy)
    return address


@st.composite
def customers(draw: st.DrawFn, with_addresses: bool = False) -> dict[str, Any]:
    if with_addresses:
        ids = draw(st.lists(st.integers(1, 10**6), min_size=1, max_size=3, unique=True))
    else:
        ids = draw(
            st.lists(
                st.integers(1, 10**6),
                min_size=draw(st.sampled_from([0, 1, 1])),
                max_size=4,
                unique=True,
            )
        )
    address_list = [draw(addresses(address_id)) for address_id in ids]
    known = st.sampled_from(ids) if ids else st.none()
    pick = st.one_of(st.none(), known, known, known, st.integers(1, 10**6))
    customer = {
        "id": draw(st.integers(1, 2**63 - 1)),
        "email": draw(emails),
        "website_id": draw(st.integers(0, 2**31 - 1)),
        "group_id": draw(st.integers(0, 10)),
        "created_at": draw(timestamps),
        "updated_at": draw(timestamps),
        "addresses": address_list,
    }
    optional = {
        "firstname": names,
        "lastname": names,
        "middlename": names,
        "prefix": names,
        "suffix": names,
        "dob": dobs,
        "gender": st.one_of(st.none(), st.integers(-3, 9)),
        "store_id": st.one_of(st.none(), st.integers(0, 100)),
        "created_in": names,
        "is_active": st.booleans(),
        "default_billing": pick,
        "default_shipping": pick,
        "is_subscribed": st.one_of(st.none(), st.booleans()),
        "custom_attributes": st.dictionaries(text, text, max_size=2),
    }
    for key, strategy in optional.items():
        if draw(st.booleans()):
            customer[key] = draw(strategy)
    if with_addresses:
        customer["default_billing"] = draw(st.sampled_from(ids))
        customer["default_shipping"] = draw(st.sampled_from(ids))
        for field in ("created_at", "updated_at"):
            customer[field] = draw(valid_timestamps)
        customer["email"] = draw(valid_emails)
    return customer


envelopes = st.fixed_dictionaries(
    {
        "event_id": st.uuids().map(str),
        "event_time": timestamps,
        "source": text,
        "scope": st.fixed_dictionaries(
            {"website_code": text},
            optional={"store_code": st.one_of(st.none(), text), "store_view_code": text},
        ),
    }
)
upsert_events = st.builds(
    lambda envelope, customer: {**envelope, "customer": customer}, envelopes, customers()
)
delete_events = st.builds(
    lambda envelope, customer_id, email: {**envelope, "customer_id": customer_id, "email": email},
    envelopes,
    st.integers(1, 2**63 - 1),
    st.one_of(st.none(), text),
)
upserts_with_addresses = st.builds(
    lambda envelope, customer, moment: {**envelope, "event_time": moment, "customer": customer},
    envelopes,
    customers(with_addresses=True),
    valid_timestamps,
)
record_types = st.sampled_from(
    ["CustomerCreated", "CustomerUpdated", "commerce.customer.v1.CustomerUpdated"]
)

json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), text),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(text, inner, max_size=3)),
    max_leaves=12,
)


def assert_valid_output(result: Upsert | Delete) -> None:
    record = result.record
    assert official_violations(record) == []
    assert empty_parts(record) == []
    assert VALIDATOR.validate(record) == []
    primaries = [
        item for items in record["identityMap"].values() for item in items if item.get("primary")
    ]
    assert len(primaries) == 1
    assert primaries[0]["id"] == str(result.customer_id)


def assert_clean_failure(result: MapFailure) -> None:
    assert result.error_class in ERROR_CLASSES
    assert result.error_class.startswith("map.")
    # The message is fixed text plus the refused fields' paths: nothing from the input.
    head, _, paths = result.message.partition(": ")
    assert head in KNOWN_MESSAGES
    if paths:
        for path in paths.split(", "):
            assert path in result.fields
    for field in result.fields:
        assert all(part.isidentifier() or part.isdigit() for part in field.split("."))


KNOWN_MESSAGES = {
    "required field is missing or null",
    "field has the wrong type or value",
    "timestamp must be epoch milliseconds or ISO-8601 with a UTC offset",
    "date must be a calendar date YYYY-MM-DD",
    "e-mail address fails the format check",
    "event is not an object",
    "event is not valid",
    "unknown record type",
}


@PROPERTY_SETTINGS
@given(event=upsert_events, record_type=record_types)
def test_every_upsert_record_is_valid_under_the_official_schemas(
    event: dict[str, Any], record_type: str
) -> None:
    result = MAPPER.map(record_type, event)
    if isinstance(result, MapFailure):
        assert_clean_failure(result)
        return
    assert isinstance(result, Upsert)
    assert_valid_output(result)
    assert set(result.notes) <= set(NOTE_CLASSES)


@PROPERTY_SETTINGS
@given(event=upserts_with_addresses)
def test_records_with_addresses_are_valid_under_the_official_schemas(
    event: dict[str, Any],
) -> None:
    result = MAPPER.map("CustomerUpdated", event)
    if isinstance(result, MapFailure):
        # Only what the generator may still make invalid: a dob text or an address field.
        assert result.error_class in {"map.invalid_date", "map.missing_field", "map.invalid_field"}
        assert_clean_failure(result)
        return
    assert isinstance(result, Upsert)
    assert_valid_output(result)


@PROPERTY_SETTINGS
@given(event=upsert_events)
def test_without_email_identity_records_stay_valid(event: dict[str, Any]) -> None:
    result = NO_EMAIL_IDENTITY.map("CustomerCreated", event)
    if isinstance(result, Upsert):
        assert_valid_output(result)
        assert list(result.record["identityMap"]) == ["CustomerId"]


@PROPERTY_SETTINGS
@given(event=delete_events)
def test_every_delete_record_is_valid(event: dict[str, Any]) -> None:
    result = MAPPER.map("CustomerDeleted", event)
    if isinstance(result, MapFailure):
        assert_clean_failure(result)
        return
    assert isinstance(result, Delete)
    assert_valid_output(result)
    assert set(result.record) == {"_id", "identityMap"}


@PROPERTY_SETTINGS
@given(
    record_type=st.one_of(record_types, st.just("CustomerDeleted"), text),
    event=st.one_of(
        json_values,
        st.dictionaries(text, json_values, max_size=5),
        upsert_events.flatmap(lambda event: _corrupt(event)),
    ),
)
def test_any_input_gives_a_value_never_an_exception(record_type: str, event: Any) -> None:
    result = MAPPER.map(record_type, event)
    assert isinstance(result, Upsert | Delete | MapFailure)
    if isinstance(result, MapFailure):
        assert_clean_failure(result)
    else:
        assert_valid_output(result)


def _corrupt(event: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    """The event with one field anywhere in it replaced by an arbitrary JSON value or removed."""
    paths: list[tuple[str | int, ...]] = []

    def collect(value: Any, path: tuple[str | int, ...]) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                paths.append((*path, key))
                collect(item, (*path, key))
        elif isinstance(value, list):
            for index, item in enumerate(value):
                paths.append((*path, index))
                collect(item, (*path, index))

    collect(event, ())

    def apply(path: tuple[str | int, ...], replacement: Any, remove: bool) -> dict[str, Any]:
        copy = _deep_copy(event)
        target: Any = copy
        for part in path[:-1]:
            target = target[part]
        if remove and isinstance(target, dict):
            del target[path[-1]]
        else:
            target[path[-1]] = replacement
        return copy

    return st.builds(apply, st.sampled_from(paths), json_values, st.booleans())


def _deep_copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _deep_copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_deep_copy(item) for item in value]
    return value


def test_dotted_paths() -> None:
    assert dotted(("customer", "addresses", 2, "city")) == "customer.addresses.2.city"
