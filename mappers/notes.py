"""The mapper's error classes and counted outcomes (defined in `schemas.error_classes`)."""

from __future__ import annotations

from typing import Final

from schemas.error_classes import (
    COUNTRY_CODE_DROPPED,
    DEFAULT_ADDRESS_NOT_FOUND,
    GENDER_UNKNOWN,
    INVALID_DATE,
    INVALID_EMAIL,
    INVALID_EVENT,
    INVALID_FIELD,
    INVALID_JSON,
    INVALID_TIMESTAMP,
    MISSING_FIELD,
    STATE_PROVINCE_DROPPED,
)
from schemas.error_classes import MAP_UNKNOWN_RECORD_TYPE as UNKNOWN_RECORD_TYPE

__all__ = [
    "COUNTRY_CODE_DROPPED",
    "DEFAULT_ADDRESS_NOT_FOUND",
    "ERROR_CLASSES",
    "GENDER_UNKNOWN",
    "INVALID_DATE",
    "INVALID_EMAIL",
    "INVALID_EVENT",
    "INVALID_FIELD",
    "INVALID_JSON",
    "INVALID_TIMESTAMP",
    "MISSING_FIELD",
    "NOTE_CLASSES",
    "STATE_PROVINCE_DROPPED",
    "UNKNOWN_RECORD_TYPE",
]

# Error classes: the event is refused.
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
NOTE_CLASSES: Final = (
    COUNTRY_CODE_DROPPED,
    STATE_PROVINCE_DROPPED,
    GENDER_UNKNOWN,
    DEFAULT_ADDRESS_NOT_FOUND,
)
