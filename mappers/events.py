"""Typed models of the three contract events (`contracts/commerce-events.md`).

One set of models reads both forms an event arrives in: the Avro datum (datetimes, dates) and the
JSON form of `profile-sync map` (ISO-8601 text or epoch milliseconds, `YYYY-MM-DD`). Extra fields
are ignored, as the contract says. Fields the mapping never reads (address names, company, fax,
VAT and tax ids, custom attributes) are not modelled, so they are neither checked nor copied.

The records are TypedDicts validated by pydantic: validation yields plain dicts, about a third
cheaper than model instances on the per-event hot path, and mypy still checks every access. The
root models at the end carry `hide_input_in_errors` (a TypedDict's own config cannot).
"""

from __future__ import annotations

import sys
from typing import Annotated, Final, Literal, NotRequired

from pydantic import ConfigDict, Field, RootModel, StrictBool
from typing_extensions import TypedDict

from mappers.timestamps import CalendarDate, Timestamp

RecordType = Literal["CustomerCreated", "CustomerUpdated", "CustomerDeleted"]
RECORD_TYPES: Final[tuple[RecordType, ...]] = (
    "CustomerCreated",
    "CustomerUpdated",
    "CustomerDeleted",
)
AVRO_NAMESPACE: Final = "commerce.customer.v1"

# Commerce ids are unsigned auto-increment keys; Avro `long` bounds them above.
EntityId = Annotated[int, Field(ge=1, le=2**63 - 1)]
SmallId = Annotated[int, Field(ge=0, le=2**31 - 1)]
# A length bound makes pydantic-core read the text as Unicode, which refuses lone surrogates
# (text no UTF-8 JSON can carry, so a record holding one could never be sent). The bound itself
# never binds: how long a text may be is for the record size check to say (AEP's 100 KB per
# record, `validate.record_too_large`), since the same text can fit in one record and not in one
# that carries more.
_NO_LENGTH_LIMIT: Final = sys.maxsize
Text = Annotated[str, Field(max_length=_NO_LENGTH_LIMIT)]


class CommerceScope(TypedDict):
    website_code: Text
    store_code: NotRequired[Text | None]
    store_view_code: NotRequired[Text | None]


class Region(TypedDict, total=False):
    region: Text | None
    region_code: Text | None
    region_id: int | None


class Address(TypedDict):
    id: EntityId
    street: list[Text]
    city: Text
    region: NotRequired[Region | None]
    postcode: NotRequired[Text | None]
    country_id: Text
    telephone: Text


class Customer(TypedDict):
    id: EntityId
    email: Text
    firstname: NotRequired[Text | None]
    lastname: NotRequired[Text | None]
    middlename: NotRequired[Text | None]
    prefix: NotRequired[Text | None]
    suffix: NotRequired[Text | None]
    dob: NotRequired[CalendarDate | None]
    gender: NotRequired[int | None]
    website_id: SmallId
    store_id: NotRequired[SmallId | None]
    group_id: SmallId
    created_at: Timestamp
    updated_at: Timestamp
    created_in: NotRequired[Text | None]
    # Strict: a text "false" must not silently become an active account. Default: true.
    is_active: NotRequired[StrictBool]
    default_billing: NotRequired[EntityId | None]
    default_shipping: NotRequired[EntityId | None]
    addresses: NotRequired[list[Address]]
    is_subscribed: NotRequired[StrictBool | None]


class CustomerUpserted(TypedDict):
    """`CustomerCreated` and `CustomerUpdated`: both carry the whole customer snapshot."""

    event_id: Annotated[str, Field(min_length=1, max_length=_NO_LENGTH_LIMIT)]
    event_time: Timestamp
    source: Text
    scope: CommerceScope
    customer: Customer


class CustomerDeleted(TypedDict):
    event_id: Annotated[str, Field(min_length=1, max_length=_NO_LENGTH_LIMIT)]
    event_time: Timestamp
    source: Text
    scope: CommerceScope
    customer_id: EntityId
    email: NotRequired[Text | None]
    website_id: NotRequired[SmallId | None]


_CONFIG: Final = ConfigDict(hide_input_in_errors=True)


class CustomerUpsertedModel(RootModel[CustomerUpserted]):
    """Validates a `CustomerCreated` / `CustomerUpdated` event (`.root` is the typed dict)."""

    model_config = _CONFIG


class CustomerDeletedModel(RootModel[CustomerDeleted]):
    """Validates a `CustomerDeleted` event (`.root` is the typed dict)."""

    model_config = _CONFIG


def short_record_type(record_type: str) -> str:
    """`CustomerCreated` from either the short name or the Avro full name."""
    prefix = AVRO_NAMESPACE + "."
    return record_type[len(prefix) :] if record_type.startswith(prefix) else record_type
