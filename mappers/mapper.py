"""Commerce customer event -> XDM Individual Profile record (pure, no I/O)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, cast

from pydantic import ValidationError

from mappers import notes
from mappers.addresses import default_address, map_address
from mappers.decoded_events import decoded_upsert
from mappers.email import clean_email
from mappers.events import (
    Customer,
    CustomerDeletedModel,
    CustomerUpserted,
    CustomerUpsertedModel,
    short_record_type,
)
from mappers.failures import failure_from
from mappers.options import MapperOptions
from mappers.record_id import record_id
from mappers.results import Delete, MapFailure, MapResult, Upsert
from mappers.text import clean
from mappers.timestamps import epoch_ms, xdm_datetime
from mappers.xdm_record import (
    CommerceTenantFields,
    DeleteRecord,
    IdentityItem,
    Person,
    PersonName,
    PhoneNumber,
    PostalAddress,
    ProfileRecord,
)
from schemas.genders import Gender

CUSTOMER_ID_NAMESPACE: Final = "CustomerId"
EMAIL_NAMESPACE: Final = "Email"
_UPSERT_TYPES: Final = frozenset({"CustomerCreated", "CustomerUpdated"})
_DELETE_TYPE: Final = "CustomerDeleted"
# (XDM person.name key, Commerce customer key)
_NAME_FIELDS: Final = (
    ("firstName", "firstname"),
    ("middleName", "middlename"),
    ("lastName", "lastname"),
    ("courtesyTitle", "prefix"),
    ("suffix", "suffix"),
)


class Mapper:
    """Maps one decoded event at a time; holds only its options, so one instance serves all."""

    def __init__(self, options: MapperOptions | None = None) -> None:
        self._options = options or MapperOptions()

    @property
    def options(self) -> MapperOptions:
        return self._options

    def map(self, record_type: str, event: Mapping[str, Any]) -> MapResult:
        """An Upsert, a Delete or a MapFailure; bad input never raises."""
        return self._map(record_type, event, decoded=False)

    def map_decoded(self, record_type: str, datum: Mapping[str, Any]) -> MapResult:
        """`map` for a datum of the shipped Avro reader schema of `record_type` (what
        `schemas.avro.EventDecoder` returns): the same result, with less checking of what Avro
        already checked (`mappers.decoded_events`)."""
        return self._map(record_type, datum, decoded=True)

    def _map(self, record_type: str, event: Mapping[str, Any], *, decoded: bool) -> MapResult:
        if not isinstance(event, Mapping):
            return MapFailure(notes.INVALID_EVENT, "event is not an object", ())
        short_type = short_record_type(record_type) if isinstance(record_type, str) else ""
        if short_type in _UPSERT_TYPES:
            return self._upsert(short_type, event, decoded)
        if short_type == _DELETE_TYPE:
            return self._delete(event)
        return MapFailure(notes.UNKNOWN_RECORD_TYPE, "unknown record type", ())

    def _upsert(self, record_type: str, raw: Mapping[str, Any], decoded: bool) -> MapResult:
        event = decoded_upsert(raw) if decoded else None
        if event is None:
            # The model reads every other event, and words every refusal.
            try:
                event = CustomerUpsertedModel.model_validate(raw).root
            except ValidationError as error:
                return failure_from(error, _customer_id_of(raw.get("customer")))
        customer = event["customer"]
        customer_id = customer["id"]
        email = clean_email(customer["email"])
        if email is None:
            return MapFailure(
                notes.INVALID_EMAIL,
                "e-mail address fails the format check",
                ("customer.email",),
                customer_id,
            )
        found: list[str] = []
        identities: dict[str, list[IdentityItem]] = {
            CUSTOMER_ID_NAMESPACE: [_customer_identity(customer_id)]
        }
        if self._options.email_identity:
            identities[EMAIL_NAMESPACE] = [{"id": email.identity, "primary": False}]
        record: ProfileRecord = {
            "_id": record_id(event["event_id"], record_type),
            "identityMap": identities,
        }
        person = self._person(customer, found)
        if person:
            record["person"] = person
        record["personalEmail"] = {"address": email.address}
        billing_id = customer.get("default_billing")
        billing_notes = len(found)
        billing, billing_phone = self._default_address(customer, billing_id, found)
        if billing:
            record["billingAddress"] = billing
        if billing_phone is not None:
            record["billingAddressPhone"] = billing_phone
        shipping_id = customer.get("default_shipping")
        if shipping_id is not None and shipping_id == billing_id:
            # One address for both (the usual case): mapped once, its notes counted twice.
            shipping = billing.copy()
            shipping_phone = None if billing_phone is None else billing_phone.copy()
            found.extend(found[billing_notes:])
        else:
            shipping, shipping_phone = self._default_address(customer, shipping_id, found)
        if shipping:
            record["shippingAddress"] = shipping
        if shipping_phone is not None:
            record["shippingAddressPhone"] = shipping_phone
        created = xdm_datetime(customer["created_at"])
        record["userAccount"] = {
            "ID": str(customer_id),
            "startDate": created,
            "status": "active" if customer.get("is_active", True) else "inactive",
        }
        xdm = self._options.xdm
        if xdm.audit_field_group:
            record["extSourceSystemAudit"] = {
                "createdDate": created,
                "lastUpdatedDate": xdm_datetime(customer["updated_at"]),
            }
        # The tenant object's key is only known at run time, outside the typed record.
        entity = cast(dict[str, Any], record)
        if xdm.tenant_fields and xdm.tenant_id:
            entity[f"_{xdm.tenant_id}"] = {"commerce": _tenant_fields(event)}
        return Upsert(
            customer_id=customer_id,
            record=entity,
            event_order=(epoch_ms(customer["updated_at"]), epoch_ms(event["event_time"])),
            notes=tuple(found),
        )

    def _delete(self, raw: Mapping[str, Any]) -> MapResult:
        try:
            event = CustomerDeletedModel.model_validate(raw).root
        except ValidationError as error:
            return failure_from(error, _customer_id_of(raw))
        record: DeleteRecord = {
            "_id": record_id(event["event_id"], _DELETE_TYPE),
            "identityMap": {CUSTOMER_ID_NAMESPACE: [_customer_identity(event["customer_id"])]},
        }
        event_ms = epoch_ms(event["event_time"])
        return Delete(
            customer_id=event["customer_id"],
            record=cast(dict[str, Any], record),
            event_order=(event_ms, event_ms),
        )

    def _person(self, customer: Customer, found: list[str]) -> Person:
        name: PersonName = {}
        get = customer.get
        for key, source in _NAME_FIELDS:
            value = cast(str | None, get(source))
            # clean(), inlined: five fields per event.
            if value is not None:
                value = value.strip()
                if value:
                    name[key] = value  # type: ignore[literal-required]
        fields: Person = {}
        if name:
            fields["name"] = name
        dob = customer.get("dob")
        if dob is not None:
            fields["birthDate"] = dob.isoformat()
            fields["birthDayAndMonth"] = f"{dob.month:02d}-{dob.day:02d}"
            fields["birthYear"] = dob.year
        gender_id = customer.get("gender")
        if gender_id is not None:
            gender = self._options.gender_map.get(gender_id)
            if gender is None:
                found.append(notes.GENDER_UNKNOWN)
            else:
                # MapperOptions admits only XDM's enum values.
                fields["gender"] = cast(Gender, gender)
        return fields

    @staticmethod
    def _default_address(
        customer: Customer, address_id: int | None, found: list[str]
    ) -> tuple[PostalAddress, PhoneNumber | None]:
        """The address the id names, mapped (empty when there is none)."""
        address = default_address(customer, address_id)
        if address is None:
            if address_id is not None:
                found.append(notes.DEFAULT_ADDRESS_NOT_FOUND)
            return {}, None
        return map_address(address, found)


def _customer_identity(customer_id: int) -> IdentityItem:
    return {"id": str(customer_id), "authenticatedState": "authenticated", "primary": True}


def _tenant_fields(event: CustomerUpserted) -> CommerceTenantFields:
    customer = event["customer"]
    scope = event["scope"]
    fields: CommerceTenantFields = {
        "websiteId": customer["website_id"],
        "groupId": customer["group_id"],
    }
    for key, text in (
        ("websiteCode", scope["website_code"]),
        ("storeCode", scope.get("store_code")),
        ("storeViewCode", scope.get("store_view_code")),
        ("createdIn", customer.get("created_in")),
    ):
        cleaned = clean(text)
        if cleaned is not None:
            fields[key] = cleaned  # type: ignore[literal-required]
    store_id = customer.get("store_id")
    if store_id is not None:
        fields["storeId"] = store_id
    subscribed = customer.get("is_subscribed")
    if subscribed is not None:
        fields["isSubscribed"] = subscribed
    return fields


def _customer_id_of(raw: object) -> int | None:
    """The customer id of a refused event, when it is readable (for the dead-letter header)."""
    if not isinstance(raw, Mapping):
        return None
    value = raw.get("id", raw.get("customer_id"))
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 19:
        return int(value)
    return None
