"""Typed model of the XDM Individual Profile record, in the field names AEP ingests (XED form).

The model is a set of TypedDicts: the mapper builds the plain dicts the inlet takes (no object
model to dump at 15,000 records per second and core), mypy checks every key and value type, and
the tests validate records against the same definitions with pydantic root models
(`extra="forbid"` keeps any other key out). Optional keys are
`NotRequired`; the mapper leaves a key out rather than write null, an empty string or an empty
object. The tenant object `_{tenant_id}` has a name only known at run time, so it is added
beside the typed keys.
"""

from __future__ import annotations

from typing import Annotated, Final, Literal, NotRequired

from pydantic import ConfigDict, Field, with_config
from typing_extensions import TypedDict

from schemas.genders import Gender

AccountStatus = Literal["active", "inactive", "disabled", "other"]
AuthenticatedState = Literal["ambiguous", "authenticated", "loggedOut"]
NonEmpty = Annotated[str, Field(min_length=1)]

_CONFIG: Final = ConfigDict(extra="forbid", hide_input_in_errors=True, strict=True)


@with_config(_CONFIG)
class IdentityItem(TypedDict):
    id: NonEmpty
    authenticatedState: NotRequired[AuthenticatedState]
    primary: bool


@with_config(_CONFIG)
class PersonName(TypedDict, total=False):
    firstName: NonEmpty
    middleName: NonEmpty
    lastName: NonEmpty
    courtesyTitle: NonEmpty
    suffix: NonEmpty


@with_config(_CONFIG)
class Person(TypedDict, total=False):
    name: PersonName
    birthDate: Annotated[str, Field(pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]
    birthDayAndMonth: Annotated[str, Field(pattern=r"^[0-1][0-9]-[0-9][0-9]$")]
    birthYear: Annotated[int, Field(ge=1, le=32767)]
    gender: Gender


@with_config(_CONFIG)
class EmailAddress(TypedDict):
    address: NonEmpty


@with_config(_CONFIG)
class PhoneNumber(TypedDict):
    number: NonEmpty


@with_config(_CONFIG)
class PostalAddress(TypedDict, total=False):
    street1: NonEmpty
    street2: NonEmpty
    street3: NonEmpty
    street4: NonEmpty
    city: NonEmpty
    postalCode: NonEmpty
    state: NonEmpty
    countryCode: Annotated[str, Field(pattern=r"^[A-Z]{2}$")]
    stateProvince: Annotated[str, Field(pattern=r"^[A-Z]{2}-[A-Z0-9]{1,3}$")]


XdmDateTime = Annotated[
    str, Field(pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$")
]


@with_config(_CONFIG)
class UserAccount(TypedDict):
    ID: NonEmpty
    startDate: XdmDateTime
    status: AccountStatus


@with_config(_CONFIG)
class ExtSourceSystemAudit(TypedDict):
    createdDate: XdmDateTime
    lastUpdatedDate: XdmDateTime


@with_config(_CONFIG)
class CommerceTenantFields(TypedDict):
    """`_{tenant}.commerce`: the Commerce-only fields no standard field group has a home for
    (`schemas/xdm/tenant/commerce-fields.fieldgroup.json`)."""

    websiteId: int
    websiteCode: NotRequired[NonEmpty]
    storeId: NotRequired[int]
    storeCode: NotRequired[NonEmpty]
    storeViewCode: NotRequired[NonEmpty]
    groupId: int
    createdIn: NotRequired[NonEmpty]
    isSubscribed: NotRequired[bool]


@with_config(_CONFIG)
class ProfileRecord(TypedDict):
    """One `xdmEntity` of class XDM Individual Profile (without the tenant object)."""

    _id: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    identityMap: dict[str, list[IdentityItem]]
    person: NotRequired[Person]
    personalEmail: NotRequired[EmailAddress]
    billingAddress: NotRequired[PostalAddress]
    billingAddressPhone: NotRequired[PhoneNumber]
    shippingAddress: NotRequired[PostalAddress]
    shippingAddressPhone: NotRequired[PhoneNumber]
    userAccount: NotRequired[UserAccount]
    extSourceSystemAudit: NotRequired[ExtSourceSystemAudit]


@with_config(_CONFIG)
class DeleteRecord(TypedDict):
    """The record of a Data Prep delete: the record id and the `CustomerId` identity only."""

    _id: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    identityMap: dict[str, list[IdentityItem]]
