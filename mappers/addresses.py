"""A Commerce address to an XDM postal address and phone number."""

from __future__ import annotations

import re
from typing import Final

from mappers.events import Address, Customer
from mappers.notes import COUNTRY_CODE_DROPPED, STATE_PROVINCE_DROPPED
from mappers.subdivisions import known_subdivisions
from mappers.text import clean
from mappers.xdm_record import PhoneNumber, PostalAddress

_COUNTRY_CODE: Final = re.compile(r"[A-Z]{2}")
_SUBDIVISIONS: Final[frozenset[str]] = known_subdivisions()
# Lines from the fourth on share `street4`, the last street field XDM has.
_STREET_FIELDS: Final = 4
_STREET_JOIN: Final = ", "


def default_address(customer: Customer, address_id: int | None) -> Address | None:
    """The address a customer-level default id names (the address-level flags are ignored)."""
    if address_id is None:
        return None
    for address in customer.get("addresses", ()):
        if address["id"] == address_id:
            return address
    return None


def _put_streets(target: PostalAddress, lines: list[str]) -> None:
    # Blank lines are dropped and the rest move up: XDM has no use for an empty street2.
    kept = [line for line in (raw.strip() for raw in lines) if line]
    if len(kept) > _STREET_FIELDS:
        kept = [*kept[: _STREET_FIELDS - 1], _STREET_JOIN.join(kept[_STREET_FIELDS - 1 :])]
    count = len(kept)
    if count > 0:
        target["street1"] = kept[0]
    if count > 1:
        target["street2"] = kept[1]
    if count > 2:
        target["street3"] = kept[2]
    if count > 3:
        target["street4"] = kept[3]


def state_province(country_code: str, region_code: str) -> str | None:
    """`CC-RRR` when it is a real ISO 3166-2 subdivision of the country, else None."""
    code = region_code.strip().upper()
    candidate = code if code.startswith(country_code + "-") else f"{country_code}-{code}"
    return candidate if candidate in _SUBDIVISIONS else None


def map_address(address: Address, notes: list[str]) -> tuple[PostalAddress, PhoneNumber | None]:
    """The postal address and phone of a Commerce address; the outcomes to count are appended
    to `notes`. The address may come out empty."""
    fields: PostalAddress = {}
    _put_streets(fields, address["street"])
    city = clean(address["city"])
    if city is not None:
        fields["city"] = city
    postal_code = clean(address.get("postcode"))
    if postal_code is not None:
        fields["postalCode"] = postal_code
    region = address.get("region")
    region_code = None
    if region is not None:
        state = clean(region.get("region"))
        if state is not None:
            fields["state"] = state
        region_code = clean(region.get("region_code"))
    country = address["country_id"].strip()
    if _COUNTRY_CODE.fullmatch(country):
        fields["countryCode"] = country
        if region_code is not None:
            subdivision = state_province(country, region_code)
            if subdivision is None:
                notes.append(STATE_PROVINCE_DROPPED)
            else:
                fields["stateProvince"] = subdivision
    else:
        notes.append(COUNTRY_CODE_DROPPED)
    telephone = clean(address["telephone"])
    phone: PhoneNumber | None = {"number": telephone} if telephone is not None else None
    return fields, phone
