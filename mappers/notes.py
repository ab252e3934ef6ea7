"""Names of the mapper's error classes and counted outcomes (registered in
`schemas.error_classes`; a test checks that every name here is registered there)."""

from __future__ import annotations

from typing import Final

# Error classes: the event is refused.
INVALID_JSON: Final = "map.invalid_json"
INVALID_EVENT: Final = "map.invalid_event"
UNKNOWN_RECORD_TYPE: Final = "map.unknown_record_type"
MISSING_FIELD: Final = "map.missing_field"
INVALID_FIELD: Final = "map.invalid_field"
INVALID_TIMESTAMP: Final = "map.invalid_timestamp"
INVALID_DATE: Final = "map.invalid_date"
INVALID_EMAIL: Final = "map.invalid_email"

ERROR_CLASSES: Final = (
    INVALID_JSON,
    INVALID_EVENT,
    UNKNOWN_RECORD_TYPE,
    MISSING_FIELD,
    INVALID_FIELD,
    INVALID_TIMESTAMP,
    INVALID_DATE,
    INVALID_EMAIL,
)

# Counted outcomes: the record is sent, without the named part.
COUNTRY_CODE_DROPPED: Final = "map.country_code_dropped"
STATE_PROVINCE_DROPPED: Final = "map.state_province_dropped"
GENDER_UNKNOWN: Final = "map.gender_unknown"
DEFAULT_ADDRESS_NOT_FOUND: Final = "map.default_address_not_found"

NOTE_CLASSES: Final = (
    COUNTRY_CODE_DROPPED,
    STATE_PROVINCE_DROPPED,
    GENDER_UNKNOWN,
    DEFAULT_ADDRESS_NOT_FOUND,
)
